// What a host object has learned about its server, as a pure state machine:
// how many sessions it tolerates (adaptive concurrency), whether it is
// throttling us (a growing back-off), whether it is silent or refusing
// connections (a circuit breaker with one trial connection after its
// window), and how many recipients (and refused recipients) one session
// may carry.

import type { SmtpReply } from "../verify/types";
import { retryDelayMs } from "./retry";

export interface HostHealth {
  /** Sessions we may hold at once now; between 1 and `cap`. */
  limit: number;
  /** The most we would ever hold (MX_CONCURRENCY, a profile, the connection budget). */
  cap: number;
  /** Clean sessions since the limit last moved; the limit grows back one step per GROW_AFTER. */
  clean: number;
  /** Throttling episodes in a row; each back-off is longer. */
  strikes: number;
  backoffUntil: number;
  /** Circuit breaker: no connection before this time, then one trial. */
  breakerUntil: number;
  breakerWindowMs: number;
  /** Why the breaker opened: what the queued recipients are told when there is no other exchanger. */
  breakerStatus: "timeout" | "unreachable" | null;
  /** Sessions in a row that broke before any answer. */
  broken: number;
  /** RCPTs per session, as learned from a 452 or known from a profile. */
  rcptsPerSession: number;
  /** Refused RCPTs one session may carry, as learned from the host's error limit; null while unknown. */
  errorsPerSession?: number | null;
  /** The reply behind the last refusal, for the recipients that time out waiting. */
  lastReply: SmtpReply | null;
}

const GROW_AFTER = 5;
const BREAKER_FIRST_MS = 60_000;
const BREAKER_MAX_MS = 30 * 60_000;
/** Sessions that break before any answer, in a row, before the host counts as down. */
const BROKEN_LIMIT = 3;

export function newHealth(cap: number, rcptsPerSession: number): HostHealth {
  return {
    limit: cap,
    cap,
    clean: 0,
    strikes: 0,
    backoffUntil: 0,
    breakerUntil: 0,
    breakerWindowMs: BREAKER_FIRST_MS,
    breakerStatus: null,
    broken: 0,
    rcptsPerSession,
    errorsPerSession: null,
    lastReply: null,
  };
}

/** Sessions that may be open now: none while backing off or while the breaker is open, one for its trial. */
export function sessionsAllowed(h: HostHealth, now: number): number {
  if (now < h.backoffUntil || now < h.breakerUntil) return 0;
  if (h.breakerStatus !== null) return 1; // half-open: one trial connection
  return h.limit;
}

/** When sessions may start again, if they may not now. */
export function pausedUntil(h: HostHealth, now: number): number | null {
  const until = Math.max(h.backoffUntil, h.breakerUntil);
  return until > now ? until : null;
}

/** A session that ended normally: the host is well; concurrency creeps back up. */
export function onCleanSession(h: HostHealth): HostHealth {
  const clean = h.clean + 1;
  const grow = clean >= GROW_AFTER && h.limit < h.cap;
  return {
    ...h,
    clean: grow ? 0 : clean,
    limit: grow ? h.limit + 1 : h.limit,
    strikes: 0,
    broken: 0,
    breakerStatus: null,
    breakerWindowMs: BREAKER_FIRST_MS,
  };
}

/**
 * "Too many connections" while `others` of our sessions were open: the host
 * takes fewer at once. Work goes on with those; no back-off. With none open,
 * the host is limiting our connection rate, not our concurrency: throttle.
 */
export function onTooManyConnections(
  h: HostHealth,
  others: number,
  now: number,
  reply: SmtpReply,
  ceilingMs: number,
): HostHealth {
  if (others === 0) return onThrottled(h, now, reply, ceilingMs);
  return { ...h, limit: Math.max(1, Math.min(h.limit, others)), clean: 0, lastReply: reply };
}

/** 421 or a 4.7.x throttling reply: halve the sessions and wait a growing while. */
export function onThrottled(h: HostHealth, now: number, reply: SmtpReply, ceilingMs: number): HostHealth {
  const strikes = h.strikes + 1;
  return {
    ...h,
    limit: Math.max(1, Math.floor(h.limit / 2)),
    clean: 0,
    strikes,
    backoffUntil: now + retryDelayMs(strikes, ceilingMs),
    lastReply: reply,
  };
}

/** The server would not greet us: open the breaker; a failed trial doubles its window. */
export function onUnreachable(h: HostHealth, now: number, status: "timeout" | "unreachable"): HostHealth {
  const reopened = h.breakerStatus !== null;
  const window = reopened ? Math.min(BREAKER_MAX_MS, h.breakerWindowMs * 2) : h.breakerWindowMs;
  return { ...h, breakerStatus: status, breakerUntil: now + window, breakerWindowMs: window, clean: 0 };
}

/** A session broke after the greeting; several in a row without an answer count as a dead host. */
export function onBroken(h: HostHealth, now: number, answered: number): HostHealth {
  if (answered > 0) return { ...h, broken: 0 };
  const broken = h.broken + 1;
  return broken >= BROKEN_LIMIT ? { ...onUnreachable(h, now, "unreachable"), broken: 0 } : { ...h, broken };
}

/** A 452 after `accepted` RCPTs: that is what one session carries here. */
export function onRecipientLimit(h: HostHealth, accepted: number): HostHealth {
  return { ...h, rcptsPerSession: Math.max(1, Math.min(h.rcptsPerSession, accepted)) };
}

/**
 * The host counts our refused RCPTs against an error limit: it began to
 * delay its replies, or dropped the session ("421 too many errors"), after
 * `errors` of them. Later sessions carry one fewer, so that not even their
 * QUIT meets the limit. No back-off: a fresh session is welcome.
 */
export function onErrorLimit(h: HostHealth, errors: number): HostHealth {
  const allowed = Math.max(1, errors - 1);
  return { ...h, errorsPerSession: Math.min(h.errorsPerSession ?? allowed, allowed) };
}
