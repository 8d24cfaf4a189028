import type { Context } from "hono";
import { Hono } from "hono";
import { openDb } from "../db/client";
import { getJobRow, listJobs } from "../db/jobs";
import { pageResults, resultPages } from "../db/results";
import { csvStream } from "../ingest/csv-writer";
import { isJobId, jobStub } from "../job/stub";
import * as docs from "../openapi/operations";
import { CLASSIFIERS, classesFor, compatJob, compatResult } from "./compat-present";
import { control } from "./email-validations";
import { apiError } from "./errors";
import { createOnce } from "./idempotency";
import { checkJobWebhook, formText, jobOptions, toJobOptions } from "./job-options";
import type { AppEnv } from "./types";
import { readList, readMultipart } from "./upload";
import { validateNow, validateNowBody } from "./validate-now";
import { parseWith } from "./validation";

// The seed-003 compatible family under /v1/email/validate. Errors use that
// API's {"error": "…"} shape (app.onError picks it for /v1/ paths).

const DOWNLOAD_COLUMNS = [
  "email",
  "syntax",
  "mx",
  "mailbox",
  "score",
  "classifier",
  "description",
  "smtpResponse",
];

const jobNotFound = () => apiError(404, "not_found", "Job not found");

async function ownedRow(c: Context<AppEnv>) {
  const id = c.req.param("id") ?? "";
  const row = isJobId(id) ? await getJobRow(openDb(c.env.DB), c.get("accountId"), id.toLowerCase()) : null;
  if (!row) throw jobNotFound();
  return row;
}

export const compat = new Hono<AppEnv>()
  .post("/", docs.validateEmails(validateNowBody), async (c) => validateNow(c))
  .post("/job", docs.createValidationJob, async (c) => {
    const form = await readMultipart(c);
    const source = form.get("source");
    if (typeof source !== "string" || !source)
      throw apiError(400, "missing_field", "Invalid source type", "/source");
    const list = await readList(form, source);
    const options = toJobOptions(
      parseWith(jobOptions, {
        start_at: formText(form, "start_at"),
        webhook_url: formText(form, "webhook_url"),
      }),
    );
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
  })
  .get("/job", docs.listValidationJobs, async (c) => {
    const rows = await listJobs(openDb(c.env.DB), c.get("accountId"), { size: 1000 });
    return c.json(rows.map(compatJob));
  })
  .get("/job/:id", docs.getValidationJob, async (c) => c.json(compatJob(await ownedRow(c))))
  .get("/job/:id/result", docs.getValidationJobResults, async (c) => {
    const job = await ownedRow(c);
    const posParam = c.req.query("pos") ?? "0";
    if (!/^\d+$/.test(posParam))
      throw apiError(400, "invalid_parameter", "pos must be a whole number, 0 or more.", "/pos");
    const page = await pageResults(openDb(c.env.DB), job.id, { size: 1000, after: Number(posParam) - 1 });
    return c.json(page.rows.map(compatResult));
  })
  .get("/job/:id/download", docs.downloadValidationJob(CLASSIFIERS), async (c) => {
    const job = await ownedRow(c);
    const filters = c.req.queries("filters") ?? [];
    const unknown = filters.filter((f) => !(CLASSIFIERS as readonly string[]).includes(f));
    if (unknown.length) {
      throw apiError(
        400,
        "invalid_parameter",
        `Unknown filters: ${unknown.join(", ")}. Use valid, risky or invalid.`,
      );
    }
    const columns: string[] = job.inputColumns ? JSON.parse(job.inputColumns) : [];
    const classes = filters.length ? classesFor(filters) : undefined;
    const db = openDb(c.env.DB);
    async function* rows() {
      for await (const page of resultPages(db, job.id, classes)) {
        yield page.map((row) => {
          const r = compatResult(row).result;
          const extra: Record<string, string> = row.extra ? JSON.parse(row.extra) : {};
          return [
            row.email,
            r.syntax,
            r.mx,
            r.mailbox,
            r.score,
            r.classifier,
            r.description.join("|"),
            r.smtpResponse,
            ...columns.map((col) => extra[col] ?? ""),
          ];
        });
      }
    }
    return new Response(csvStream([...DOWNLOAD_COLUMNS, ...columns], rows()), {
      headers: {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": `attachment; filename="mailvet-${job.id}.csv"`,
      },
    });
  })
  .delete("/job/:id", docs.deleteValidationJob, async (c) => {
    const job = await ownedRow(c);
    await jobStub(c.env, job.id).destroy();
    return c.json({ success: true });
  })
  .post("/job/:id/pause", docs.pauseValidationJob, async (c) => {
    await ownedRow(c);
    const r = await control(c, "pause");
    return c.json({ success: true, id: r.job.id, state: "paused" });
  })
  .post("/job/:id/resume", docs.resumeValidationJob, async (c) => {
    await ownedRow(c);
    const r = await control(c, "resume");
    return c.json({ success: true, id: r.job.id, state: r.job.status === "queued" ? "pending" : "running" });
  })
  .post("/job/:id/cancel", docs.cancelValidationJob, async (c) => {
    await ownedRow(c);
    const r = await control(c, "cancel");
    return c.json({
      success: true,
      message: r.wasStarted
        ? "Job was already running - cancelled remaining emails"
        : "Scheduled job cancelled successfully",
      batchJobId: r.job.id,
      contactsCancelled: r.canceled,
    });
  });
