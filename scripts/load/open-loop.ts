// Open-loop load: request k is due at start + k/rate whatever happened to the
// ones before it, so a slow answer delays no later request (a closed loop,
// "send, wait, send", would hide slowness by sending less). Requests that
// come due while `maxInFlight` are unanswered are not sent but counted as
// dropped: past that point the server is not keeping up anyway, and piling on
// thousands of connections only exhausts file descriptors (seen in workerd).

import type { HttpResult } from "../lib/http";
import { percentile } from "../lib/time";
import { RequestStats } from "./stats";

export interface OpenLoopResult {
  stats: RequestStats;
  /** Slots with nothing to send (no running job to poll). */
  idle: number;
  /** Slots not sent because too many requests were unanswered. */
  dropped: number;
  maxInFlight: number;
  /** How late requests left against their due time (client-side scheduling). */
  lagP99Ms: number | null;
  lagMaxMs: number | null;
  /** Requests sent per second over the window. */
  sentPerSecond: number;
}

export async function openLoop(opts: {
  ratePerSecond: number;
  durationMs: number;
  maxInFlight: number;
  /** Expected statuses; anything else is an error. */
  expected: number[];
  /** Starts one request, or returns null when there is nothing to ask. */
  send: () => { request: Promise<HttpResult>; describe: string } | null;
}): Promise<OpenLoopResult> {
  const stats = new RequestStats(opts.expected);
  const interval = 1000 / opts.ratePerSecond;
  const start = performance.now();
  const end = start + opts.durationMs;
  const lags: number[] = [];
  const inflight = new Set<Promise<void>>();
  let k = 0;
  let idle = 0;
  let dropped = 0;
  let maxInFlight = 0;

  const fire = (dueAt: number) => {
    if (inflight.size >= opts.maxInFlight) {
      dropped++;
      return;
    }
    const next = opts.send();
    if (!next) {
      idle++;
      return;
    }
    lags.push(performance.now() - dueAt);
    stats.sent++;
    const p = next.request.then((res) => {
      stats.record(res.status, res.ms, () =>
        res.status === 0 ? `${next.describe} → ${res.error}` : `${next.describe} → ${res.status} ${res.text}`,
      );
    });
    inflight.add(p);
    maxInFlight = Math.max(maxInFlight, inflight.size);
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
    idle,
    dropped,
    maxInFlight,
    lagP99Ms: percentile(lags, 99),
    lagMaxMs: lags.length ? Math.max(...lags) : null,
    sentPerSecond: stats.sent / (elapsed / 1000),
  };
}
