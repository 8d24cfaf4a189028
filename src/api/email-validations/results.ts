import { Hono } from "hono";
import { z } from "zod";
import { filteredPage } from "../../db/browse";
import { openDb } from "../../db/client";
import { jobIdParam, json, keyed, TAGS } from "../../openapi/describe";
import { pageSession } from "../bookmark";
import * as insight from "../insight-schemas";
import { type Links, presentResult } from "../present";
import { DEFAULT_PAGE_SIZE, pageSize } from "../queries";
import { filterQuery, resultFilterParams, toResultFilter } from "../result-filter";
import type { AppEnv } from "../types";
import { queryParams } from "../validation";
import { readResultCursor } from "./cursor";
import { BASE, requireJob } from "./job";
import { resultsQuery } from "./read";

// GET /email-validations/{id}/results: the results browser. A page of results
// with details, in input order, narrowed by class, reason and address text.

const query = z.object({
  ...resultFilterParams,
  "page[size]": pageSize,
  "page[after]": resultsQuery.shape["page[after]"],
  "page[before]": resultsQuery.shape["page[before]"],
});

export const results = new Hono<AppEnv>().get(
  "/:id/results",
  keyed("canonical", TAGS.canonical, {
    operationId: "listEmailValidationResults",
    summary: "Browse the results, filtered",
    description:
      "A page of results with details, in input order, narrowed by result class, reason and address text. Pages by cursor: follow `_links.next` and `_links.prev`.",
    parameters: [jobIdParam],
    responses: { 200: { description: "The page.", content: json(insight.resultPage) } },
    errors: [400, 404],
  }),
  queryParams(query),
  async (c) => {
    const job = await requireJob(c);
    const q = c.req.valid("query");
    const filter = toResultFilter(q);
    const size = q["page[size]"] ? Number(q["page[size]"]) : DEFAULT_PAGE_SIZE;
    const session = pageSession(c);
    const cursor = await readResultCursor(session.db, job.id, q);
    const position = !cursor
      ? null
      : cursor.name === "page[after]"
        ? { after: cursor.position }
        : { before: cursor.position };
    const page = await filteredPage(openDb(session.db), job.id, filter, size, position);
    session.done();
    const self = `${BASE}/${job.id}/results`;
    const kept = [...filterQuery(filter), `page[size]=${size}`];
    const href = (extra: string[]) => `${self}?${[...kept, ...extra].join("&")}`;
    const links: Links = {
      self: { href: href(cursor ? [`${cursor.name}=${encodeURIComponent(cursor.email)}`] : []) },
    };
    const first = page.rows[0];
    const last = page.rows[page.rows.length - 1];
    if (page.hasNext && last) links.next = { href: href([`page[after]=${encodeURIComponent(last.email)}`]) };
    if (page.hasPrev && first)
      links.prev = { href: href([`page[before]=${encodeURIComponent(first.email)}`]) };
    return c.json({ object: "list", results: page.rows.map((r) => presentResult(r, true)), _links: links });
  },
);
