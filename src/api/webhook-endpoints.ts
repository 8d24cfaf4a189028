import { Hono } from "hono";
import { z } from "zod";
import { openDb } from "../db/client";
import type { WebhookEndpointRow } from "../db/schema";
import { createEndpoint, deleteEndpoint, listEndpoints, rotateAccountSecret } from "../db/webhooks";
import { BODY_ERRORS, json, keyed, TAGS } from "../openapi/describe";
import { apiError } from "./errors";
import { checkJobWebhook } from "./job-options";
import * as s from "./schemas";
import type { AppEnv } from "./types";
import { jsonBody } from "./validation";

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
  .post(
    "/",
    keyed("canonical", TAGS.webhooks, {
      operationId: "createWebhookEndpoint",
      summary: "Register a webhook endpoint",
      description: "The answer carries the endpoint's signing secret, shown only this once.",
      responses: { 201: { description: "Created.", content: json(s.webhookEndpoint) } },
      errors: BODY_ERRORS,
    }),
    jsonBody(createBody),
    async (c) => {
      const body = c.req.valid("json");
      try {
        await checkJobWebhook(c, body.url);
      } catch {
        throw apiError(400, "invalid_value", "url refused: it must be a public https URL.", "/url");
      }
      const row = await createEndpoint(openDb(c.env.DB), c.get("accountId"), body.url, [
        ...new Set(body.events),
      ]);
      return c.json(present(row, true), 201);
    },
  )
  .get(
    "/",
    keyed("canonical", TAGS.webhooks, {
      operationId: "listWebhookEndpoints",
      summary: "List webhook endpoints",
      responses: {
        200: { description: "The endpoints (without secrets).", content: json(s.webhookEndpointList) },
      },
    }),
    async (c) => {
      const rows = await listEndpoints(openDb(c.env.DB), c.get("accountId"));
      return c.json({ object: "list", webhook_endpoints: rows.map((r) => present(r)) });
    },
  )
  .post(
    "/job-secret",
    keyed("canonical", TAGS.webhooks, {
      operationId: "rotateJobWebhookSecret",
      summary: "Issue the secret for jobs' own webhook_url",
      description:
        "Deliveries to a job's `webhook_url` are signed with this account-wide secret; this (re)issues it.",
      responses: { 201: { description: "The new secret.", content: json(s.webhookSecret) } },
    }),
    async (c) => {
      const secret = await rotateAccountSecret(openDb(c.env.DB), c.get("accountId"));
      return c.json({ object: "webhook_secret", secret }, 201);
    },
  )
  .delete(
    "/:id",
    keyed("canonical", TAGS.webhooks, {
      operationId: "deleteWebhookEndpoint",
      summary: "Delete a webhook endpoint",
      parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
      responses: { 204: { description: "Deleted." } },
      errors: [404],
    }),
    async (c) => {
      const gone = await deleteEndpoint(openDb(c.env.DB), c.get("accountId"), c.req.param("id"));
      if (!gone) throw apiError(404, "not_found", "Could not find webhook endpoint.");
      return c.body(null, 204);
    },
  );
