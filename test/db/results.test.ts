import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { openDb } from "../../src/db/client";
import { insertJob } from "../../src/db/jobs";
import { type NewResult, pageResults, writeResults } from "../../src/db/results";

// Result writes: many rows in one statement, exact round trip, idempotent replay.

const jobId = () => crypto.randomUUID();

function rows(id: string, n: number, extra?: (i: number) => string | null): NewResult[] {
  return Array.from({ length: n }, (_, i) => ({
    jobId: id,
    position: i,
    email: `user${i}@normal.test`,
    result: i % 3 === 0 ? "deliverable" : "undeliverable",
    catchAll: i % 5 === 0,
    reason: i % 3 === 0 ? "accepted" : "mailbox_not_found",
    score: i % 100,
    detail: JSON.stringify({ mx: "mx.normal.test", note: `quote " and \\ and ünïcode ${i}` }),
    extra: extra ? extra(i) : null,
  }));
}

async function newJob(db: ReturnType<typeof openDb>, id: string) {
  await insertJob(db, {
    id,
    accountId: "acct",
    label: null,
    source: "api",
    status: "processing",
    total: 500,
    createdAt: Date.now(),
  });
}

const totals = { processed: 500, deliverable: 167, undeliverable: 333, risky: 0, unknown: 0 };

describe("writeResults", () => {
  it("writes 500 rows in one statement, behind the closed-job guard and before the totals, and reads them back unchanged", async () => {
    const db = openDb(env.DB);
    const id = jobId();
    await newJob(db, id);
    const written = rows(id, 500, (i) => (i % 2 ? JSON.stringify({ name: `n${i}` }) : null));
    expect(await writeResults(db, id, written, totals)).toBe(3);
    const page = await pageResults(db, id, { size: 1000 });
    expect(page.rows).toEqual(written);
    const job = await env.DB.prepare("SELECT processed, undeliverable FROM jobs WHERE id = ?")
      .bind(id)
      .first();
    expect(job).toEqual({ processed: 500, undeliverable: 333 });
  });

  it("replays a batch without changing anything, and a new verdict replaces the old", async () => {
    const db = openDb(env.DB);
    const id = jobId();
    await newJob(db, id);
    const first = rows(id, 50);
    await writeResults(db, id, first, totals);
    await writeResults(db, id, first, totals);
    const changed = first.map((r) =>
      r.position === 7 ? { ...r, result: "risky", reason: "greylisted" } : r,
    );
    await writeResults(db, id, changed, totals);
    const page = await pageResults(db, id, { size: 100 });
    expect(page.rows).toEqual(changed);
  });

  it("splits rows whose JSON would pass a megabyte into more statements", async () => {
    const db = openDb(env.DB);
    const id = jobId();
    await newJob(db, id);
    // 40 rows of ~50 kB of extra fields each: about 2 MB of JSON.
    const big = rows(id, 40, (i) => JSON.stringify({ blob: "x".repeat(50_000), i }));
    const statements = await writeResults(db, id, big, totals);
    // The guard, two upserts or more, the totals.
    expect(statements).toBeGreaterThanOrEqual(4);
    const page = await pageResults(db, id, { size: 100 });
    expect(page.rows).toEqual(big);
  });
});
