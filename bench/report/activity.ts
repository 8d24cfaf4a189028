// Splits a job's wall time by what was on the wire: some SMTP session open,
// only tarpit connections open (the verifier waiting out its timeout), or
// nothing at all (DNS, D1 writes, alarm scheduling, waiting for a retry).

import type { Activity } from "../world/smtp";

export interface ActivityProfile {
  windowMs: number;
  /** At least one non-tarpit session open. */
  smtpMs: number;
  /** Only tarpit connections open. */
  tarpitOnlyMs: number;
  /** No connection open at all. */
  idleMs: number;
}

export function profileActivity(activity: Activity[], from: number, to: number): ActivityProfile {
  const clip = (a: Activity) => ({ start: Math.max(a.start, from), end: Math.min(a.end, to) });
  const smtp = union(activity.filter((a) => !a.tarpit).map(clip));
  const all = union(activity.map(clip));
  const windowMs = Math.max(0, to - from);
  return {
    windowMs,
    smtpMs: smtp,
    tarpitOnlyMs: all - smtp,
    idleMs: windowMs - all,
  };
}

/** Total length covered by a set of intervals. */
function union(intervals: { start: number; end: number }[]): number {
  const sorted = intervals.filter((i) => i.end > i.start).sort((a, b) => a.start - b.start);
  let total = 0;
  let curStart = Number.NEGATIVE_INFINITY;
  let curEnd = Number.NEGATIVE_INFINITY;
  for (const i of sorted) {
    if (i.start > curEnd) {
      if (curEnd > curStart) total += curEnd - curStart;
      curStart = i.start;
      curEnd = i.end;
    } else curEnd = Math.max(curEnd, i.end);
  }
  if (curEnd > curStart) total += curEnd - curStart;
  return total;
}
