import { and, asc, desc, eq, gt, gte, inArray, lt } from "drizzle-orm";
import type { Db } from "./client";
import { type ResultRow, results } from "./schema";

export type NewResult = typeof results.$inferInsert;

export interface Counts {
  processed: number;
  deliverable: number;
  undeliverable: number;
  risky: number;
  unknown: number;
}

/**
 * Rows go to D1 as one JSON array per statement, unpacked by json_each: two
 * bound parameters however many rows, where one parameter per column would
 * allow 11 rows a statement under the limit of 100. A statement's JSON stays
 * well under D1's 2 MB for a single value.
 */
const JSON_BYTES_PER_STATEMENT = 1_000_000;

const UPSERT_FROM_JSON = `
  INSERT INTO results (job_id, position, email, result, catch_all, reason, score, detail, extra)
  SELECT ?1, value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7
  FROM json_each(?2) WHERE true
  ON CONFLICT (job_id, position) DO UPDATE SET
    result = excluded.result, catch_all = excluded.catch_all, reason = excluded.reason,
    score = excluded.score, detail = excluded.detail`;

const CLOSED_JOB_GUARD =
  "INSERT INTO jobs (id, account_id) SELECT NULL, NULL WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE id = ? AND status <> 'canceled')";

const UPDATE_TOTALS =
  "UPDATE jobs SET processed = ?2, deliverable = ?3, undeliverable = ?4, risky = ?5, unknown = ?6 WHERE id = ?1";

/** The rows as JSON arrays of at most JSON_BYTES_PER_STATEMENT each. */
function jsonParts(rows: NewResult[]): string[] {
  const parts: string[] = [];
  let part: string[] = [];
  let bytes = 0;
  for (const r of rows) {
    const one = JSON.stringify([
      r.position,
      r.email,
      r.result,
      r.catchAll ? 1 : 0,
      r.reason,
      r.score,
      r.detail,
      r.extra ?? null,
    ]);
    if (part.length && bytes + one.length > JSON_BYTES_PER_STATEMENT) {
      parts.push(`[${part.join(",")}]`);
      part = [];
      bytes = 0;
    }
    part.push(one);
    bytes += one.length + 1;
  }
  if (part.length) parts.push(`[${part.join(",")}]`);
  return parts;
}

/**
 * Writes a batch of results and the job's new totals in one D1 batch (one
 * transaction). Rows are upserted by (job, position) and the totals are
 * absolute, so replaying the same batch after a crash changes nothing.
 * The batch fails as a whole when the job's row says canceled (or is gone):
 * a write that lands after a cancel, however late, changes nothing.
 * Returns the number of statements it took.
 */
export async function writeResults(
  db: Db,
  jobId: string,
  rows: NewResult[],
  totals: Counts,
): Promise<number> {
  // Plain D1 statements: drizzle's batch cannot take a raw statement.
  const d1 = db.$client;
  const statements = [
    // A row that cannot exist (NULL keys) is inserted only when the job is closed: the constraint aborts the batch.
    d1.prepare(CLOSED_JOB_GUARD).bind(jobId),
    ...jsonParts(rows).map((json) => d1.prepare(UPSERT_FROM_JSON).bind(jobId, json)),
    d1
      .prepare(UPDATE_TOTALS)
      .bind(jobId, totals.processed, totals.deliverable, totals.undeliverable, totals.risky, totals.unknown),
  ];
  await d1.batch(statements);
  return statements.length;
}

export type PageRequest =
  | { size: number; after?: undefined; before?: undefined }
  | { size: number; after: number; before?: undefined }
  | { size: number; before: number; after?: undefined };

export interface Page {
  rows: ResultRow[];
  hasNext: boolean;
  hasPrev: boolean;
}

/** Keyset page over a job's results in input order; never OFFSET. */
export async function pageResults(
  db: Db,
  jobId: string,
  req: PageRequest,
  classes?: string[],
  /** Whether to look for a previous page (one more query); streams that only go forward skip it. */
  withPrev = true,
): Promise<Page> {
  const filter = classes?.length ? inArray(results.result, classes) : undefined;
  if (req.before !== undefined) {
    const rows = await db
      .select()
      .from(results)
      .where(and(eq(results.jobId, jobId), lt(results.position, req.before), filter))
      .orderBy(desc(results.position))
      .limit(req.size + 1);
    const hasPrev = rows.length > req.size;
    return { rows: rows.slice(0, req.size).reverse(), hasPrev, hasNext: true };
  }
  const start = req.after ?? -1;
  const rows = await db
    .select()
    .from(results)
    .where(and(eq(results.jobId, jobId), gt(results.position, start), filter))
    .orderBy(asc(results.position))
    .limit(req.size + 1);
  const page = rows.slice(0, req.size);
  let hasPrev = false;
  if (withPrev && req.after !== undefined) {
    const first = page[0]?.position ?? req.after + 1;
    hasPrev = await existsBefore(db, jobId, first, filter);
  }
  return { rows: page, hasNext: rows.length > req.size, hasPrev };
}

async function existsBefore(
  db: Db,
  jobId: string,
  position: number,
  filter: ReturnType<typeof inArray> | undefined,
) {
  const row = await db
    .select({ p: results.position })
    .from(results)
    .where(and(eq(results.jobId, jobId), lt(results.position, position), filter))
    .limit(1);
  return row.length > 0;
}

/** The input position of a result, by its email (the cursor the contract uses). */
export async function positionOf(db: Db, jobId: string, email: string): Promise<number | null> {
  const row = await db
    .select({ position: results.position })
    .from(results)
    .where(and(eq(results.jobId, jobId), eq(results.email, email)))
    .limit(1);
  return row[0]?.position ?? null;
}

/** Rows one delete statement removes: far from D1's per-query time limit even for a large job. */
export const DELETE_CHUNK = 5000;

/**
 * Removes a job's results a slice of positions at a time, so no statement
 * nears D1's per-query limit; returns how many statements it took.
 */
export async function deleteJobResults(db: Db, jobId: string, total: number): Promise<number> {
  let statements = 0;
  for (let from = 0; from < Math.max(total, 1); from += DELETE_CHUNK) {
    const to = from + DELETE_CHUNK;
    await db
      .delete(results)
      .where(and(eq(results.jobId, jobId), gte(results.position, from), lt(results.position, to)));
    statements++;
  }
  // Anything past the stored total (never expected) goes in one last sweep.
  await db.delete(results).where(and(eq(results.jobId, jobId), gte(results.position, Math.max(total, 1))));
  return statements + 1;
}

/** Every result of a job (optionally of some classes) in input order, one keyset page at a time. */
export async function* resultPages(
  db: Db,
  jobId: string,
  classes?: string[],
  size = 1000,
): AsyncGenerator<ResultRow[]> {
  let after = -1;
  for (;;) {
    const page = await pageResults(db, jobId, { size, after }, classes, false);
    if (page.rows.length) yield page.rows;
    if (!page.hasNext) return;
    after = page.rows[page.rows.length - 1]!.position;
  }
}
