// The webhook body is thin on purpose: it says what happened to which job and
// where to read it. Integrators fetch the results through the API, so the
// payload never carries addresses and stays small whatever the job's size.

import type { Counts } from "../db/results";
import { canonicalStatus, type JobStatus } from "../job/state";

export type WebhookEventType =
  | "email_validation.completed"
  | "email_validation.canceled"
  | "email_validation.failed"
  | "email_validation.progress";

export interface WebhookPayload {
  type: WebhookEventType;
  /** ISO 8601, when the event happened (not when an attempt was sent). */
  timestamp: string;
  data: {
    id: string;
    status: string;
    counts: Counts;
    links: { self: string };
  };
}

/** The event a job's end sends, or null while it still runs. */
export function terminalEventType(status: JobStatus): WebhookEventType | null {
  switch (status) {
    case "completed":
      return "email_validation.completed";
    case "canceled":
      return "email_validation.canceled";
    case "error":
      return "email_validation.failed";
    default:
      return null;
  }
}

export function eventPayload(
  type: WebhookEventType,
  job: { id: string; status: JobStatus; counts: Counts },
  now: number,
): WebhookPayload {
  return {
    type,
    timestamp: new Date(now).toISOString(),
    data: {
      id: job.id,
      // The same status name the API shows for the job.
      status: canonicalStatus(job.status),
      counts: { ...job.counts },
      links: { self: `/email-validations/${encodeURIComponent(job.id)}` },
    },
  };
}
