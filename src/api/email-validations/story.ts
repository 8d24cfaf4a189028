import { Hono } from "hono";
import pLimit from "p-limit";
import { tellStory } from "../../job/story";
import { jobStub } from "../../job/stub";
import type { HostWaits } from "../../mx/object";
import { hostStub } from "../../mx/stub";
import { jobIdParam, json, keyed, TAGS } from "../../openapi/describe";
import { notFound } from "../errors";
import * as insight from "../insight-schemas";
import { iso } from "../present";
import type { AppEnv } from "../types";
import { requireJob } from "./job";

// GET /email-validations/{id}/story: how the job went and what it waits for.
// The job object gives its samples and busiest hosts; each host object says
// what it holds back for this job (greylisting, backoff).

/** Hosts asked for the story: the busiest ones; each call is one outgoing connection. */
const STORY_HOSTS = 12;
/** A Worker invocation may hold 6 connections; one is the job object's. */
const HOST_CALLS_AT_ONCE = 5;

export const story = new Hono<AppEnv>().get(
  "/:id/story",
  keyed("canonical", TAGS.canonical, {
    operationId: "getEmailValidationStory",
    summary: "The job's story: rate over time, ETA, greylisting and backed-off servers",
    parameters: [jobIdParam],
    responses: { 200: { description: "The story.", content: json(insight.storyObject) } },
    errors: [404],
  }),
  async (c) => {
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
  },
);
