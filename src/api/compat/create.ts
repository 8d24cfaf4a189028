import { Hono } from "hono";
import { resolver } from "hono-openapi";
import { z } from "zod";
import { paramRef } from "../../openapi/components";
import { BODY_ERRORS, json, keyed, TAGS } from "../../openapi/describe";
import { createOnce } from "../idempotency";
import { checkJobWebhook, jobOptions, readJobOptions } from "../job-options";
import * as s from "../schemas";
import type { AppEnv } from "../types";
import { LIST_SOURCES, readList, readMultipart } from "../upload";
import { checked } from "../validation";

// POST /v1/email/validate/job: a job from a multipart form.

const source = z
  .enum(LIST_SOURCES, { error: `Invalid source type: use ${LIST_SOURCES.join(", ")}.` })
  .meta({ description: "Which field holds the list." });

const form = jobOptions
  .extend({
    source,
    file: z.file().optional().meta({ description: "CSV/XLSX/XLS list (source=file or excel)." }),
    input: z.string().optional().meta({ description: "Comma- or newline-separated emails (source=input)." }),
    label: z.string().max(200).optional(),
  })
  .loose(); // other form fields (e.g. integration) are ignored, not refused

export const create = new Hono<AppEnv>().post(
  "/job",
  keyed("compat", TAGS.compat, {
    operationId: "createValidationJob",
    summary: "Create a validation job",
    parameters: [paramRef("IdempotencyKey")],
    requestBody: { required: true, content: { "multipart/form-data": { schema: resolver(form) } } },
    responses: { 201: { description: "Created.", content: json(s.compatCreated) } },
    errors: [...BODY_ERRORS, 422],
  }),
  async (c) => {
    const body = await readMultipart(c);
    const raw = body.get("source");
    const list = await readList(body, checked(source, raw || undefined));
    const options = readJobOptions(body);
    await checkJobWebhook(c, options.webhookUrl);
    const { job } = await createOnce(c, {
      accountId: c.get("accountId"),
      entries: list.entries,
      inputColumns: list.columns,
      source: list.source,
      label: list.label,
      ...options,
    });
    return c.json({ id: job.id }, 201);
  },
);
