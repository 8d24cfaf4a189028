import type { JobRow, ResultRow } from "../db/schema";
import type { JobSnapshot } from "../job/object";
import { compatState, type JobStatus } from "../job/state";
import { iso } from "./present";

// Shapes of the seed-003 compatible family (/v1/email/validate/…).
//
// Its classifier knows valid, risky and invalid. mailvet's `unknown` (the
// server could not be asked, or would not say) maps to `risky` — it is not
// safe to send to, and it is not proven bad — with "unknown" and the reason in
// `description`, so nothing is hidden. summary.riskyCount therefore includes
// unknown results; summary.unknownCount breaks them out.

const CLASSIFIER = {
  deliverable: "valid",
  risky: "risky",
  unknown: "risky",
  undeliverable: "invalid",
} as const;
export type Classifier = (typeof CLASSIFIER)[keyof typeof CLASSIFIER];
export const CLASSIFIERS = ["valid", "risky", "invalid"] as const;

/** The result classes a seed-003 filter selects. */
export function classesFor(filters: readonly string[]): string[] {
  return Object.entries(CLASSIFIER)
    .filter(([, c]) => filters.includes(c))
    .map(([r]) => r);
}

const MX_FAIL = new Set(["no_domain", "null_mx", "no_mx", "reserved_domain"]);
/** No DNS answer to judge the MX by: a broken one, or a resolver we could not reach. */
const DNS_UNKNOWN = new Set(["dns_error", "dns_unavailable"]);
const MAILBOX_FAIL = new Set(["mailbox_not_found", "mailbox_disabled"]);
const DESCRIPTION: Record<string, string> = {
  invalid_syntax: "invalid_syntax",
  no_domain: "invalid_mx",
  null_mx: "invalid_mx",
  no_mx: "invalid_mx",
  reserved_domain: "invalid_mx",
  mailbox_not_found: "mailbox_not_found",
  mailbox_disabled: "mailbox_disabled",
  mailbox_full: "mailbox_full",
  catch_all: "catch_all",
  catch_all_unknown: "catch_all",
  disposable: "disposable_email",
};

interface Detail {
  smtp_code: number | null;
  smtp_text: string | null;
  role?: boolean;
  free?: boolean;
  disposable?: boolean;
  did_you_mean?: string | null;
}

export function compatResult(row: Pick<ResultRow, "email" | "result" | "reason" | "score" | "detail">) {
  const d = JSON.parse(row.detail) as Detail;
  const description: string[] = [];
  if (DESCRIPTION[row.reason]) description.push(DESCRIPTION[row.reason] as string);
  if (row.result === "unknown") description.push("unknown", row.reason);
  if (d.role) description.push("role_email");
  if (d.free) description.push("free_email");
  if (d.disposable && row.reason !== "disposable") description.push("disposable_email");
  if (d.did_you_mean) description.push(`did_you_mean:${d.did_you_mean}`);
  const syntaxFailed = row.reason === "invalid_syntax";
  return {
    email: row.email,
    result: {
      syntax: syntaxFailed ? "fail" : "pass",
      mx: syntaxFailed || DNS_UNKNOWN.has(row.reason) ? "n/a" : MX_FAIL.has(row.reason) ? "fail" : "pass",
      mailbox: row.reason === "accepted" ? "pass" : MAILBOX_FAIL.has(row.reason) ? "fail" : "n/a",
      score: Math.round(row.score / 10),
      classifier: CLASSIFIER[row.result as keyof typeof CLASSIFIER] as Classifier,
      description,
      smtpResponse: d.smtp_code ? `${d.smtp_code} ${d.smtp_text ?? ""}`.trim() : "",
    },
  };
}

/** What the compatible job shape needs: a job object's snapshot, or a listed D1 row (jobRowView). */
export type JobView = Pick<
  JobSnapshot,
  "id" | "label" | "source" | "status" | "total" | "counts" | "createdAt" | "finishedAt"
>;

export function jobRowView(row: JobRow): JobView {
  const { processed, deliverable, undeliverable, risky, unknown } = row;
  return {
    ...row,
    status: row.status as JobStatus,
    counts: { processed, deliverable, undeliverable, risky, unknown },
  };
}

export function compatJob(job: JobView) {
  const c = job.counts;
  return {
    id: job.id,
    label: job.label ?? "",
    state: compatState(job.status),
    emailCount: job.total,
    source: job.source,
    integration: null,
    summary: {
      totalEmails: c.processed,
      deliverableCount: c.deliverable,
      undeliverableCount: c.undeliverable,
      riskyCount: c.risky + c.unknown,
      unknownCount: c.unknown,
    },
    createdAt: iso(job.createdAt),
    finishedAt: iso(job.finishedAt),
  };
}
