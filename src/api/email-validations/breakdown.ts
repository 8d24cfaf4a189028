import { Hono } from "hono";
import { z } from "zod";
import { breakdown as sumFromD1 } from "../../db/browse";
import { openDb } from "../../db/client";
import { jobStub } from "../../job/stub";
import { jobIdParam, json, keyed, TAGS } from "../../openapi/describe";
import * as insight from "../insight-schemas";
import type { AppEnv } from "../types";
import { queryParams } from "../validation";
import { requireJob } from "./job";

// GET /email-validations/{id}/breakdown: what the results add up to, by
// verdict, by reason within a verdict, and for the busiest domains.

const DOMAINS = "domains must be a whole number from 1 to 50.";

const query = z.object({
  domains: z
    .string()
    .regex(/^\d{1,2}$/, DOMAINS)
    .refine((v) => Number(v) >= 1 && Number(v) <= 50, DOMAINS)
    .optional()
    .meta({ description: "How many of the busiest domains to list, 1 to 50 (default 10)." }),
});

export const breakdown = new Hono<AppEnv>().get(
  "/:id/breakdown",
  keyed("canonical", TAGS.canonical, {
    operationId: "getEmailValidationBreakdown",
    summary: "The results by verdict, reason and domain",
    parameters: [jobIdParam],
    responses: { 200: { description: "The breakdown.", content: json(insight.breakdownObject) } },
    errors: [400, 404],
  }),
  queryParams(query),
  async (c) => {
    const job = await requireJob(c);
    const domains = Number(c.req.valid("query").domains ?? 10);
    // The job object keeps running tallies; a job recorded before they existed is summed from D1.
    const { reasons, domains: top } =
      (await jobStub(c.env, job.id).breakdown(domains)) ??
      (await sumFromD1(openDb(c.env.DB), job.id, domains));
    const { processed, ...verdicts } = job.counts;
    return c.json({
      object: "email_validation_breakdown",
      total: job.total,
      processed,
      verdicts,
      reasons,
      top_domains: top,
    });
  },
);
