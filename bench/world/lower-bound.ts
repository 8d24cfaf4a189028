// The fastest any verifier could finish the list under the world's rules.
//
// Per MX address h (one server, however many names point at it) with R
// recipients (list addresses plus one catch-all probe per domain) and a cap
// of C connections per client:
//   sessions  S = ceil(R / rcptLimit)            (the server's recipient limit)
//   set-up    per session: banner + EHLO + MAIL  = bannerDelay + 2 × reply
//   busy(h)   = (S × set-up + R × reply) / C     (C sessions in parallel, no idle time)
// Greylisting servers (plain or catch-all) answer a recipient only on a try
// `greylistSeconds` after its first, so each recipient is asked twice: such a
// server finishes no sooner than that delay plus the busy time of the first
// tries, nor sooner than the busy time of all 2R tries. A rate-limited server
// talks only after its cool-down, so it finishes no sooner than the cool-down
// plus its busy time. A connection-rate-limited server admits N new
// connections from a client in any 1 s, so its S-th session opens no sooner
// than floor((S - 1) / N) s after the first and still needs its set-up and
// one RCPT. A tarpit, alone or behind many domains, costs one wait of the
// verifier's banner patience: the waits overlap, and one wait on a shared
// tarpit tells about every domain behind it. DNS, HTTP and the verifier's own
// work count as free. The bound is the largest of these.

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
  /** The slowest connection-rate-limited server: its busy time or its session openings, whichever is longer. */
  connRateMs: number;
  tarpitMs: number;
  /** The simpler formula: busiest MX + one set-up + greylist delay (added, not overlapped). */
  additiveMs: number;
}

const GREYLISTING: ReadonlySet<string> = new Set(["greylist", "greylist_catch_all"]);

export function lowerBound(
  params: WorldParams,
  load: MxLoad[],
  tarpitPatienceMs: number,
  hasTarpit: boolean,
): LowerBound {
  const setup = params.bannerDelayMs + 2 * params.replyLatencyMs;
  const busy = (rcpts: number) => {
    const sessions = Math.ceil(rcpts / params.rcptLimit);
    const ms = (sessions * setup + rcpts * params.replyLatencyMs) / params.connCap;
    // One session cannot be shorter than its own set-up plus one reply.
    return { sessions, ms: Math.max(ms, setup + params.replyLatencyMs) };
  };
  let busiest = { host: "-", ip: "-", rcpts: 0, sessions: 0, ms: 0 };
  let greylistMs = 0;
  let rateLimitMs = 0;
  let connRateMs = 0;
  for (const l of load) {
    const b = busy(l.rcpts);
    if (b.ms > busiest.ms)
      busiest = { host: l.host, ip: l.ip, rcpts: l.rcpts, sessions: b.sessions, ms: b.ms };
    if (GREYLISTING.has(l.behaviour))
      greylistMs = Math.max(greylistMs, params.greylistSeconds * 1000 + b.ms, busy(2 * l.rcpts).ms);
    if (l.behaviour === "rate_limit")
      rateLimitMs = Math.max(rateLimitMs, params.rateLimitSeconds * 1000 + b.ms);
    if (l.behaviour === "conn_rate") {
      const lastOpen = Math.floor((b.sessions - 1) / Math.max(1, params.connRatePerSecond)) * 1000;
      connRateMs = Math.max(connRateMs, b.ms, lastOpen + setup + params.replyLatencyMs);
    }
  }
  const tarpitMs = hasTarpit ? tarpitPatienceMs : 0;
  const candidates: [string, number][] = [
    [`busiest MX (${busiest.host})`, busiest.ms],
    ["greylist delay + greylisting MX", greylistMs],
    ["rate-limit cool-down + its MX", rateLimitMs],
    ["connection rate of its MX", connRateMs],
    ["tarpit patience", tarpitMs],
  ];
  const [bindingConstraint, ms] = candidates.reduce((a, b) => (b[1] > a[1] ? b : a));
  const greylistDelay = load.some((l) => GREYLISTING.has(l.behaviour)) ? params.greylistSeconds * 1000 : 0;
  return {
    ms,
    bindingConstraint,
    busiest,
    greylistMs,
    rateLimitMs,
    connRateMs,
    tarpitMs,
    additiveMs: busiest.ms + setup + greylistDelay,
  };
}
