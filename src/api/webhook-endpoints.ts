import { Hono } from "hono";
import { z } from "zod";
import { openDb } from "../db/client";
import type { WebhookEndpointRow } from "../db/schema";
import { createEndpoint, deleteEndpoint, listEndpoints, rotateAccountSecret } from "../db/webhooks";
import * as docs from "../openapi/operations";
import { apiError } from "./errors";
import { checkJobWebhook } from "./job-options";
import type { AppEnv } from "./types";
import { parseWith, readJson } from "./validation";

// An account's webhook endpoints. Each has its own signing secret, shown once
// at creation; deliveries to a job's own webhook_url are signed with the
// account's job secret, which POST /webhook-endpoints/job-secret (re)issues.

const EVENTS = [
  "email_validation.completed",
  "email_validation.canceled",
  "email_validation.failed",
  "email_validation.progress",
] as const;

const createBody = z.strictObject({
  url: z.url({ message: "url must be an absolute URL." }).max(2048),
  // Progress events are noisy: opt-in only.
  events: z
    .array(z.enum(EVENTS))
    .min(1)
    .default(["email_validation.completed", "email_validation.canceled", "email_validation.failed"]),
});

function present(row: WebhookEndpointRow, secret = false) {
  return {
    id: row.id,
    object: "webhook_endpoint",
    url: row.url,
    events: JSON.parse(row.events) as string[],
    enabled: row.disabledAt === null,
    disabled_reason: row.disabledReason,
    created_at: new Date(row.createdAt).toISOString(),
    ...(secret ? { secret: row.secret } : {}),
  };
}

export const webhookEndpoints = new Hono<AppEnv>()
  .post("/", docs.createWebhookEndpoint(createBody), async (c) => {
    const body = parseWith(createBody, await readJson(c));
    try {
      await checkJobWebhook(c, body.url);
    } catch {
      throw apiError(400, "invalid_value", "url refused: it must be a public https URL.", "/url");
    }
    const row = await createEndpoint(openDb(c.env.DB), c.get("accountId"), body.url, [
      ...new Set(body.events),
    ]);
    return c.json(present(row, true), 201);
  })
  .get("/", docs.listWebhookEndpoints, async (c) => {
    const rows = await listEndpoints(openDb(c.env.DB), c.get("accountId"));
    return c.json({ object: "list", webhook_endpoints: rows.map((r) => present(r)) });
  })
  .post("/job-secret", docs.rotateJobWebhookSecret, async (c) => {
    const secret = await rotateAccountSecret(openDb(c.env.DB), c.get("accountId"));
    return c.json({ object: "webhook_secret", secret }, 201);
  })
  .delete("/:id", docs.deleteWebhookEndpoint, async (c) => {
    const gone = await deleteEndpoint(openDb(c.env.DB), c.get("accountId"), c.req.param("id"));
    if (!gone) throw apiError(404, "not_found", "Could not find webhook endpoint.");
    return c.body(null, 204);
  });
