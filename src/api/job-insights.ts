import type { Context } from "hono";
import { Hono } from "hono";
import pLimit from "p-limit";
import { breakdown, type Cursor, filteredPage } from "../db/browse";
import { openDb } from "../db/client";
import { positionOf } from "../db/results";
import type { JobSnapshot } from "../job/object";
import { tellStory } from "../job/story";
import { jobStub, ownedJob } from "../job/stub";
import type { HostWaits, MxObject } from "../mx/object";
import * as docs from "../openapi/operations";
import { pageSize } from "./email-validations";
import { apiError, notFound } from "./errors";
import { iso, type Links, presentResult } from "./present";
import { filterQuery, readResultFilter } from "./result-filter";
import type { AppEnv } from "./types";

// Reading a job the way a list owner does: its results filtered and paged
// (/results), what they add up to (/breakdown), and how the job went and
// what it waits for (/story).

const BASE = "/email-validations";
/** Hosts asked for the story: the busiest ones; each call is one outgoing connection. */
const STORY_HOSTS = 12;
/** A Worker invocation may hold 6 connections; one is the job object's. */
const HOST_CALLS_AT_ONCE = 5;

export const jobInsights = new Hono<AppEnv>()
  .get("/:id/results", docs.listEmailValidationResults, async (c) => {
    const job = await requireJob(c);
    const filter = readResultFilter(c);
    const self = `${BASE}/${job.id}/results`;
    const size = pageSize(c, self);
    const db = openDb(c.env.DB);
    const cursor = await readCursor(c, job.id, self);
    const page = await filteredPage(db, job.id, filter, size, cursor?.position ?? null);
    const query = [...filterQuery(filter), `page[size]=${size}`];
    const href = (extra: string[]) => `${self}?${[...query, ...extra].join("&")}`;
    const links: Links = {
      self: { href: href(cursor ? [`${cursor.name}=${encodeURIComponent(cursor.email)}`] : []) },
    };
    const first = page.rows[0];
    const last = page.rows[page.rows.length - 1];
    if (page.hasNext && last) links.next = { href: href([`page[after]=${encodeURIComponent(last.email)}`]) };
    if (page.hasPrev && first)
      links.prev = { href: href([`page[before]=${encodeURIComponent(first.email)}`]) };
    return c.json({ object: "list", results: page.rows.map((r) => presentResult(r, true)), _links: links });
  })
  .get("/:id/breakdown", docs.getEmailValidationBreakdown, async (c) => {
    const job = await requireJob(c);
    const domains = Number(c.req.query("domains") ?? 10);
    if (!Number.isInteger(domains) || domains < 1 || domains > 50) {
      throw apiError(400, "invalid_parameter", "domains must be a whole number from 1 to 50.", "/domains");
    }
    // The job object keeps running tallies; a job recorded before they existed is summed from D1.
    const { reasons, domains: top } =
      (await jobStub(c.env, job.id).breakdown(domains)) ??
      (await breakdown(openDb(c.env.DB), job.id, domains));
    const { processed, ...verdicts } = job.counts;
    return c.json({
      object: "email_validation_breakdown",
      total: job.total,
      processed,
      verdicts,
      reasons,
      top_domains: top,
    });
  })
  .get("/:id/story", docs.getEmailValidationStory, async (c) => {
    const job = await requireJob(c);
    const parts = await jobStub(c.env, job.id).story(STORY_HOSTS);
    if (!parts) throw notFound();
    const limit = pLimit(HOST_CALLS_AT_ONCE);
    // A host that cannot be asked leaves a gap in the story, not an error.
    const waits = await Promise.all(
      parts.hosts.map((h) =>
        limit(() =>
          hostStub(c.env, h.host)
            .jobWaits(job.id)
            .catch(() => null),
        ),
      ),
    );
    const now = Date.now();
    const story = tellStory(
      {
        status: job.status,
        total: job.total,
        processed: job.counts.processed,
        startedAt: job.startedAt,
        finishedAt: job.finishedAt,
      },
      parts,
      waits as (HostWaits | null)[],
      now,
    );
    return c.json({
      object: "email_validation_story",
      status: job.status === "paused" ? "processing" : job.status,
      paused: job.status === "paused",
      total: job.total,
      processed: job.counts.processed,
      started_at: iso(job.startedAt),
      finished_at: iso(job.finishedAt),
      samples: story.samples.map((s) => ({ at: iso(s.at), processed: s.processed })),
      rate_per_second: story.ratePerSecond,
      eta: iso(story.etaAt),
      stages: {
        waiting: story.stages.waiting,
        at_host: story.stages.atHost,
        answered: story.stages.answered,
        recorded: story.stages.recorded,
      },
      greylisting: {
        addresses: story.greylisting.addresses,
        retrying: story.greylisting.retrying,
        next_retry_at: iso(story.greylisting.nextRetryAt),
        until: iso(story.greylisting.until),
      },
      hosts: story.hosts.map((h) => ({
        host: h.host,
        names: h.names,
        addresses: h.addresses,
        retrying: h.retrying,
        greylisted: h.greylisted,
        held: h.held,
        next_retry_at: iso(h.nextRetryAt),
        deadline_at: iso(h.deadlineAt),
        state: h.state,
        paused_until: iso(h.pausedUntil),
        reason: h.reason,
        sessions: h.sessions,
        max_sessions: h.maxSessions,
        last_reply: h.lastReply,
      })),
      host_count: story.hostCount,
    });
  });

function hostStub(env: Env, key: string): DurableObjectStub<MxObject> {
  return env.MX.get(env.MX.idFromName(key)) as DurableObjectStub<MxObject>;
}

async function requireJob(c: Context<AppEnv>): Promise<JobSnapshot> {
  const job = await ownedJob(c.env, c.get("accountId"), c.req.param("id") ?? "");
  if (!job) throw notFound();
  return job;
}

/** page[after] or page[before]: the email of a result of this job, turned into its position. */
async function readCursor(
  c: Context<AppEnv>,
  jobId: string,
  self: string,
): Promise<{ name: string; email: string; position: Cursor } | null> {
  const after = c.req.query("page[after]");
  const before = c.req.query("page[before]");
  if (after !== undefined && before !== undefined) {
    throw apiError(
      400,
      "invalid_parameter",
      "Use page[after] or page[before], not both.",
      "/page[before]",
    ).withSelf(self);
  }
  const name = after !== undefined ? "page[after]" : "page[before]";
  const email = after ?? before;
  if (email === undefined) return null;
  const position = email === "" ? null : await positionOf(openDb(c.env.DB), jobId, email);
  if (position === null) {
    throw apiError(
      400,
      "invalid_parameter",
      `${name} must be the email of a result of this job.`,
      `/${name}`,
    ).withSelf(self);
  }
  return { name, email, position: after !== undefined ? { after: position } : { before: position } };
}
