// When to try a failed webhook again. Pure, so the job object can store the
// next due time and the tests can walk the whole schedule without waiting.
//
// Schedule (delay after the Nth failed attempt, each ±20% jitter):
//   5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, 24 h, 24 h
// i.e. 10 attempts in all, the last about 3.15 days (2.5–3.8 with jitter)
// after the first. The early steps match Svix's schedule (quick recovery from
// a blip); the two 24 h steps stretch it over a long weekend's outage. Jitter
// spreads retries so that a receiver coming back is not hit by every job at once.
//
// Every non-2xx status is retried except 410 Gone (as Svix and Stripe do): a
// 400 or 404 is as often a receiver's deploy gone wrong as a permanent
// refusal, and the schedule is bounded anyway. 410 is the receiver's explicit
// "stop sending", so it disables the endpoint.

import { retryAfterMs } from "../lib/retry-after";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Delay before attempt N+1, indexed by N-1 (N = attempts made so far). */
export const RETRY_DELAYS_MS: readonly number[] = [
  5 * SECOND,
  5 * MINUTE,
  30 * MINUTE,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
  10 * HOUR,
  24 * HOUR,
  24 * HOUR,
];

/** The first attempt plus one per scheduled retry. */
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;

/** Each delay is scaled by a factor drawn uniformly from [1 - JITTER, 1 + JITTER). */
export const JITTER = 0.2;

/** A receiver's Retry-After can postpone the next attempt by this much at most. */
export const MAX_RETRY_AFTER_MS = 24 * HOUR;

export type ResponseClass = "success" | "retry" | "disable" | "fail";

/**
 * What an HTTP answer means for the message. "fail" (give up on this message
 * but keep the endpoint) is part of the vocabulary for callers, but the
 * current policy never returns it: every non-2xx other than 410 is retried.
 */
export function classifyResponse(status: number): ResponseClass {
  if (status >= 200 && status < 300) return "success";
  if (status === 410) return "disable";
  return "retry";
}

/**
 * How long to wait before the next attempt, or null when the schedule is spent.
 *
 * @param attempt attempts made so far, all failed (1 after the first failure)
 * @param random uniform in [0, 1), for the jitter (Math.random in production)
 * @param retryAfterHeader the receiver's Retry-After, passed only for 429/503:
 *   delta-seconds or an HTTP date. The later of it (capped) and the schedule wins.
 */
export function nextAttemptDelayMs(
  attempt: number,
  random: () => number,
  retryAfterHeader?: string | null,
  now: number = Date.now(),
): number | null {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError(`attempt must be ≥ 1, got ${attempt}`);
  const base = RETRY_DELAYS_MS[attempt - 1];
  if (base === undefined) return null;
  const scheduled = Math.round(base * (1 - JITTER + 2 * JITTER * random()));
  const requested = retryAfterMs(retryAfterHeader, now);
  if (requested === null) return scheduled;
  return Math.max(scheduled, Math.min(requested, MAX_RETRY_AFTER_MS));
}

export { retryAfterMs as parseRetryAfterMs };
