import { and, asc, desc, eq, gt, inArray, lt, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
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
 */
export async function writeResults(db: Db, jobId: string, rows: NewResult[], totals: Counts): Promise<void> {
  const statements: BatchItem<"sqlite">[] = chunk(rows, rowsPerStatement(RESULT_COLUMNS)).map((part) =>
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
      }),
  );
  statements.push(db.update(jobs).set(totals).where(eq(jobs.id, jobId)));
  await db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
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

export async function deleteJobResults(db: Db, jobId: string): Promise<void> {
  await db.delete(results).where(eq(results.jobId, jobId));
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
