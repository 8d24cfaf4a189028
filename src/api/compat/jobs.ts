import type { Context } from "hono";
import { Hono } from "hono";
import { z } from "zod";
import { openDb } from "../../db/client";
import { listJobs } from "../../db/jobs";
import { pageResults } from "../../db/results";
import { jobStub, ownedJob } from "../../job/stub";
import { jobIdParam, json, keyed, TAGS } from "../../openapi/describe";
import { compatJob, compatResult, jobRowView } from "../compat-present";
import { apiError } from "../errors";
import * as s from "../schemas";
import type { AppEnv } from "../types";
import { queryParams } from "../validation";

// Reading and deleting jobs of the compatible family.

export const jobNotFound = () => apiError(404, "not_found", "Job not found");

/** The job named in the path, read from its job object; 404 unless it is this account's. */
export async function ownedJobOr404(c: Context<AppEnv>) {
  const job = await ownedJob(c.env, c.get("accountId"), c.req.param("id") ?? "");
  if (!job) throw jobNotFound();
  return job;
}

const resultsQuery = z.object({
  pos: z
    .string()
    .regex(/^\d+$/, "pos must be a whole number, 0 or more.")
    .optional()
    .meta({ description: "The input position to start from (default 0)." }),
});

export const jobs = new Hono<AppEnv>()
  .get(
    "/job",
    keyed("compat", TAGS.compat, {
      operationId: "listValidationJobs",
      summary: "List validation jobs",
      description: "The newest 1000 jobs.",
      responses: { 200: { description: "The jobs.", content: json(s.compatJobList) } },
    }),
    async (c) => {
      const rows = await listJobs(openDb(c.env.DB), c.get("accountId"), { size: 1000 });
      return c.json(rows.map((row) => compatJob(jobRowView(row))));
    },
  )
  .get(
    "/job/:id",
    keyed("compat", TAGS.compat, {
      operationId: "getValidationJob",
      summary: "Get a validation job",
      parameters: [jobIdParam],
      responses: { 200: { description: "The job.", content: json(s.compatJob) } },
      errors: [404],
    }),
    async (c) => c.json(compatJob(await ownedJobOr404(c))),
  )
  .get(
    "/job/:id/result",
    keyed("compat", TAGS.compat, {
      operationId: "getValidationJobResults",
      summary: "Get a page of results",
      description: "Up to 1000 results from position `pos`; an empty array ends the list.",
      parameters: [jobIdParam],
      responses: { 200: { description: "Results.", content: json(s.compatResultList) } },
      errors: [400, 404],
    }),
    queryParams(resultsQuery),
    async (c) => {
      const job = await ownedJobOr404(c);
      const pos = Number(c.req.valid("query").pos ?? "0");
      const page = await pageResults(openDb(c.env.DB), job.id, { size: 1000, after: pos - 1 });
      return c.json(page.rows.map(compatResult));
    },
  )
  .delete(
    "/job/:id",
    keyed("compat", TAGS.compat, {
      operationId: "deleteValidationJob",
      summary: "Delete a validation job",
      parameters: [jobIdParam],
      responses: { 200: { description: "Deleted.", content: json(s.compatSuccess) } },
      errors: [404],
    }),
    async (c) => {
      const job = await ownedJobOr404(c);
      await jobStub(c.env, job.id).destroy();
      return c.json({ success: true });
    },
  );
