import { and, eq, isNull } from "drizzle-orm";
import { randomToken } from "../lib/crypto";
import { newWebhookSecret } from "../webhooks/sign";
import type { Db } from "./client";
import { accountWebhookSecrets, type WebhookEndpointRow, webhookEndpoints } from "./schema";

export async function createEndpoint(
  db: Db,
  accountId: string,
  url: string,
  events: string[],
): Promise<WebhookEndpointRow> {
  const row: WebhookEndpointRow = {
    id: `we_${randomToken(12)}`,
    accountId,
    url,
    secret: newWebhookSecret(),
    events: JSON.stringify(events),
    createdAt: Date.now(),
    disabledAt: null,
    disabledReason: null,
  };
  await db.insert(webhookEndpoints).values(row);
  return row;
}

export async function listEndpoints(db: Db, accountId: string): Promise<WebhookEndpointRow[]> {
  return db
    .select()
    .from(webhookEndpoints)
    .where(eq(webhookEndpoints.accountId, accountId))
    .orderBy(webhookEndpoints.createdAt);
}

/** Enabled endpoints of the account that subscribe to an event type. */
export async function endpointsFor(
  db: Db,
  accountId: string,
  eventType: string,
): Promise<WebhookEndpointRow[]> {
  const rows = await db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.accountId, accountId), isNull(webhookEndpoints.disabledAt)));
  return rows.filter((r) => (JSON.parse(r.events) as string[]).includes(eventType));
}

export async function deleteEndpoint(db: Db, accountId: string, id: string): Promise<boolean> {
  const gone = await db
    .delete(webhookEndpoints)
    .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.accountId, accountId)))
    .returning({ id: webhookEndpoints.id });
  return gone.length > 0;
}

export async function disableEndpoint(db: Db, id: string, reason: string): Promise<void> {
  await db
    .update(webhookEndpoints)
    .set({ disabledAt: Date.now(), disabledReason: reason })
    .where(eq(webhookEndpoints.id, id));
}

/** The secret that signs deliveries to jobs' own webhook_url; created on first use. */
export async function accountSecret(db: Db, accountId: string): Promise<string> {
  await db
    .insert(accountWebhookSecrets)
    .values({ accountId, secret: newWebhookSecret(), createdAt: Date.now() })
    .onConflictDoNothing();
  const rows = await db
    .select()
    .from(accountWebhookSecrets)
    .where(eq(accountWebhookSecrets.accountId, accountId));
  return rows[0]!.secret;
}

/** Replaces the account's job-webhook secret and returns the new one (shown once). */
export async function rotateAccountSecret(db: Db, accountId: string): Promise<string> {
  const secret = newWebhookSecret();
  await db
    .insert(accountWebhookSecrets)
    .values({ accountId, secret, createdAt: Date.now() })
    .onConflictDoUpdate({ target: accountWebhookSecrets.accountId, set: { secret, createdAt: Date.now() } });
  return secret;
}
