import { Hono } from "hono";
import { jobStub } from "../../job/stub";
import { jobIdParam, json, keyed, TAGS } from "../../openapi/describe";
import { apiError } from "../errors";
import * as s from "../schemas";
import type { AppEnv } from "../types";
import { requireJob } from "./job";

// A job's webhook delivery log, and sending one delivery again.

export const deliveries = new Hono<AppEnv>()
  .get(
    "/:id/webhook-deliveries",
    keyed("canonical", TAGS.canonical, {
      operationId: "listWebhookDeliveries",
      summary: "The job's webhook delivery log",
      parameters: [jobIdParam],
      responses: {
        200: { description: "Every delivery and its attempts.", content: json(s.webhookDeliveryList) },
      },
      errors: [404],
    }),
    async (c) => {
      const job = await requireJob(c);
      const list = await jobStub(c.env, job.id).webhookDeliveries();
      return c.json({ object: "list", webhook_deliveries: list });
    },
  )
  .post(
    "/:id/webhook-deliveries/:delivery/retry",
    keyed("canonical", TAGS.canonical, {
      operationId: "retryWebhookDelivery",
      summary: "Send a webhook delivery again",
      parameters: [jobIdParam, { name: "delivery", in: "path", required: true, schema: { type: "string" } }],
      responses: { 202: { description: "Queued for delivery.", content: json(s.successObject) } },
      errors: [404],
    }),
    async (c) => {
      const job = await requireJob(c);
      if (!(await jobStub(c.env, job.id).redeliver(c.req.param("delivery")))) {
        throw apiError(404, "not_found", "Could not find webhook delivery.");
      }
      return c.json({ success: true }, 202);
    },
  );
