// The job's webhook events: a terminal event is recorded with the state
// change that caused it, then turned into outbox messages (one per endpoint)
// as soon as D1 can say who listens. Progress events are throttled.

import { openDb } from "../db/client";
import { accountSecret, endpointsFor } from "../db/webhooks";
import type { WebhookOutbox } from "../webhooks/outbox";
import { eventPayload, type WebhookEventType } from "../webhooks/payload";
import type { JobState } from "./object";

/** At most one progress webhook per job this often. */
const PROGRESS_INTERVAL_MS = 10_000;

export interface EventDeps {
  db: D1Database;
  outbox: WebhookOutbox;
  load(): JobState | null;
  save(s: JobState): void;
  atomically(fn: () => void): void;
  armAt(at: number): Promise<void>;
}

/** Puts a pending terminal event's messages in the outbox; if D1 cannot answer, the next alarm tries again. */
export async function flushEvents(deps: EventDeps): Promise<void> {
  const s = deps.load();
  if (!s?.pendingEvent) return;
  const type = s.pendingEvent;
  try {
    const messages = await recipients(deps.db, s, type);
    const body = JSON.stringify(eventPayload(type, s, Date.now()));
    deps.atomically(() => {
      deps.outbox.enqueue(
        messages.map((m) => ({ ...m, eventType: type, body })),
        Date.now(),
      );
      deps.save({ ...deps.load()!, pendingEvent: null });
    });
    if (messages.length) await deps.armAt(Date.now());
  } catch (err) {
    console.error(JSON.stringify({ msg: "webhook enqueue failed", job: s.id, error: String(err) }));
    await deps.armAt(Date.now() + 5000);
  }
}

/** A throttled progress event for endpoints that opted in. */
export async function announceProgress(deps: EventDeps): Promise<void> {
  const s = deps.load();
  const now = Date.now();
  if (!s || now - s.lastProgressAt < PROGRESS_INTERVAL_MS) return;
  deps.save({ ...s, lastProgressAt: now });
  try {
    const type = "email_validation.progress" as const;
    const endpoints = await endpointsFor(openDb(deps.db), s.accountId, type);
    if (!endpoints.length) return;
    const body = JSON.stringify(eventPayload(type, deps.load()!, now));
    deps.outbox.enqueue(
      endpoints.map((e) => ({ url: e.url, secret: e.secret, endpointId: e.id, eventType: type, body })),
      now,
    );
  } catch (err) {
    console.error(JSON.stringify({ msg: "progress event failed", job: s.id, error: String(err) }));
  }
}

/** Who hears about an event: the job's own webhook_url and the account's subscribed endpoints. */
async function recipients(d1: D1Database, s: JobState, type: WebhookEventType) {
  const db = openDb(d1);
  const out: { url: string; secret: string; endpointId: string | null }[] = [];
  if (s.webhookUrl)
    out.push({ url: s.webhookUrl, secret: await accountSecret(db, s.accountId), endpointId: null });
  for (const e of await endpointsFor(db, s.accountId, type))
    out.push({ url: e.url, secret: e.secret, endpointId: e.id });
  return out;
}
