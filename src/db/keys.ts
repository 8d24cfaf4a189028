import { eq } from "drizzle-orm";
import { randomToken, sha256Hex } from "../lib/crypto";
import type { Db } from "./client";
import { apiKeys } from "./schema";

export interface CreatedKey {
  id: string;
  account: string;
  key: string;
  created_at: string;
}

/** Creates a key for an account. Only its hash is stored; the key is returned once. */
export async function createApiKey(db: Db, account: string): Promise<CreatedKey> {
  const key = `mv_${randomToken(32)}`;
  const id = `key_${randomToken(9)}`;
  const now = Date.now();
  await db.insert(apiKeys).values({ id, accountId: account, keyHash: await sha256Hex(key), createdAt: now });
  return { id, account, key, created_at: new Date(now).toISOString() };
}

export interface KeyOwner {
  accountId: string;
  keyId: string;
}

/**
 * Keys verified recently, by hash, per isolate: a client polling a job does
 * not cost a D1 read per request. Keys cannot be revoked, and the entries
 * expire after a minute anyway. Misses are not cached.
 */
const verified = new Map<string, { owner: KeyOwner; expires: number }>();
const VERIFIED_TTL_MS = 60_000;
const VERIFIED_MAX = 10_000;

/** The key's id and account, or null. The lookup is by hash; the key itself never touches the database. */
export async function accountForKey(db: Db, key: string): Promise<KeyOwner | null> {
  const hash = await sha256Hex(key);
  const hit = verified.get(hash);
  if (hit && hit.expires > Date.now()) return hit.owner;
  const owner = await lookupKey(db, hash);
  if (owner) {
    if (verified.size >= VERIFIED_MAX) verified.clear();
    verified.set(hash, { owner, expires: Date.now() + VERIFIED_TTL_MS });
  }
  return owner;
}

async function lookupKey(db: Db, hash: string): Promise<KeyOwner | null> {
  const rows = await db
    .select({ id: apiKeys.id, accountId: apiKeys.accountId, keyHash: apiKeys.keyHash })
    .from(apiKeys)
    .where(eq(apiKeys.keyHash, hash))
    .limit(1);
  const row = rows[0];
  if (!row) return null;
  // Equal by index lookup already; compare again in constant time as defence in depth.
  const a = new TextEncoder().encode(row.keyHash);
  const b = new TextEncoder().encode(hash);
  return a.byteLength === b.byteLength && crypto.subtle.timingSafeEqual(a, b)
    ? { accountId: row.accountId, keyId: row.id }
    : null;
}
