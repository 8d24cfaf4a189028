// Crashes at random points. A crash point is drawn as a share of the big job
// done (within a window per crash) plus a random delay, so the kill lands at
// an arbitrary moment of a batch: verifying, writing to D1, committing the
// object's state, delivering a webhook. The kill is `kill -9` of wrangler and
// every workerd under it; then wrangler dev starts again on the same state.

import type { Incidents } from "../lib/incidents";
import type { JobView, MailvetApi } from "../lib/mailvet-api";
import { type Deadline, sleep } from "../lib/time";
import type { WranglerDev } from "../lib/wrangler";

/** Shares of the big job's addresses at which crash 1, 2 and 3 may happen. */
export const CRASH_WINDOWS: readonly [number, number][] = [
  [0.05, 0.2],
  [0.35, 0.55],
  [0.65, 0.85],
];
/** Polls before a crash: a few per second keeps well under the per-key rate limit (600/min). */
const WATCH_EVERY_MS = 400;
const MAX_JITTER_MS = 1000;

export interface CrashRecord {
  n: number;
  /** ms since the run started, at the kill */
  at: number;
  targetProcessed: number;
  jitterMs: number;
  /** The last poll before the kill (work may have gone on during the jitter). */
  mainBefore: { status: string; processed: number };
  otherBefore?: { status: string; processed: number };
  killed: string[];
  /** kill → /health answers again */
  downMs: number;
  startupMs: number;
}

export const terminal = (status: string | undefined) =>
  status === "completed" || status === "canceled" || status === "error";

/** One poll; an unexpected answer is recorded and yields null. */
export async function poll(api: MailvetApi, id: string, incidents: Incidents): Promise<JobView | null> {
  const res = await api.getJob(id);
  if (!incidents.check("poll", `GET /email-validations/${id}?include=details`, res, [200])) return null;
  return res.body;
}

/**
 * Waits until the big job has done `target` addresses, or `otherDone` says the
 * other job must not go further, then a random delay. Throws if the job ends
 * first (the crash could not be placed) or stops moving.
 */
export async function waitForCrashPoint(opts: {
  api: MailvetApi;
  mainId: string;
  target: number;
  other?: { id: string; stopAt: number };
  incidents: Incidents;
  random: () => number;
  deadline: Deadline;
}): Promise<{ main: JobView; other?: JobView; jitterMs: number }> {
  let round = 0;
  for (;;) {
    const main = await poll(opts.api, opts.mainId, opts.incidents);
    // The other job is looked at every other round, to stay under the rate limit.
    const other =
      opts.other && round++ % 2 === 0 ? await poll(opts.api, opts.other.id, opts.incidents) : null;
    if (main && terminal(main.status))
      throw new Error(`the job ended (${main.status}) before the crash point of ${opts.target} addresses`);
    const mainThere = (main?.counts?.processed ?? 0) >= opts.target;
    const otherThere = !!other && !!opts.other && (other.counts?.processed ?? 0) >= opts.other.stopAt;
    if (main && (mainThere || otherThere)) {
      const jitterMs = Math.floor(opts.random() * MAX_JITTER_MS);
      await sleep(jitterMs);
      return { main, other: other ?? undefined, jitterMs };
    }
    opts.deadline.check();
    await sleep(WATCH_EVERY_MS);
  }
}

/** kill -9 of the whole wrangler tree, checked, then a restart on the same state directory. */
export async function crashAndRestart(
  wrangler: WranglerDev,
  api: MailvetApi,
  log: (line: string) => void,
): Promise<{ killed: string[]; downMs: number; startupMs: number }> {
  const killedAt = performance.now();
  const killed = await wrangler.crash();
  const names = killed.map((p) => `${p.comm}:${p.pid}`);
  log(`kill -9 → ${names.join(" ")} (all gone)`);
  const started = await wrangler.start();
  api.baseUrl = started.baseUrl;
  const downMs = performance.now() - killedAt;
  log(
    `restarted at ${started.baseUrl} in ${(started.startupMs / 1000).toFixed(1)} s (down ${(downMs / 1000).toFixed(1)} s)`,
  );
  return { killed: names, downMs, startupMs: started.startupMs };
}
