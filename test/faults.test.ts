import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { FaultStage } from "../src/job/faults";
import { jobStub } from "../src/job/stub";
import { allResults, createJob, newAccount, waitForJob } from "./helpers";

// Batches that die at every stage still give each address exactly one result.

async function rowStats(id: string) {
  const row = await env.DB.prepare(
    "SELECT COUNT(*) AS n, COUNT(DISTINCT position) AS positions, COUNT(DISTINCT email) AS emails FROM results WHERE job_id = ?",
  )
    .bind(id)
    .first<{ n: number; positions: number; emails: number }>();
  const job = await env.DB.prepare(
    "SELECT processed, deliverable, undeliverable, risky, unknown FROM jobs WHERE id = ?",
  )
    .bind(id)
    .first<{
      processed: number;
      deliverable: number;
      undeliverable: number;
      risky: number;
      unknown: number;
    }>();
  return { ...row!, mirror: job! };
}

/** A job that starts a moment from now, so the fault is armed before its first batch. */
async function jobWithFault(stage: FaultStage, times: number, emails: string[]) {
  const { auth } = await newAccount();
  const job = await createJob(auth, emails, { start_at: new Date(Date.now() + 1000).toISOString() });
  const stub = jobStub(env, job.id);
  expect(await stub.injectFault(stage, times)).toBe(true);
  return { auth, job, stub };
}

const EMAILS = [
  ...Array.from({ length: 20 }, (_, i) => `f${i}@normal.test`),
  "alice@normal.test",
  "x@catchall.test",
  "y@nullmx.test",
  "not-an-email",
];

describe("fault injection", () => {
  it.each(["before_verify", "after_verify", "d1_write", "mid_write", "after_write"] as const)(
    "a batch that throws at %s is retried to exactly-once results",
    async (stage) => {
      const { auth, job, stub } = await jobWithFault(stage, 2, EMAILS);
      const done = await waitForJob(auth, job.id);
      expect(await stub.faultsTripped()).toBe(2);
      expect(done.status).toBe("completed");
      const stats = await rowStats(job.id);
      expect(stats).toMatchObject({ n: EMAILS.length, positions: EMAILS.length, emails: EMAILS.length });
      expect(done.counts?.processed).toBe(EMAILS.length);
      const c = done.counts!;
      expect(c.deliverable + c.undeliverable + c.risky + c.unknown).toBe(EMAILS.length);
      // The D1 mirror agrees with the rows.
      expect(stats.mirror).toEqual(c);
      expect((await allResults(auth, job.id, 7)).map((r) => r.email)).toEqual(EMAILS);
    },
  );

  it("a job whose batches keep failing ends in error with _errors, not in a loop", async () => {
    const { auth, job, stub } = await jobWithFault("before_verify", 1000, EMAILS);
    const done = await waitForJob(auth, job.id);
    expect(done.status).toBe("error");
    expect(done._errors?.[0]).toMatchObject({ code: "processing_failed" });
    expect(await stub.faultsTripped()).toBe(Number(env.MAX_BATCH_FAILURES));
    expect((await rowStats(job.id)).n).toBe(0);
  });

  it("an SMTP server that drops the connection mid-dialog gives one honest result per address", async () => {
    const { auth } = await newAccount();
    const emails = ["a@drop.test", "b@drop.test", "alice@normal.test"];
    const job = await createJob(auth, emails);
    const done = await waitForJob(auth, job.id);
    expect(done.status).toBe("completed");
    expect(done.results.map((r) => [r.email, r.result])).toEqual([
      ["a@drop.test", "unknown"],
      ["b@drop.test", "unknown"],
      ["alice@normal.test", "deliverable"],
    ]);
    expect((await rowStats(job.id)).n).toBe(3);
  });
});
