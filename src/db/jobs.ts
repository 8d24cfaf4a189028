import { and, desc, eq, lt } from "drizzle-orm";
import type { Db } from "./client";
import { jobs } from "./schema";

export type NewJob = typeof jobs.$inferInsert;
export type JobMirror = Partial<
  Pick<NewJob, "status" | "finishedAt" | "processed" | "deliverable" | "undeliverable" | "risky" | "unknown">
>;

export async function insertJob(db: Db, job: NewJob): Promise<void> {
  await db.insert(jobs).values(job).onConflictDoNothing();
}

export async function updateJob(db: Db, id: string, fields: JobMirror): Promise<void> {
  await db.update(jobs).set(fields).where(eq(jobs.id, id));
}

export async function deleteJob(db: Db, id: string): Promise<void> {
  await db.delete(jobs).where(eq(jobs.id, id));
}

/** An account's jobs, newest first; ids are UUIDv7, so they sort by creation time. */
export async function listJobs(db: Db, accountId: string, opts: { size: number; before?: string }) {
  return db
    .select()
    .from(jobs)
    .where(and(eq(jobs.accountId, accountId), opts.before ? lt(jobs.id, opts.before) : undefined))
    .orderBy(desc(jobs.id))
    .limit(opts.size);
}
