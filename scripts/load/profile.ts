// A CPU profile of the worker while the load runs, through wrangler's
// DevTools inspector (CDP over a websocket): Profiler.start, then
// Profiler.stop returns a .cpuprofile that Chrome DevTools or
// `summarizeProfile` reads.

import { WebSocket } from "undici";

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
export interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export async function startProfile(inspectorPort: number): Promise<{ stop: () => Promise<CpuProfile> }> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json()) as {
    webSocketDebuggerUrl: string;
  }[];
  const url = targets[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error(`no inspector target on port ${inspectorPort}`);
  // wrangler's inspector proxy only accepts local origins.
  const ws = new WebSocket(url, { headers: { origin: "http://127.0.0.1" } });
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve(), { once: true });
    ws.addEventListener("error", (e) => reject(new Error(`inspector: ${String(e)}`)), { once: true });
  });
  let nextId = 1;
  const pending = new Map<number, (result: unknown) => void>();
  ws.addEventListener("message", (event) => {
    const msg = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
    if (msg.id !== undefined) pending.get(msg.id)?.(msg.result);
  });
  const send = (method: string, params: unknown = {}) =>
    new Promise<unknown>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 1000 });
  await send("Profiler.start");
  return {
    stop: async () => {
      const { profile } = (await send("Profiler.stop")) as { profile: CpuProfile };
      ws.close();
      return profile;
    },
  };
}

/** Self time per function (name and place), largest first, as shares of the sampled time. */
export function summarizeProfile(profile: CpuProfile, top = 25): { fn: string; ms: number; share: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i] as number;
    self.set(id, (self.get(id) ?? 0) + (deltas[i + 1] ?? deltas[i] ?? 0) / 1000);
  }
  const totals = new Map<string, number>();
  for (const [id, ms] of self) {
    const node = byId.get(id);
    if (!node) continue;
    const f = node.callFrame;
    const file = f.url.split("/").slice(-2).join("/");
    const key = `${f.functionName || "(anonymous)"} ${file}:${f.lineNumber + 1}`;
    totals.set(key, (totals.get(key) ?? 0) + ms);
  }
  const all = [...totals.values()].reduce((a, b) => a + b, 0) || 1;
  return [...totals.entries()]
    .map(([fn, ms]) => ({ fn, ms, share: ms / all }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, top);
}

/**
 * Inclusive time per function name (a function counts once per sample, however
 * deep it recurs), largest first: where the worker's time goes by entry point
 * (a poll's handler, an alarm, a host's report), beyond the leaf functions.
 */
export function inclusiveByName(profile: CpuProfile, top = 40): { fn: string; ms: number; share: number }[] {
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const totals = new Map<string, number>();
  let all = 0;
  for (let i = 0; i < samples.length; i++) {
    const ms = (deltas[i + 1] ?? deltas[i] ?? 0) / 1000;
    let id: number | undefined = samples[i];
    const leaf = id === undefined ? undefined : byId.get(id)?.callFrame.functionName;
    if (leaf === "(idle)") continue;
    all += ms;
    const seen = new Set<string>();
    while (id !== undefined) {
      const name = byId.get(id)?.callFrame.functionName || "(anonymous)";
      if (!seen.has(name)) {
        seen.add(name);
        totals.set(name, (totals.get(name) ?? 0) + ms);
      }
      id = parent.get(id);
    }
  }
  return [...totals.entries()]
    .map(([fn, ms]) => ({ fn, ms, share: ms / (all || 1) }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, top);
}
