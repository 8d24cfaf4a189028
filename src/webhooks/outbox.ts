import type { Config } from "../config";
import { attemptDelivery } from "./deliver";
import { nextAttemptDelayMs } from "./schedule";
import { newMessageId } from "./sign";
import { checkWebhookUrl, dohAddressResolver } from "./ssrf";

// The job object's webhook outbox, in the object's own SQLite: messages wait
// here until delivered, so a restart loses none (at-least-once). The job's
// alarm calls deliverDue(); attempts run beside the job's batches, never
// in front of them.

export interface OutboxMessage {
  url: string;
  secret: string;
  /** The registered endpoint, or null for the job's own webhook_url. */
  endpointId: string | null;
  eventType: string;
  body: string;
}

export interface DeliveryView {
  id: string;
  event_type: string;
  url: string;
  endpoint_id: string | null;
  state: "pending" | "delivered" | "failed";
  created_at: string;
  next_attempt_at: string | null;
  attempts: {
    attempt: number;
    at: string;
    status: number | null;
    duration_ms: number;
    error: string | null;
  }[];
}

/** Deliveries attempted at once per alarm run; Workers allow 6 outgoing connections. */
const PARALLEL = 4;

export class WebhookOutbox {
  constructor(
    private readonly sql: SqlStorage,
    private readonly onDisable: (endpointId: string, reason: string) => Promise<void>,
  ) {
    this.createTables();
  }

  createTables(): void {
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS deliveries (
        id TEXT PRIMARY KEY, endpoint_id TEXT, url TEXT NOT NULL, secret TEXT NOT NULL,
        event_type TEXT NOT NULL, body TEXT NOT NULL, state TEXT NOT NULL,
        attempts INTEGER NOT NULL, next_at INTEGER, created_at INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (state, next_at);
      CREATE TABLE IF NOT EXISTS delivery_attempts (
        delivery_id TEXT NOT NULL, attempt INTEGER NOT NULL, at INTEGER NOT NULL,
        status INTEGER, duration_ms INTEGER NOT NULL, error TEXT,
        PRIMARY KEY (delivery_id, attempt)
      );
    `);
  }

  enqueue(messages: OutboxMessage[], now: number): void {
    for (const m of messages) {
      this.sql.exec(
        `INSERT INTO deliveries (id, endpoint_id, url, secret, event_type, body, state, attempts, next_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)`,
        newMessageId(),
        m.endpointId,
        m.url,
        m.secret,
        m.eventType,
        m.body,
        now,
        now,
      );
    }
  }

  /** When the next pending delivery is due, or null. */
  nextDue(): number | null {
    return this.sql
      .exec<{ t: number | null }>("SELECT MIN(next_at) AS t FROM deliveries WHERE state = 'pending'")
      .one().t;
  }

  /** Attempts every pending delivery that is due, and schedules the retries. */
  /** `share` runs each attempt, so the caller can bound them with its other outgoing calls. */
  async deliverDue(
    cfg: Config,
    now: number,
    share: <T>(task: () => Promise<T>) => Promise<T> = (task) => task(),
  ): Promise<void> {
    const due = this.sql
      .exec<{
        id: string;
        endpoint_id: string | null;
        url: string;
        secret: string;
        body: string;
        attempts: number;
      }>(
        "SELECT id, endpoint_id, url, secret, body, attempts FROM deliveries WHERE state = 'pending' AND next_at <= ? ORDER BY next_at LIMIT 20",
        now,
      )
      .toArray();
    const resolve = dohAddressResolver(cfg.dohUrl, cfg.dnsTimeoutMs);
    for (let i = 0; i < due.length; i += PARALLEL) {
      await Promise.all(
        due.slice(i, i + PARALLEL).map((d) =>
          share(async () => {
            // Checked again at every attempt: DNS may have changed since the URL was accepted.
            const guard = await checkWebhookUrl(d.url, { allowLoopback: cfg.webhookAllowLoopback, resolve });
            const outcome = guard.ok
              ? await attemptDelivery({
                  url: d.url,
                  secret: d.secret,
                  msgId: d.id,
                  body: d.body,
                  timeoutMs: cfg.webhookTimeoutMs,
                })
              : {
                  ok: false,
                  disable: false,
                  status: null,
                  retryAfter: null,
                  error: `refused: ${guard.reason}`,
                  durationMs: 0,
                };
            const attempt = d.attempts + 1;
            const at = Date.now();
            // The log numbers every attempt ever made, across manual redeliveries.
            const logged = this.sql
              .exec<{ n: number }>("SELECT COUNT(*) AS n FROM delivery_attempts WHERE delivery_id = ?", d.id)
              .one().n;
            this.sql.exec(
              "INSERT OR REPLACE INTO delivery_attempts (delivery_id, attempt, at, status, duration_ms, error) VALUES (?, ?, ?, ?, ?, ?)",
              d.id,
              logged + 1,
              at,
              outcome.status,
              outcome.durationMs,
              outcome.error,
            );
            let state: "pending" | "delivered" | "failed" = "pending";
            let next: number | null = null;
            if (outcome.ok) state = "delivered";
            else if (outcome.disable) state = "failed";
            else {
              const delay = nextAttemptDelayMs(attempt, Math.random, outcome.retryAfter, at);
              if (delay === null) state = "failed";
              else next = at + delay;
            }
            this.sql.exec(
              "UPDATE deliveries SET state = ?, attempts = ?, next_at = ? WHERE id = ?",
              state,
              attempt,
              next,
              d.id,
            );
            if (outcome.disable && d.endpoint_id)
              await this.onDisable(d.endpoint_id, "410 Gone from the receiver");
          }),
        ),
      );
    }
  }

  list(): DeliveryView[] {
    const deliveries = this.sql
      .exec<{
        id: string;
        event_type: string;
        url: string;
        endpoint_id: string | null;
        state: DeliveryView["state"];
        next_at: number | null;
        created_at: number;
      }>(
        "SELECT id, event_type, url, endpoint_id, state, next_at, created_at FROM deliveries ORDER BY created_at, id",
      )
      .toArray();
    return deliveries.map((d) => ({
      id: d.id,
      event_type: d.event_type,
      url: d.url,
      endpoint_id: d.endpoint_id,
      state: d.state,
      created_at: new Date(d.created_at).toISOString(),
      next_attempt_at: d.state === "pending" && d.next_at !== null ? new Date(d.next_at).toISOString() : null,
      attempts: this.sql
        .exec<{
          attempt: number;
          at: number;
          status: number | null;
          duration_ms: number;
          error: string | null;
        }>(
          "SELECT attempt, at, status, duration_ms, error FROM delivery_attempts WHERE delivery_id = ? ORDER BY attempt",
          d.id,
        )
        .toArray()
        .map((a) => ({ ...a, at: new Date(a.at).toISOString() })),
    }));
  }

  /** Queues a delivery again now, with a fresh retry schedule. False when there is no such delivery. */
  redeliver(id: string, now: number): boolean {
    const found = this.sql.exec("SELECT id FROM deliveries WHERE id = ?", id).toArray().length > 0;
    if (!found) return false;
    this.sql.exec("UPDATE deliveries SET state = 'pending', attempts = 0, next_at = ? WHERE id = ?", now, id);
    return true;
  }
}
