// Peak resident memory of the workerd processes under `wrangler dev`, sampled
// from /proc every 200 ms. workerd runs the Worker and its Durable Objects;
// wrangler's own Node process is not counted.

import { readdirSync, readFileSync } from "node:fs";

export interface MemorySampler {
  /** Peak of the summed VmRSS of the workerd processes, in MB, since the last mark(). */
  peakMb(): number;
  /** Starts a new phase: peakMb() then reports the peak of that phase only. */
  mark(): void;
  /** The peak over the sampler's whole life, in MB. */
  overallPeakMb(): number;
  stop(): void;
}

export function sampleWorkerdMemory(rootPid: number, everyMs = 200): MemorySampler {
  let phasePeak = 0;
  let overall = 0;
  const sample = () => {
    const kb = descendants(rootPid)
      .filter((pid) => processName(pid) === "workerd")
      .reduce((sum, pid) => sum + rssKb(pid), 0);
    const mb = kb / 1024;
    phasePeak = Math.max(phasePeak, mb);
    overall = Math.max(overall, mb);
  };
  const timer = setInterval(sample, everyMs);
  timer.unref();
  return {
    peakMb: () => phasePeak,
    mark: () => {
      phasePeak = 0;
    },
    overallPeakMb: () => overall,
    stop: () => clearInterval(timer),
  };
}

function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const ppid = parentOf(Number(name));
    if (ppid === null) continue;
    const list = children.get(ppid) ?? [];
    list.push(Number(name));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift() as number;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

function parentOf(pid: number): number | null {
  try {
    // The name may hold spaces and parentheses: the fields after the last ")" are fixed.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[1]);
  } catch {
    return null;
  }
}

function processName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

function rssKb(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}
