import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { BINDING_LIMIT, rateLimit } from "../src/api/rate-limit";
import type { AppEnv } from "../src/api/types";
import wranglerToml from "../wrangler.toml?raw";

// The Rate Limiting binding's limit lives in wrangler.toml, where the code
// cannot read it: the code's copy must say the same, in every environment.

describe("RATE_LIMITER binding", () => {
  it("has the limit the code advertises, every 60 s, in every environment", () => {
    const blocks = [...wranglerToml.matchAll(/\[\[(?:env\.\w+\.)?ratelimits\]\][^[]*/g)].map((m) => m[0]);
    expect(blocks.length).toBe(2);
    for (const block of blocks) {
      expect(block).toMatch(/name = "RATE_LIMITER"/);
      expect(block).toContain(`simple = { limit = ${BINDING_LIMIT}, period = 60 }`);
    }
  });
});

describe("RATE_LIMIT_PER_MINUTE raised past the binding's limit", () => {
  it("takes the per-key limit away (measurement runs), rather than advertising a limit the binding does not keep", async () => {
    const app = new Hono<AppEnv>();
    app.use("*", async (c, next) => {
      c.set("keyId", `key_raised_${crypto.randomUUID()}`);
      await next();
    });
    app.use("*", rateLimit());
    app.get("/", (c) => c.text("ok"));
    const raised = { ...env, RATE_LIMIT_PER_MINUTE: String(BINDING_LIMIT * 100) };
    for (let i = 0; i < BINDING_LIMIT + 20; i++) {
      const res = await app.request("/", {}, raised);
      expect(res.status).toBe(200);
      expect(res.headers.get("ratelimit-limit")).toBeNull();
    }
    // The same key at the binding's own limit is refused past it.
    const app2 = new Hono<AppEnv>();
    app2.use("*", async (c, next) => {
      c.set("keyId", "key_at_limit");
      await next();
    });
    app2.use("*", rateLimit());
    app2.get("/", (c) => c.text("ok"));
    app2.onError((err, c) => c.text(String(err), (err as { status?: 429 }).status ?? 500));
    const atLimit = { ...env, RATE_LIMIT_PER_MINUTE: String(BINDING_LIMIT) };
    const statuses: number[] = [];
    for (let i = 0; i < BINDING_LIMIT * 2 + 5; i++)
      statuses.push((await app2.request("/", {}, atLimit)).status);
    expect(statuses).toContain(429);
  });
});
