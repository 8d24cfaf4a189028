import type { JobRow, ResultRow } from "../db/schema";
import type { JobSnapshot } from "../job/object";
import { canonicalStatus, type JobStatus } from "../job/state";

// Shapes of the canonical family. By default every object carries exactly the
// fields of the contract (additionalProperties: false); ?include=details adds
// mailvet's extra fields.

export interface Links {
  self: { href: string };
  next?: { href: string };
  prev?: { href: string };
}

export function presentResult(row: ResultRow, details: boolean) {
  const base = {
    object: "email_validation_result" as const,
    email: row.email,
    result: row.result as "deliverable" | "risky" | "undeliverable" | "unknown",
    catch_all: row.catchAll,
  };
  if (!details) return base;
  const d = JSON.parse(row.detail) as Record<string, unknown>;
  return { ...base, reason: row.reason, score: row.score, ...d };
}

export function presentJob(job: JobSnapshot, rows: ResultRow[], links: Links, details: boolean) {
  const body: Record<string, unknown> = {
    id: job.id,
    object: "email_validation",
    status: canonicalStatus(job.status),
    results: rows.map((r) => presentResult(r, details)),
    ...(job.error ? { _errors: [job.error] } : {}),
    _links: links,
  };
  if (details) Object.assign(body, jobDetails(job));
  return body;
}

export function jobDetails(job: JobSnapshot) {
  return {
    label: job.label,
    source: job.source,
    paused: job.status === "paused",
    total: job.total,
    counts: job.counts,
    created_at: iso(job.createdAt),
    started_at: iso(job.startedAt),
    finished_at: iso(job.finishedAt),
    start_at: iso(job.startAt),
  };
}

export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** A job in the account's list: the contract's object without results, details on request. */
export function presentListedJob(row: JobRow, details: boolean) {
  const status = canonicalStatus(row.status as JobStatus);
  const href = `/email-validations/${row.id}`;
  const base = {
    id: row.id,
    object: "email_validation" as const,
    status,
    results: [],
    _links: { self: { href } },
  };
  if (!details) return base;
  return {
    ...base,
    label: row.label,
    source: row.source,
    paused: row.status === "paused",
    total: row.total,
    counts: {
      processed: row.processed,
      deliverable: row.deliverable,
      undeliverable: row.undeliverable,
      risky: row.risky,
      unknown: row.unknown,
    },
    created_at: iso(row.createdAt),
    finished_at: iso(row.finishedAt),
  };
}
