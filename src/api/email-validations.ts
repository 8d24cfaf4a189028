import type { Context } from "hono";
import { Hono } from "hono";
import { z } from "zod";
import { MAX_JOB_EMAILS } from "../config";
import { openDb } from "../db/client";
import { listJobs } from "../db/jobs";
import { type Page, type PageRequest, pageResults, positionOf } from "../db/results";
import type { NewJobInput } from "../job/create";
import type { InputEntry } from "../job/ingest";
import type { ControlResult, JobSnapshot } from "../job/object";
import { isJobId, jobStub, ownedJob } from "../job/stub";
import * as docs from "../openapi/operations";
import { isSafeText } from "../verify/syntax";
import { pageSession } from "./bookmark";
import { downloadResponse, RESULT_CLASSES } from "./download";
import { apiError, notFound } from "./errors";
import { createOnce } from "./idempotency";
import { checkJobWebhook, formText, jobOptions, toJobOptions } from "./job-options";
import { type Links, presentJob, presentListedJob } from "./present";
import type { AppEnv } from "./types";
import { readList, readMultipart } from "./upload";
import { parseWith, readJson } from "./validation";

// The canonical family: /email-validations (seeds 001, 002, 000, 004).

const BASE = "/email-validations";

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

const PATCH_STATUSES = { canceled: "cancel", paused: "pause", processing: "resume" } as const;

export const emailValidations = new Hono<AppEnv>()
  .post("/", docs.createEmailValidation(createSchema), async (c) => {
    const job = await createFromRequest(c);
    const href = `${BASE}/${job.id}`;
    c.header("Location", href);
    return c.json(presentJob(job, [], { self: { href } }, wantsDetails(c)), 202);
  })
  .get("/", docs.listEmailValidations, async (c) => {
    const size = pageSize(c, BASE);
    const after = c.req.query("page[after]");
    if (after !== undefined && !isJobId(after)) {
      throw apiError(
        400,
        "invalid_parameter",
        "page[after] must be the id of a job in the previous page.",
        "/page[after]",
      );
    }
    const session = pageSession(c);
    const rows = await listJobs(openDb(session.db), c.get("accountId"), { size: size + 1, before: after });
    session.done();
    const page = rows.slice(0, size);
    const details = wantsDetails(c);
    const links: Links = {
      self: { href: `${BASE}?page[size]=${size}${after ? `&page[after]=${after}` : ""}` },
    };
    const last = page[page.length - 1];
    if (rows.length > size && last) {
      links.next = {
        href: `${BASE}?page[size]=${size}&page[after]=${last.id}${details ? "&include=details" : ""}`,
      };
    }
    return c.json({
      object: "list",
      email_validations: page.map((row) => presentListedJob(row, details)),
      _links: links,
    });
  })
  .delete("/:id", docs.deleteEmailValidation, async (c) => {
    const job = await requireJob(c);
    await jobStub(c.env, job.id).destroy();
    return c.body(null, 204);
  })
  .get("/:id/webhook-deliveries", docs.listWebhookDeliveries, async (c) => {
    const job = await requireJob(c);
    const deliveries = await jobStub(c.env, job.id).webhookDeliveries();
    return c.json({ object: "list", webhook_deliveries: deliveries });
  })
  .post("/:id/webhook-deliveries/:delivery/retry", docs.retryWebhookDelivery, async (c) => {
    const job = await requireJob(c);
    if (!(await jobStub(c.env, job.id).redeliver(c.req.param("delivery")))) {
      throw apiError(404, "not_found", "Could not find webhook delivery.");
    }
    return c.json({ success: true }, 202);
  })
  .get("/:id/download", docs.downloadEmailValidation, async (c) => {
    const job = await requireJob(c);
    const format = c.req.query("format") ?? "csv";
    if (format !== "csv" && format !== "ndjson") {
      throw apiError(400, "invalid_parameter", "format must be csv or ndjson.", "/format");
    }
    const wanted = (c.req.query("result") ?? "").split(",").filter(Boolean);
    const bad = wanted.filter((r) => !RESULT_CLASSES.includes(r));
    if (bad.length) {
      throw apiError(
        400,
        "invalid_parameter",
        `Unknown result class: ${bad.join(", ")}. Use ${RESULT_CLASSES.join(", ")}.`,
        "/result",
      );
    }
    return downloadResponse(c.env, job, format, wanted.length ? wanted : undefined);
  })
  .get("/:id", docs.getEmailValidation, async (c) => {
    const job = await requireJob(c);
    const page = await readPage(c, job);
    if (job.retryAfter !== null) c.header("Retry-After", String(job.retryAfter));
    return c.json(presentJob(job, page.page.rows, page.links, wantsDetails(c)), 200);
  })
  .patch("/:id/cancel", docs.cancelEmailValidation, async (c) => {
    await requireJob(c);
    await control(c, "cancel");
    return c.json({ success: true, message: "Validation job canceled successfully" }, 200);
  })
  .patch("/:id", docs.updateEmailValidation(PATCH_STATUSES), async (c) => {
    await requireJob(c);
    const raw = await readJson(c);
    const self = `${BASE}/${c.req.param("id")}`;
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      throw apiError(
        400,
        "invalid_type",
        'The body must be a JSON object such as {"status": "canceled"}.',
        "",
      ).withSelf(self);
    }
    // Only `status` is read; any other field is ignored, as the contract says.
    const body = raw as { status?: unknown };
    if (body.status === undefined) {
      throw apiError(400, "missing_field", "Missing field for request: status", "/status").withSelf(self);
    }
    const action =
      typeof body.status === "string"
        ? PATCH_STATUSES[body.status as keyof typeof PATCH_STATUSES]
        : undefined;
    if (!action) {
      throw apiError(
        400,
        "unsupported_value",
        `You used status '${String(body.status)}' when only 'canceled' is accepted (or 'paused' and 'processing' to pause and resume).`,
        "/status",
      ).withSelf(self);
    }
    const result = await control(c, action);
    const page = await readPage(c, result.job);
    return c.json(presentJob(result.job, page.page.rows, page.links, wantsDetails(c)), 200);
  });

async function createFromRequest(c: Context<AppEnv>): Promise<JobSnapshot> {
  const accountId = c.get("accountId");
  let input: NewJobInput;
  if (/^multipart\/form-data\b/i.test(c.req.header("content-type") ?? "")) {
    const form = await readMultipart(c);
    const list = await readList(form, "file");
    const options = toJobOptions(
      parseWith(jobOptions, {
        start_at: formText(form, "start_at"),
        webhook_url: formText(form, "webhook_url"),
      }),
    );
    input = {
      accountId,
      entries: list.entries,
      inputColumns: list.columns,
      source: "file",
      label: list.label,
      ...options,
    };
  } else {
    const body = parseWith(createSchema, await readJson(c));
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
    input = {
      accountId,
      entries,
      inputColumns: columns.length ? columns : null,
      source: "api",
      label: body.label ?? null,
      ...toJobOptions(body),
    };
  }
  await checkJobWebhook(c, input.webhookUrl);
  return (await createOnce(c, input)).job;
}

function toEntry(e: { email: string } & Record<string, unknown>): InputEntry {
  const { email, ...rest } = e;
  const keys = Object.keys(rest);
  if (!keys.length) return { email };
  return { email, extra: Object.fromEntries(keys.map((k) => [k, rest[k] === null ? "" : String(rest[k])])) };
}

function wantsDetails(c: Context): boolean {
  return (c.req.query("include") ?? "").split(",").includes("details");
}

async function requireJob(c: Context<AppEnv>): Promise<JobSnapshot> {
  const job = await ownedJob(c.env, c.get("accountId"), c.req.param("id") ?? "");
  if (!job) throw notFound();
  return job;
}

export async function control(
  c: Context<AppEnv>,
  action: "cancel" | "pause" | "resume",
): Promise<Extract<ControlResult, { ok: true }>> {
  const id = c.req.param("id") ?? "";
  const result = await jobStub(c.env, id)[action]();
  if (result.ok) return result;
  if (result.code === "not_found") throw notFound();
  throw apiError(400, result.code, result.detail, "/status").withSelf(`${BASE}/${id}`);
}

// ── Cursor pages ───────────────────────────────────────────────────────

/** page[size]: a whole number from 1 to 1000, 100 when absent. */
function pageSize(c: Context, self: string): number {
  const param = c.req.query("page[size]");
  if (param === undefined) return 100;
  const size = Number(param);
  if (!/^\d+$/.test(param) || size < 1 || size > 1000) {
    throw apiError(
      400,
      "invalid_parameter",
      "page[size] must be a whole number from 1 to 1000.",
      "/page[size]",
    ).withSelf(self);
  }
  return size;
}

async function readPage(c: Context<AppEnv>, job: JobSnapshot): Promise<{ page: Page; links: Links }> {
  const self = `${BASE}/${job.id}`;
  const sizeParam = c.req.query("page[size]");
  const after = c.req.query("page[after]");
  const before = c.req.query("page[before]");
  const size = pageSize(c, self);
  if (after !== undefined && before !== undefined) {
    throw apiError(
      400,
      "invalid_parameter",
      "Use page[after] or page[before], not both.",
      "/page[before]",
    ).withSelf(self);
  }
  const session = pageSession(c);
  const db = openDb(session.db);
  let req: PageRequest = { size };
  for (const [name, cursor] of [
    ["page[after]", after],
    ["page[before]", before],
  ] as const) {
    if (cursor === undefined) continue;
    const position = cursor === "" ? null : await positionOf(db, job.id, cursor);
    if (position === null) {
      throw apiError(
        400,
        "invalid_parameter",
        `${name} must be the email of a result of this job.`,
        `/${name}`,
      ).withSelf(self);
    }
    req = name === "page[after]" ? { size, after: position } : { size, before: position };
  }
  const page = await pageResults(db, job.id, req);
  session.done();
  const details = wantsDetails(c);
  const paged = sizeParam !== undefined || after !== undefined || before !== undefined;
  const cursor =
    after !== undefined
      ? { name: "page[after]", email: after }
      : before !== undefined
        ? { name: "page[before]", email: before }
        : null;
  const links: Links = { self: { href: paged ? pageHref(self, size, cursor, details) : self } };
  const first = page.rows[0];
  const last = page.rows[page.rows.length - 1];
  if (page.hasNext && last)
    links.next = { href: pageHref(self, size, { name: "page[after]", email: last.email }, details) };
  if (page.hasPrev && first)
    links.prev = { href: pageHref(self, size, { name: "page[before]", email: first.email }, details) };
  return { page, links };
}

function pageHref(
  path: string,
  size: number,
  cursor: { name: string; email: string } | null,
  details: boolean,
): string {
  const params = [`page[size]=${size}`];
  if (cursor) params.push(`${cursor.name}=${encodeURIComponent(cursor.email)}`);
  if (details) params.push("include=details");
  return `${path}?${params.join("&")}`;
}
