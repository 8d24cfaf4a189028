// GET /admin/probers: the prober pool as the worker sees it. Each prober's
// /health is asked now (a failure rests it, as a host object's pool would);
// with ?host=<ip>, the pool of that mail host's object too: which prober
// serves it, which it rests and why (host objects keep that in memory).

import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import pLimit from "p-limit";
import { z } from "zod";
import { readProberConfig } from "../config";
import { ipHostKey } from "../mx/key";
import { ProberPool, type ProberState } from "../mx/prober-pool";
import { hostStub } from "../mx/stub";
import { errorRefs } from "../openapi/components";
import { json, TAGS } from "../openapi/describe";
import type { AppEnv } from "./types";
import { queryParams } from "./validation";

const HEALTH_TIMEOUT_MS = 3000;
/** Health checks at once: the invocation keeps a connection for the host object's call. */
const CHECKS_AT_ONCE = 5;

const proberView = z.object({
  url: z.string(),
  up: z.boolean(),
  down_until: z.string().nullable(),
  last_error: z.string().nullable(),
  last_error_at: z.string().nullable(),
  last_ok_at: z.string().nullable(),
});
const probersView = z.object({
  probers: z.array(proberView),
  host: z.object({ ip: z.string(), serving: z.string().nullable(), probers: z.array(proberView) }).nullable(),
});
const query = z.object({
  host: z
    .union([z.ipv4(), z.ipv6()], { error: "host must be a mail server's IP address." })
    .optional()
    .meta({ description: "A mail server's address: adds the pool of that server's host object." }),
});

const docs = describeRoute({
  operationId: "listProbers",
  tags: [TAGS.admin],
  summary: "The prober pool: each prober up or down, and its last error",
  security: [{ adminToken: [] }],
  responses: {
    200: { description: "The pool's view.", content: json(probersView) },
    ...errorRefs("canonical", [400, 401, 500]),
  },
});

export const adminProbers = new Hono<AppEnv>().get("/", docs, queryParams(query), async (c) => {
  const { host } = c.req.valid("query");
  const { urls, downMs } = readProberConfig(c.env);
  const pool = new ProberPool(urls, { downMs });
  const limit = pLimit(CHECKS_AT_ONCE);
  await Promise.all(urls.map((url) => limit(() => checkHealth(pool, url))));
  const view: z.infer<typeof probersView> = { probers: pool.view().map(present), host: null };
  if (host !== undefined) {
    const status = await hostStub(c.env, ipHostKey(host)).status();
    view.host = {
      ip: host,
      serving: ProberPool.from(status.probers, { downMs }).pick(host),
      probers: status.probers.map(present),
    };
  }
  return c.json(view);
});

async function checkHealth(pool: ProberPool, url: string): Promise<void> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
    await res.body?.cancel();
    if (res.ok) pool.markUp(url);
    else pool.markDown(url, `health: HTTP ${res.status}`);
  } catch (err) {
    pool.markDown(
      url,
      `health: ${err instanceof Error && err.name === "TimeoutError" ? "timed out" : String(err)}`,
    );
  }
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function present(s: ProberState): z.infer<typeof proberView> {
  return {
    url: s.url,
    up: s.up,
    down_until: iso(s.downUntil),
    last_error: s.lastError,
    last_error_at: iso(s.lastErrorAt),
    last_ok_at: iso(s.lastOkAt),
  };
}
