import type { Context } from "hono";
import { Hono } from "hono";
import { resolver } from "hono-openapi";
import { z } from "zod";
import { MAX_JOB_EMAILS } from "../../config";
import type { InputEntry } from "../../ingest/entries";
import type { NewJobInput } from "../../job/create";
import { headerRef, paramRef } from "../../openapi/components";
import { BODY_ERRORS, json, keyed, TAGS } from "../../openapi/describe";
import { isSafeText } from "../../verify/syntax";
import { apiError } from "../errors";
import { createOnce } from "../idempotency";
import { checkJobWebhook, jobOptions, readJobOptions, toJobOptions } from "../job-options";
import { presentJob } from "../present";
import { include, wantsDetails } from "../queries";
import * as s from "../schemas";
import type { AppEnv } from "../types";
import { readList, readMultipart } from "../upload";
import { isMultipart, jsonBody, queryParams } from "../validation";
import { BASE } from "./job";

// POST /email-validations: a job from a JSON list or an uploaded file.

const emailString = z
  .string()
  .min(1, "An email must not be empty.")
  .max(320, "An email is at most 320 characters.")
  .refine(isSafeText, "An email must not contain control characters (CR, LF, NUL, …) or broken Unicode.");

const extraValue = z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]);

/** Extra fields are echoed as download columns: as many as a CSV upload may carry. */
const MAX_EXTRA_FIELDS = 50;

const entry = z.union([
  emailString,
  z
    .object({ email: emailString })
    .catchall(extraValue)
    .refine(
      (o) =>
        Object.keys(o).length <= MAX_EXTRA_FIELDS + 1 &&
        Object.keys(o).every((k) => k.length <= 100 && isSafeText(k)),
      `At most ${MAX_EXTRA_FIELDS} extra fields per entry, named in up to 100 characters without control characters.`,
    ),
]);

export const createSchema = jobOptions.extend({
  emails: z
    .array(entry)
    .min(1, "Send at least one email.")
    .max(MAX_JOB_EMAILS, `A job takes at most ${MAX_JOB_EMAILS} emails.`),
  label: z.string().max(200).optional(),
});

/** The multipart form: the list file, plus the same job options as JSON. */
const uploadForm = jobOptions
  .extend({
    file: z
      .file()
      .meta({ description: "A CSV, XLSX or XLS list: an `email` column, or emails in the first column." }),
    label: z.string().max(200).optional(),
  })
  .loose(); // other form fields are ignored, not refused

export const create = new Hono<AppEnv>().post(
  "/",
  keyed("canonical", TAGS.canonical, {
    operationId: "createEmailValidation",
    summary: "Create a batch of email validations",
    description:
      "Queues a job for a list of addresses, sent as JSON (`emails`: strings, or objects whose other fields come back in downloads) or as a multipart upload of a CSV/XLSX/XLS `file`. Duplicates are removed. Poll the job, or set `webhook_url`.",
    parameters: [paramRef("IdempotencyKey")],
    requestBody: {
      required: true,
      content: { "multipart/form-data": { schema: resolver(uploadForm) } },
    },
    responses: {
      202: {
        description: "Accepted: the job is queued.",
        headers: { Location: headerRef("Location"), "Idempotent-Replayed": headerRef("Idempotent-Replayed") },
        content: json(s.emailValidationResponse),
      },
    },
    errors: [...BODY_ERRORS, 422],
  }),
  queryParams(z.object({ include })),
  jsonBody(createSchema, { orMultipart: true }),
  async (c) => {
    const input = isMultipart(c) ? await fromUpload(c) : fromJson(c, c.req.valid("json"));
    await checkJobWebhook(c, input.webhookUrl);
    const { job } = await createOnce(c, input);
    const href = `${BASE}/${job.id}`;
    c.header("Location", href);
    return c.json(presentJob(job, [], { self: { href } }, wantsDetails(c.req.valid("query").include)), 202);
  },
);

async function fromUpload(c: Context<AppEnv>): Promise<NewJobInput> {
  const form = await readMultipart(c);
  const list = await readList(form, "file");
  return {
    accountId: c.get("accountId"),
    entries: list.entries,
    inputColumns: list.columns,
    source: "file",
    label: list.label,
    ...readJobOptions(form),
  };
}

function fromJson(c: Context<AppEnv>, body: z.infer<typeof createSchema>): NewJobInput {
  const entries: InputEntry[] = body.emails.map((e) => (typeof e === "string" ? { email: e } : toEntry(e)));
  const columns = [...new Set(entries.flatMap((e) => Object.keys(e.extra ?? {})))];
  if (columns.length > MAX_EXTRA_FIELDS) {
    throw apiError(
      400,
      "invalid_value",
      `At most ${MAX_EXTRA_FIELDS} distinct extra fields per job.`,
      "/emails",
    );
  }
  return {
    accountId: c.get("accountId"),
    entries,
    inputColumns: columns.length ? columns : null,
    source: "api",
    label: body.label ?? null,
    ...toJobOptions(body),
  };
}

function toEntry(e: { email: string } & Record<string, unknown>): InputEntry {
  const { email, ...rest } = e;
  const keys = Object.keys(rest);
  if (!keys.length) return { email };
  return { email, extra: Object.fromEntries(keys.map((k) => [k, rest[k] === null ? "" : String(rest[k])])) };
}
