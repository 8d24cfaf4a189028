import { Hono } from "hono";
import { z } from "zod";
import { openDb } from "../../db/client";
import { type PageRequest, pageResults } from "../../db/results";
import type { JobSnapshot } from "../../job/object";
import { headerRef } from "../../openapi/components";
import { jobIdParam, json, keyed, TAGS } from "../../openapi/describe";
import { pageSession } from "../bookmark";
import { type Links, presentJob } from "../present";
import { DEFAULT_PAGE_SIZE, include, pageSize, wantsDetails } from "../queries";
import * as s from "../schemas";
import type { AppEnv } from "../types";
import { queryParams } from "../validation";
import { readResultCursor } from "./cursor";
import { BASE, requireJob } from "./job";

// GET /email-validations/{id}: the job (from its job object) and a page of
// its results (from D1), with keyset cursors on the results' emails.

export const resultsQuery = z.object({
  "page[size]": pageSize,
  "page[after]": z
    .string()
    .optional()
    .meta({ description: "The email of the last result of the previous page." }),
  "page[before]": z
    .string()
    .optional()
    .meta({ description: "The email of the first result of the next page." }),
  include,
});

type Query = z.infer<typeof resultsQuery>;

export const read = new Hono<AppEnv>().get(
  "/:id",
  keyed("canonical", TAGS.canonical, {
    operationId: "getEmailValidation",
    summary: "Retrieve a batch of email validations",
    description:
      "The job and a page of its results. While a job waits to ask a greylisting server again, `Retry-After` says when polling is worth it.",
    parameters: [jobIdParam],
    responses: {
      200: {
        description: "The job.",
        headers: { "Retry-After": headerRef("Retry-After") },
        content: json(s.emailValidationResponse),
      },
    },
    errors: [400, 404],
  }),
  queryParams(resultsQuery),
  async (c) => {
    const job = await requireJob(c);
    const q = c.req.valid("query");
    const session = pageSession(c);
    const links = await resultsPage(session.db, job, q);
    session.done();
    if (job.retryAfter !== null) c.header("Retry-After", String(job.retryAfter));
    return c.json(presentJob(job, links.rows, links.links, wantsDetails(q.include)), 200);
  },
);

/** The page of results the query asks for, and the links around it. */
export async function resultsPage(d1: D1Database | D1DatabaseSession, job: JobSnapshot, q: Query) {
  const self = `${BASE}/${job.id}`;
  const size = q["page[size]"] ? Number(q["page[size]"]) : DEFAULT_PAGE_SIZE;
  const cursor = await readResultCursor(d1, job.id, q);
  const req: PageRequest = !cursor
    ? { size }
    : cursor.name === "page[after]"
      ? { size, after: cursor.position }
      : { size, before: cursor.position };
  const db = openDb(d1);
  const page = await pageResults(db, job.id, req);
  const details = wantsDetails(q.include);
  const paged = q["page[size]"] !== undefined || cursor !== null;
  const links: Links = { self: { href: paged ? pageHref(self, size, cursor, details) : self } };
  const first = page.rows[0];
  const last = page.rows[page.rows.length - 1];
  if (page.hasNext && last)
    links.next = { href: pageHref(self, size, { name: "page[after]", email: last.email }, details) };
  if (page.hasPrev && first)
    links.prev = { href: pageHref(self, size, { name: "page[before]", email: first.email }, details) };
  return { rows: page.rows, links };
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
