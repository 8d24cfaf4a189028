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

/** The key's id and account, or null. The lookup is by hash; the key itself never touches the database. */
export async function accountForKey(
  db: Db,
  key: string,
): Promise<{ accountId: string; keyId: string } | null> {
  const hash = await sha256Hex(key);
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
