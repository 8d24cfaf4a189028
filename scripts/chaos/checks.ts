// The assertions of a chaos run. Each check is recorded with what was seen,
// pass or fail, so the summary lists all of them and a failure says why.

import { http } from "../lib/http";
import { type Counts, RESULT_CLASSES, type ResultClass, type ResultLine } from "../lib/mailvet-api";
import { Deadline, sleep } from "../lib/time";

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export class Checks {
  readonly all: Check[] = [];

  expect(name: string, ok: boolean, detail = ""): boolean {
    this.all.push({ name, ok, detail });
    console.log(`  ${ok ? "PASS" : "FAIL"}  ${name}${detail ? ` — ${detail}` : ""}`);
    return ok;
  }

  get failures(): Check[] {
    return this.all.filter((c) => !c.ok);
  }
}

/** Rows per result class, as downloaded. */
export function classCounts(lines: readonly ResultLine[]): Record<ResultClass, number> {
  const out = { deliverable: 0, risky: 0, undeliverable: 0, unknown: 0 };
  for (const line of lines) if (line.result in out) out[line.result]++;
  return out;
}

const sample = (items: readonly string[]) =>
  items.length
    ? ` e.g. ${items
        .slice(0, 5)
        .map((s) => JSON.stringify(s))
        .join(", ")}`
    : "";

/** One row per submitted address, no more, no less, and counts that agree with the rows. */
export function checkResultSet(
  checks: Checks,
  label: string,
  submitted: readonly string[],
  lines: readonly ResultLine[],
  counts: Counts,
): void {
  const want = new Set(submitted);
  const seen = new Set<string>();
  const duplicated: string[] = [];
  const unexpected: string[] = [];
  for (const line of lines) {
    if (seen.has(line.email)) duplicated.push(line.email);
    seen.add(line.email);
    if (!want.has(line.email)) unexpected.push(line.email);
  }
  const missing = submitted.filter((e) => !seen.has(e));
  checks.expect(
    `${label}: ${submitted.length} rows downloaded`,
    lines.length === submitted.length,
    `got ${lines.length}`,
  );
  checks.expect(
    `${label}: no duplicate rows`,
    duplicated.length === 0,
    `${duplicated.length}${sample(duplicated)}`,
  );
  checks.expect(`${label}: no missing address`, missing.length === 0, `${missing.length}${sample(missing)}`);
  checks.expect(
    `${label}: no row for an address never sent`,
    unexpected.length === 0,
    `${unexpected.length}${sample(unexpected)}`,
  );
  checkCountsMatchRows(checks, label, lines, counts);
}

/** The job's counts equal the stored rows, class by class. */
export function checkCountsMatchRows(
  checks: Checks,
  label: string,
  lines: readonly ResultLine[],
  counts: Counts,
): void {
  const rows = classCounts(lines);
  const bad = RESULT_CLASSES.filter((c) => rows[c] !== counts[c]).map(
    (c) => `${c}: counts ${counts[c]} vs rows ${rows[c]}`,
  );
  const invalid = lines
    .filter((l) => !RESULT_CLASSES.includes(l.result))
    .map((l) => `${l.email}=${l.result}`);
  checks.expect(
    `${label}: counts equal stored rows per class`,
    bad.length === 0 && counts.processed === lines.length && invalid.length === 0,
    bad.length || counts.processed !== lines.length || invalid.length
      ? [...bad, `processed ${counts.processed} vs rows ${lines.length}`, ...invalid.slice(0, 3)].join("; ")
      : formatCounts(counts),
  );
}

export function formatCounts(c: Counts | undefined): string {
  if (!c) return "no counts";
  return `processed ${c.processed} (deliverable ${c.deliverable}, risky ${c.risky}, undeliverable ${c.undeliverable}, unknown ${c.unknown})`;
}

export function sameCounts(a: Counts | undefined, b: Counts | undefined): boolean {
  return !!a && !!b && (["processed", ...RESULT_CLASSES] as const).every((k) => a[k] === b[k]);
}

interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  time: number;
}

/** What the webhook receiver recorded for one path (its control API). */
export async function receivedWebhooks(receiverUrl: string, path?: string): Promise<RecordedRequest[]> {
  const query = path === undefined ? "" : `?path=${encodeURIComponent(path)}`;
  const res = await http<RecordedRequest[]>("GET", `${receiverUrl}/_requests${query}`);
  if (res.status !== 200 || !Array.isArray(res.body))
    throw new Error(`webhook receiver: ${res.status} ${res.text}`);
  return res.body;
}

/**
 * At-least-once delivery of a job's terminal event: one or more requests, all
 * carrying the same webhook-id, with the event type, job id and final counts.
 */
export async function checkWebhook(
  checks: Checks,
  label: string,
  receiverUrl: string,
  path: string,
  expected: { type: string; jobId: string; counts: Counts | undefined },
  waitMs: number,
): Promise<RecordedRequest[]> {
  const deadline = new Deadline(waitMs, `${label} webhook`);
  let got = await receivedWebhooks(receiverUrl, path);
  // Delivery runs from the alarm after the state change: give it a moment.
  while (got.length === 0 && !deadline.passed) {
    await sleep(500);
    got = await receivedWebhooks(receiverUrl, path);
  }
  checks.expect(
    `${label}: webhook delivered at least once`,
    got.length >= 1,
    `${got.length} request(s) to ${path}`,
  );
  if (!got.length) return got;
  const ids = [...new Set(got.map((r) => r.headers["webhook-id"] ?? "(none)"))];
  checks.expect(
    `${label}: same webhook-id on every delivery`,
    ids.length === 1 && ids[0] !== "(none)",
    `${got.length} delivery(ies), webhook-id ${ids.join(", ")}`,
  );
  const bodies = got.map((r) => {
    try {
      return JSON.parse(r.body) as { type?: string; data?: { id?: string; counts?: Counts } };
    } catch {
      return {};
    }
  });
  const wrong = bodies.filter(
    (b) =>
      b.type !== expected.type ||
      b.data?.id !== expected.jobId ||
      !sameCounts(b.data?.counts, expected.counts),
  );
  checks.expect(
    `${label}: webhook says ${expected.type} with the final counts`,
    wrong.length === 0,
    wrong.length ? `got ${JSON.stringify(wrong[0]).slice(0, 300)}` : formatCounts(expected.counts),
  );
  return got;
}
