// The fastest any verifier could finish the list under the world's rules.
//
// Per MX address h with R recipients (list addresses plus one catch-all probe
// per domain) and a cap of C connections per client:
//   sessions  S = ceil(R / rcptLimit)            (the server's recipient limit)
//   set-up    per session: banner + EHLO + MAIL  = bannerDelay + 2 × reply
//   busy(h)   = (S × set-up + R × reply) / C     (C sessions in parallel, no idle time)
// Greylisted recipients can only be accepted `greylistSeconds` after their
// first try, and a rate-limited server talks only after its cool-down, so
// their servers finish no sooner than that delay plus their own busy time.
// A tarpit is given up after the verifier's banner patience. DNS, HTTP and
// the verifier's own work count as free. The bound is the largest of these.

import type { MxLoad } from "./generate";
import type { WorldParams } from "./params";

export interface LowerBound {
  /** The bound, in ms. */
  ms: number;
  /** Which constraint sets it. */
  bindingConstraint: string;
  busiest: { host: string; ip: string; rcpts: number; sessions: number; ms: number };
  greylistMs: number;
  rateLimitMs: number;
  tarpitMs: number;
  /** The simpler formula: busiest MX + one set-up + greylist delay (added, not overlapped). */
  additiveMs: number;
}

export function lowerBound(
  params: WorldParams,
  load: MxLoad[],
  tarpitPatienceMs: number,
  hasTarpit: boolean,
): LowerBound {
  const setup = params.bannerDelayMs + 2 * params.replyLatencyMs;
  const busy = (l: MxLoad) => {
    const sessions = Math.ceil(l.rcpts / params.rcptLimit);
    const ms = (sessions * setup + l.rcpts * params.replyLatencyMs) / params.connCap;
    // One session cannot be shorter than its own set-up plus one reply.
    return { sessions, ms: Math.max(ms, setup + params.replyLatencyMs) };
  };
  let busiest = { host: "-", ip: "-", rcpts: 0, sessions: 0, ms: 0 };
  let greylistMs = 0;
  let rateLimitMs = 0;
  for (const l of load) {
    const b = busy(l);
    if (b.ms > busiest.ms)
      busiest = { host: l.host, ip: l.ip, rcpts: l.rcpts, sessions: b.sessions, ms: b.ms };
    if (l.behaviour === "greylist") greylistMs = Math.max(greylistMs, params.greylistSeconds * 1000 + b.ms);
    if (l.behaviour === "rate_limit")
      rateLimitMs = Math.max(rateLimitMs, params.rateLimitSeconds * 1000 + b.ms);
  }
  const tarpitMs = hasTarpit ? tarpitPatienceMs : 0;
  const candidates: [string, number][] = [
    [`busiest MX (${busiest.host})`, busiest.ms],
    ["greylist delay + greylisting MX", greylistMs],
    ["rate-limit cool-down + its MX", rateLimitMs],
    ["tarpit patience", tarpitMs],
  ];
  const [bindingConstraint, ms] = candidates.reduce((a, b) => (b[1] > a[1] ? b : a));
  const greylistDelay = load.some((l) => l.behaviour === "greylist") ? params.greylistSeconds * 1000 : 0;
  return {
    ms,
    bindingConstraint,
    busiest,
    greylistMs,
    rateLimitMs,
    tarpitMs,
    additiveMs: busiest.ms + setup + greylistDelay,
  };
}
