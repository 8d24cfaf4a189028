import { describe, expect, it } from "vitest";
import {
  classifyResponse,
  JITTER,
  MAX_ATTEMPTS,
  MAX_RETRY_AFTER_MS,
  nextAttemptDelayMs,
  parseRetryAfterMs,
  RETRY_DELAYS_MS,
} from "../../src/webhooks/schedule";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const middle = () => 0.5; // jitter factor exactly 1
const lowest = () => 0;
const highest = () => 0.999_999;

/** Total wait from the first attempt to the last, with one random source. */
function span(random: () => number): number {
  let total = 0;
  for (let attempt = 1; ; attempt++) {
    const delay = nextAttemptDelayMs(attempt, random);
    if (delay === null) return total;
    total += delay;
  }
}

describe("the retry schedule", () => {
  it("spans about three days from the first attempt to the last", () => {
    expect(span(middle)).toBeGreaterThan(3 * DAY);
    expect(span(middle)).toBeLessThan(3.3 * DAY);
    expect(span(lowest)).toBeGreaterThan(2.5 * DAY);
    expect(span(highest)).toBeLessThan(3.8 * DAY);
  });

  it("starts within seconds and never shortens its steps", () => {
    expect(nextAttemptDelayMs(1, middle)).toBe(5_000);
    for (let i = 1; i < RETRY_DELAYS_MS.length; i++) {
      expect(RETRY_DELAYS_MS[i]).toBeGreaterThanOrEqual(RETRY_DELAYS_MS[i - 1]!);
    }
  });

  it("keeps every jittered delay within ±20% of its step", () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const seen = new Set<number>();
    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
      const base = RETRY_DELAYS_MS[attempt - 1]!;
      for (let i = 0; i < 200; i++) {
        const delay = nextAttemptDelayMs(attempt, random)!;
        expect(delay).toBeGreaterThanOrEqual(Math.floor(base * (1 - JITTER)));
        expect(delay).toBeLessThanOrEqual(Math.ceil(base * (1 + JITTER)));
        seen.add(delay);
      }
    }
    // The jitter actually spreads the delays.
    expect(seen.size).toBeGreaterThan(1000);
  });

  it("gives up after the last attempt", () => {
    expect(MAX_ATTEMPTS).toBe(10);
    expect(nextAttemptDelayMs(MAX_ATTEMPTS - 1, middle)).toBe(DAY);
    expect(nextAttemptDelayMs(MAX_ATTEMPTS, middle)).toBeNull();
    expect(nextAttemptDelayMs(MAX_ATTEMPTS + 5, middle)).toBeNull();
    // A Retry-After does not buy extra attempts.
    expect(nextAttemptDelayMs(MAX_ATTEMPTS, middle, "60")).toBeNull();
  });

  it("refuses attempt numbers below 1", () => {
    expect(() => nextAttemptDelayMs(0, middle)).toThrow(RangeError);
    expect(() => nextAttemptDelayMs(1.5, middle)).toThrow(RangeError);
  });
});

describe("Retry-After", () => {
  const now = Date.UTC(2026, 5, 1, 12, 0, 0);

  it("takes a longer Retry-After in seconds over the schedule", () => {
    expect(nextAttemptDelayMs(1, middle, "120", now)).toBe(120_000);
  });

  it("keeps the schedule when Retry-After asks for less", () => {
    expect(nextAttemptDelayMs(3, middle, "1", now)).toBe(30 * 60_000);
  });

  it("honours an HTTP date", () => {
    const at = new Date(now + 3 * HOUR).toUTCString();
    expect(nextAttemptDelayMs(1, middle, at, now)).toBe(3 * HOUR);
  });

  it("caps Retry-After at 24 hours, as seconds or as a date", () => {
    expect(nextAttemptDelayMs(1, middle, String(7 * 86_400), now)).toBe(MAX_RETRY_AFTER_MS);
    expect(nextAttemptDelayMs(2, middle, new Date(now + 10 * DAY).toUTCString(), now)).toBe(DAY);
    // A step longer than the cap keeps its own length.
    expect(nextAttemptDelayMs(9, highest, String(7 * 86_400), now)).toBeGreaterThan(DAY);
  });

  it("ignores dates in the past and unreadable values", () => {
    const past = new Date(now - HOUR).toUTCString();
    for (const header of [past, "soon", "-5", "1.5", "", "   ", null, undefined]) {
      expect(nextAttemptDelayMs(2, middle, header, now), String(header)).toBe(5 * 60_000);
    }
  });

  it("parses the obsolete HTTP date formats too", () => {
    const at = Date.UTC(2026, 5, 1, 13, 0, 0);
    expect(parseRetryAfterMs("Mon, 01 Jun 2026 13:00:00 GMT", now)).toBe(at - now);
    expect(parseRetryAfterMs("Mon Jun  1 13:00:00 2026", now)).not.toBeNull();
    expect(parseRetryAfterMs(" 30 ", now)).toBe(30_000);
  });
});

describe("classifyResponse", () => {
  it.each([200, 201, 202, 204, 299])("%i is success", (status) => {
    expect(classifyResponse(status)).toBe("success");
  });

  it("410 Gone disables the endpoint", () => {
    expect(classifyResponse(410)).toBe("disable");
  });

  it.each([301, 302, 304, 307, 400, 401, 403, 404, 408, 413, 429, 500, 502, 503, 504])(
    "%i is retried",
    (status) => {
      expect(classifyResponse(status)).toBe("retry");
    },
  );
});
