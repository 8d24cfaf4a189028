import { and, eq, lt } from "drizzle-orm";
import type { Db } from "./client";
import { idempotencyKeys } from "./schema";

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60_000;

export interface Claim {
  jobId: string;
  requestHash: string;
  /** true when this call claimed the key; false when an earlier request holds it. */
  fresh: boolean;
}

/**
 * Claims an Idempotency-Key for a new job id, or returns who holds it. Keys
 * older than 24 h are forgotten first, so they can be used again.
 */
export async function claimKey(
  db: Db,
  accountId: string,
  key: string,
  requestHash: string,
  jobId: string,
): Promise<Claim> {
  const now = Date.now();
  await db
    .delete(idempotencyKeys)
    .where(
      and(
        eq(idempotencyKeys.accountId, accountId),
        eq(idempotencyKeys.key, key),
        lt(idempotencyKeys.createdAt, now - IDEMPOTENCY_TTL_MS),
      ),
    );
  const inserted = await db
    .insert(idempotencyKeys)
    .values({ accountId, key, requestHash, jobId, createdAt: now })
    .onConflictDoNothing()
    .returning();
  if (inserted.length) return { jobId, requestHash, fresh: true };
  const held = await db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.accountId, accountId), eq(idempotencyKeys.key, key)))
    .limit(1);
  const row = held[0];
  if (!row) return claimKey(db, accountId, key, requestHash, jobId);
  return { jobId: row.jobId, requestHash: row.requestHash, fresh: false };
}

/** Forgets the keys that point at a deleted job, so a replay cannot bring it back. */
export async function forgetJobKeys(db: Db, jobId: string): Promise<void> {
  await db.delete(idempotencyKeys).where(eq(idempotencyKeys.jobId, jobId));
}
