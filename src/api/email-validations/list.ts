import { Hono } from "hono";
import { z } from "zod";
import { openDb } from "../../db/client";
import { listJobs } from "../../db/jobs";
import { isJobId } from "../../job/stub";
import { json, keyed, TAGS } from "../../openapi/describe";
import { pageSession } from "../bookmark";
import { type Links, presentListedJob } from "../present";
import { DEFAULT_PAGE_SIZE, include, pageSize, wantsDetails } from "../queries";
import * as s from "../schemas";
import type { AppEnv } from "../types";
import { queryParams } from "../validation";
import { BASE } from "./job";

// GET /email-validations: the account's jobs, newest first, from the D1 copy.

const query = z.object({
  "page[size]": pageSize,
  "page[after]": z
    .string()
    .refine(isJobId, "page[after] must be the id of a job in the previous page.")
    .optional()
    .meta({ description: "The id of the last job of the previous page." }),
  include,
});

export const list = new Hono<AppEnv>().get(
  "/",
  keyed("canonical", TAGS.canonical, {
    operationId: "listEmailValidations",
    summary: "List the account's jobs",
    description: "Newest first, without results. Follow `_links.next` for the next page.",
    responses: { 200: { description: "A page of jobs.", content: json(s.emailValidationList) } },
    errors: [400],
  }),
  queryParams(query),
  async (c) => {
    const q = c.req.valid("query");
    const size = q["page[size]"] ? Number(q["page[size]"]) : DEFAULT_PAGE_SIZE;
    const after = q["page[after]"];
    const session = pageSession(c);
    const rows = await listJobs(openDb(session.db), c.get("accountId"), { size: size + 1, before: after });
    session.done();
    const page = rows.slice(0, size);
    const details = wantsDetails(q.include);
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
  },
);
