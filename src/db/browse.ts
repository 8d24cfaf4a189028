import { and, asc, desc, eq, gt, inArray, lt, type SQL, sql } from "drizzle-orm";
import type { Db } from "./client";
import { type ResultRow, results } from "./schema";

// Reading a job's results the way a person looks at them: filtered by
// verdict, reason or text, a keyset page at a time (never OFFSET), and the
// job summed up by verdict, reason and domain.

export interface ResultFilter {
  results?: string[];
  reasons?: string[];
  /** A piece of the address: a name, `@domain`, or a whole address. */
  text?: string;
}

export type Cursor = { after: number } | { before: number } | null;

export interface FilteredPage {
  rows: ResultRow[];
  hasNext: boolean;
  hasPrev: boolean;
}

/** The LIKE pattern that finds `text` anywhere, its wildcards taken literally. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function where(jobId: string, f: ResultFilter): SQL | undefined {
  return and(
    eq(results.jobId, jobId),
    f.results?.length ? inArray(results.result, f.results) : undefined,
    f.reasons?.length ? inArray(results.reason, f.reasons) : undefined,
    f.text ? sql`${results.email} LIKE ${containsPattern(f.text)} ESCAPE '\\'` : undefined,
  );
}

/** One page of the results that pass `filter`, in input order, after or before a position. */
export async function filteredPage(
  db: Db,
  jobId: string,
  filter: ResultFilter,
  size: number,
  cursor: Cursor,
): Promise<FilteredPage> {
  const base = where(jobId, filter);
  if (cursor && "before" in cursor) {
    const rows = await db
      .select()
      .from(results)
      .where(and(base, lt(results.position, cursor.before)))
      .orderBy(desc(results.position))
      .limit(size + 1);
    return { rows: rows.slice(0, size).reverse(), hasPrev: rows.length > size, hasNext: true };
  }
  const rows = await db
    .select()
    .from(results)
    .where(and(base, gt(results.position, cursor?.after ?? -1)))
    .orderBy(asc(results.position))
    .limit(size + 1);
  const page = rows.slice(0, size);
  let hasPrev = false;
  if (cursor) {
    const earlier = await db
      .select({ p: results.position })
      .from(results)
      .where(and(base, lt(results.position, page[0]?.position ?? cursor.after + 1)))
      .limit(1);
    hasPrev = earlier.length > 0;
  }
  return { rows: page, hasNext: rows.length > size, hasPrev };
}

export interface Breakdown {
  reasons: { result: string; reason: string; count: number }[];
  domains: {
    domain: string;
    total: number;
    deliverable: number;
    risky: number;
    undeliverable: number;
    unknown: number;
  }[];
}

// The text after the last "@" (rtrim drops every trailing character that is not "@");
// an entry without one (refused as invalid syntax) has no domain.
const DOMAIN = sql<string>`case when instr(${results.email}, '@') = 0 then '' else lower(substr(${results.email}, length(rtrim(${results.email}, replace(${results.email}, '@', ''))) + 1)) end`;
// Aliased: D1 answers columns by name, and unnamed expressions would collide.
const countOf = (verdict: string) =>
  sql<number>`sum(case when ${results.result} = ${verdict} then 1 else 0 end)`.mapWith(Number).as(verdict);

/** How many results per verdict and reason, and the `topDomains` domains with the most results. */
export async function breakdown(db: Db, jobId: string, topDomains: number): Promise<Breakdown> {
  const count = sql<number>`count(*)`.mapWith(Number);
  const [reasons, domains] = await db.batch([
    db
      .select({ result: results.result, reason: results.reason, count })
      .from(results)
      .where(eq(results.jobId, jobId))
      .groupBy(results.result, results.reason)
      .orderBy(desc(count)),
    db
      .select({
        domain: DOMAIN.as("domain"),
        total: sql<number>`count(*)`.mapWith(Number).as("total"),
        deliverable: countOf("deliverable"),
        risky: countOf("risky"),
        undeliverable: countOf("undeliverable"),
        unknown: countOf("unknown"),
      })
      .from(results)
      .where(eq(results.jobId, jobId))
      .groupBy(DOMAIN)
      .orderBy(sql`total desc, domain`)
      .limit(topDomains),
  ]);
  return { reasons, domains };
}

/** Every result that passes `filter`, in input order, one keyset page at a time. */
export async function* filteredPages(
  db: Db,
  jobId: string,
  filter: ResultFilter,
  size = 1000,
): AsyncGenerator<ResultRow[]> {
  const base = where(jobId, filter);
  let after = -1;
  for (;;) {
    const rows = await db
      .select()
      .from(results)
      .where(and(base, gt(results.position, after)))
      .orderBy(asc(results.position))
      .limit(size);
    if (rows.length) yield rows;
    if (rows.length < size) return;
    after = rows[rows.length - 1]!.position;
  }
}
