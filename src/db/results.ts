import { and, asc, desc, eq, gt, gte, inArray, lt, sql } from "drizzle-orm";
import { chunk, type Db, rowsPerStatement } from "./client";
import { jobs, type ResultRow, results } from "./schema";

export type NewResult = typeof results.$inferInsert;

export interface Counts {
  processed: number;
  deliverable: number;
  undeliverable: number;
  risky: number;
  unknown: number;
}

const RESULT_COLUMNS = 9;

/**
 * Writes a batch of results and the job's new totals in one D1 batch (one
 * transaction). Rows are upserted by (job, position) and the totals are
 * absolute, so replaying the same batch after a crash changes nothing.
 * The batch fails as a whole when the job's row says canceled (or is gone):
 * a write that lands after a cancel, however late, changes nothing.
 */
export async function writeResults(db: Db, jobId: string, rows: NewResult[], totals: Counts): Promise<void> {
  const statements = chunk(rows, rowsPerStatement(RESULT_COLUMNS)).map((part) =>
    db
      .insert(results)
      .values(part)
      .onConflictDoUpdate({
        target: [results.jobId, results.position],
        set: {
          result: sql`excluded.result`,
          catchAll: sql`excluded.catch_all`,
          reason: sql`excluded.reason`,
          score: sql`excluded.score`,
          detail: sql`excluded.detail`,
        },
      })
      .toSQL(),
  );
  statements.push(db.update(jobs).set(totals).where(eq(jobs.id, jobId)).toSQL());
  const d1 = db.$client;
  await d1.batch([
    // A row that cannot exist (NULL keys) is inserted only when the job is closed: the constraint aborts the batch.
    d1
      .prepare(
        "INSERT INTO jobs (id, account_id) SELECT NULL, NULL WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE id = ? AND status <> 'canceled')",
      )
      .bind(jobId),
    ...statements.map((q) => d1.prepare(q.sql).bind(...q.params)),
  ]);
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
