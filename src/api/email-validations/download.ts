import { Hono } from "hono";
import { z } from "zod";
import { jobIdParam, keyed, TAGS } from "../../openapi/describe";
import { downloadResponse, RESULT_CLASSES } from "../download";
import type { AppEnv } from "../types";
import { queryParams } from "../validation";
import { requireJob } from "./job";

// GET /email-validations/{id}/download: every result, streamed from D1.

const unknownClasses = (list: string) => list.split(",").filter((r) => r && !RESULT_CLASSES.includes(r));

const query = z.object({
  format: z.enum(["csv", "ndjson"], { error: "format must be csv or ndjson." }).default("csv"),
  result: z
    .string()
    .refine((v) => unknownClasses(v).length === 0, {
      error: (issue) =>
        `Unknown result class: ${unknownClasses(String(issue.input)).join(", ")}. Use ${RESULT_CLASSES.join(", ")}.`,
    })
    .optional()
    .meta({ description: `Only these result classes, comma-separated: ${RESULT_CLASSES.join(", ")}.` }),
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
      "Streams every result (with details and the input's extra columns) as CSV or NDJSON, optionally only some result classes.",
    parameters: [jobIdParam],
    responses: { 200: RESULTS_FILE },
    errors: [400, 404],
  }),
  queryParams(query),
  async (c) => {
    const job = await requireJob(c);
    const { format, result } = c.req.valid("query");
    const wanted = (result ?? "").split(",").filter(Boolean);
    return downloadResponse(c.env, job, format, wanted.length ? wanted : undefined);
  },
);
