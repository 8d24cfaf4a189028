import { Hono } from "hono";
import { z } from "zod";
import { openDb } from "../../db/client";
import { resultPages } from "../../db/results";
import { csvStream } from "../../ingest/csv-writer";
import { jobIdParam, keyed, TAGS } from "../../openapi/describe";
import { CLASSIFIERS, classesFor, compatResult } from "../compat-present";
import type { AppEnv } from "../types";
import { queryParams } from "../validation";
import { ownedJobOr404 } from "./jobs";

// GET /v1/email/validate/job/{id}/download: the results as CSV, streamed from D1.

const COLUMNS = ["email", "syntax", "mx", "mailbox", "score", "classifier", "description", "smtpResponse"];

const classifier = z.enum(CLASSIFIERS, { error: `Unknown filter. Use ${CLASSIFIERS.join(", ")}.` });
const query = z.object({
  filters: z
    .union([classifier, z.array(classifier)])
    .optional()
    .meta({ description: "Only these classifiers; repeat the parameter for more than one." }),
});

export const download = new Hono<AppEnv>().get(
  "/job/:id/download",
  keyed("compat", TAGS.compat, {
    operationId: "downloadValidationJobResults",
    summary: "Download results as CSV",
    parameters: [jobIdParam],
    responses: {
      200: {
        description: "The CSV file.",
        headers: { "Content-Disposition": { schema: { type: "string" } } },
        content: { "text/csv": { schema: { type: "string" } } },
      },
    },
    errors: [400, 404],
  }),
  queryParams(query),
  async (c) => {
    const job = await ownedJobOr404(c);
    const filters = [c.req.valid("query").filters ?? []].flat();
    const columns = job.inputColumns ?? [];
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
    return new Response(csvStream([...COLUMNS, ...columns], rows()), {
      headers: {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": `attachment; filename="mailvet-${job.id}.csv"`,
      },
    });
  },
);
