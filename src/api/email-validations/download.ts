import { Hono } from "hono";
import { z } from "zod";
import { jobIdParam, keyed, TAGS } from "../../openapi/describe";
import { downloadResponse } from "../download";
import { resultFilterParams, toResultFilter } from "../result-filter";
import type { AppEnv } from "../types";
import { queryParams } from "../validation";
import { requireJob } from "./job";

// GET /email-validations/{id}/download: the results, streamed from D1,
// optionally narrowed by result class, reason and address text.

const query = z.object({
  format: z.enum(["csv", "ndjson"], { error: "format must be csv or ndjson." }).default("csv"),
  ...resultFilterParams,
});

const text = { schema: { type: "string" as const } };
const RESULTS_FILE = {
  description: "The results file.",
  headers: { "Content-Disposition": text },
  content: { "text/csv": text, "application/x-ndjson": text },
};

export const download = new Hono<AppEnv>().get(
  "/:id/download",
  keyed("canonical", TAGS.canonical, {
    operationId: "downloadEmailValidationResults",
    summary: "Download the results",
    description:
      "Streams every result (with details and the input's extra columns) as CSV or NDJSON, optionally only some result classes, reasons or addresses.",
    parameters: [jobIdParam],
    responses: { 200: RESULTS_FILE },
    errors: [400, 404],
  }),
  queryParams(query),
  async (c) => {
    const job = await requireJob(c);
    const q = c.req.valid("query");
    return downloadResponse(c.env, job, q.format, toResultFilter(q));
  },
);
