// Open-loop polling: request k is due at start + k/rate whatever happened to
// the ones before it, so a slow answer delays no later request (closed-loop
// "send, wait, send" would hide slowness by sending less). Each answer that
// shows a job ended is passed to the pool, which replaces the job.

import { describe } from "../lib/http";
import type { MailvetApi } from "../lib/mailvet-api";
import { percentile } from "../lib/time";
import type { JobPool } from "./job-pool";
import { RequestStats } from "./stats";

const ENDED = new Set(["completed", "canceled", "error"]);
const POLL_TIMEOUT_MS = 15_000;

export interface PollerResult {
  stats: RequestStats;
  /** Slots that came due with no running job to poll. */
  skipped: number;
  /** How late requests left against their due time (client-side scheduling). */
  lagP99Ms: number | null;
  lagMaxMs: number | null;
  /** Polls sent per second over the window. */
  achievedRate: number;
}

export async function pollOpenLoop(opts: {
  api: MailvetApi;
  pool: JobPool;
  ratePerSecond: number;
  durationMs: number;
}): Promise<PollerResult> {
  const stats = new RequestStats([200]);
  const interval = 1000 / opts.ratePerSecond;
  const start = performance.now();
  const end = start + opts.durationMs;
  const lags: number[] = [];
  const inflight = new Set<Promise<void>>();
  let k = 0;
  let skipped = 0;

  const fire = (dueAt: number) => {
    const id = opts.pool.nextToPoll();
    if (!id) {
      skipped++;
      return;
    }
    lags.push(performance.now() - dueAt);
    stats.sent++;
    const p = opts.api.getJob(id, "", POLL_TIMEOUT_MS).then((res) => {
      stats.record(res.status, res.ms, () => describe("GET", `/email-validations/${id}`, res));
      if (res.status === 200 && ENDED.has(res.body?.status)) opts.pool.seenEnded(id, res.body.status);
    });
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  };

  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      // Everything due by now goes out now, late ones included: the schedule never slips.
      for (let due = start + k * interval; due <= now && due < end; due = start + k * interval) {
        fire(due);
        k++;
      }
      const nextDue = start + k * interval;
      if (nextDue >= end) return resolve();
      setTimeout(tick, Math.max(0, nextDue - performance.now()));
    };
    tick();
  });
  const elapsed = performance.now() - start;
  await Promise.all([...inflight]);
  return {
    stats,
    skipped,
    lagP99Ms: percentile(lags, 99),
    lagMaxMs: lags.length ? Math.max(...lags) : null,
    achievedRate: stats.sent / (elapsed / 1000),
  };
}
