import type { Context } from "hono";
import { z } from "zod";
import { readConfig } from "../config";
import { checkWebhookUrl, dohAddressResolver } from "../webhooks/ssrf";
import { apiError } from "./errors";
import type { AppEnv } from "./types";
import { checked } from "./validation";

// Options a job takes at creation in both families: a scheduled start and a
// webhook URL of its own.

const MAX_SCHEDULE_MS = 30 * 24 * 60 * 60_000;

export const jobOptions = z.strictObject({
  start_at: z.iso
    .datetime({ offset: true, message: "start_at must be an ISO 8601 date-time, e.g. 2026-12-01T09:00:00Z." })
    .refine((s) => Date.parse(s) - Date.now() <= MAX_SCHEDULE_MS, "start_at is at most 30 days ahead.")
    .optional(),
  webhook_url: z.url({ message: "webhook_url must be an absolute URL." }).max(2048).optional(),
});

export function toJobOptions(body: z.infer<typeof jobOptions>): {
  startAt: number | null;
  webhookUrl: string | null;
} {
  return {
    startAt: body.start_at ? Date.parse(body.start_at) : null,
    webhookUrl: body.webhook_url ?? null,
  };
}

/** A form field's text, or undefined when absent or blank. */
function formText(form: FormData, name: string): string | undefined {
  const v = form.get(name);
  return typeof v === "string" && v.trim() ? v.trim() : undefined;
}

/** The job options of a multipart upload, checked like the JSON body's. */
export function readJobOptions(form: FormData) {
  return toJobOptions(
    checked(jobOptions, { start_at: formText(form, "start_at"), webhook_url: formText(form, "webhook_url") }),
  );
}

/** Refuses webhook URLs that point inside a network (SSRF) before any job exists. */
export async function checkJobWebhook(c: Context<AppEnv>, url: string | null | undefined): Promise<void> {
  if (!url) return;
  const cfg = readConfig(c.env);
  const verdict = await checkWebhookUrl(url, {
    allowLoopback: cfg.webhookAllowLoopback,
    resolve: dohAddressResolver(cfg.dohUrl, cfg.dnsTimeoutMs),
  });
  if (!verdict.ok)
    throw apiError(400, "invalid_value", `webhook_url refused: ${verdict.reason}`, "/webhook_url");
}
