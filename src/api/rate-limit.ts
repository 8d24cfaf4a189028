import type { MiddlewareHandler } from "hono";
import { readConfig } from "../config";
import { apiError } from "./errors";
import type { AppEnv } from "./types";

// The per-key request limit, counted by Cloudflare's Rate Limiting binding
// (RATE_LIMITER in wrangler.toml) instead of a call to the account's object
// on every request. The binding counts per Cloudflare location, approximately,
// over fixed 60-second periods, and answers only "allowed or not". So the
// headers say only what is known:
//   RateLimit-Limit and RateLimit-Policy ("<limit>;w=60") on every answer;
//   over the limit, 429 with RateLimit-Remaining: 0, and RateLimit-Reset and
//   Retry-After giving the seconds left in the current period (at most 60).
// No RateLimit-Remaining on allowed answers: the binding does not tell it, and
// an exact count would need the per-request round trip this replaces.

const PERIOD_SECONDS = 60;
/** simple.limit of RATE_LIMITER in wrangler.toml (test/rate-limit-config.test.ts holds them equal). */
export const BINDING_LIMIT = 600;

/** Seconds until the current period ends: periods are aligned to the clock's minutes. */
export function secondsLeftInPeriod(now: number): number {
  return Math.max(1, Math.ceil((PERIOD_SECONDS * 1000 - (now % (PERIOD_SECONDS * 1000))) / 1000));
}

export function rateLimit(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const limit = readConfig(c.env).rateLimitPerMinute;
    // Raised past the binding's limit (measurement runs do this with --var): no per-key limit at all.
    // To raise the limit in earnest, raise the binding's simple.limit and this var together.
    if (limit > BINDING_LIMIT) return next();
    c.header("RateLimit-Limit", String(limit));
    c.header("RateLimit-Policy", `${limit};w=${PERIOD_SECONDS}`);
    const { success } = await c.env.RATE_LIMITER.limit({ key: c.get("keyId") });
    if (!success) {
      const reset = String(secondsLeftInPeriod(Date.now()));
      throw apiError(
        429,
        "rate_limited",
        `Over ${limit} requests per minute for this key; retry after ${reset} s.`,
      ).withHeaders({ "RateLimit-Remaining": "0", "RateLimit-Reset": reset, "Retry-After": reset });
    }
    await next();
  };
}
