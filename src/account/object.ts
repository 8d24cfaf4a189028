import { DurableObject } from "cloudflare:workers";

// One Durable Object per account: the single place that counts, so limits
// hold across every worker instance. It keeps a fixed one-minute request
// window per API key (in memory: losing it on eviction only resets a window),
// and the leases of the account's jobs that hold a running slot, in its
// SQLite, so an eviction never lets the account run more than its cap.
// Leases expire, so a vanished job frees its slot.

/** A running job that has not renewed its slot for this long has died: take it back. */
const LEASE_MS = 10 * 60_000;
const WINDOW_MS = 60_000;

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
}

export class AccountObject extends DurableObject<Env> {
  private readonly windows = new Map<string, { start: number; count: number }>();
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS run_lease (job TEXT PRIMARY KEY, renewed_at INTEGER NOT NULL)");
  }

  /** Counts one request of `keyId` against `limit` per minute. */
  hit(keyId: string, limit: number): RateDecision {
    const now = Date.now();
    const start = now - (now % WINDOW_MS);
    let w = this.windows.get(keyId);
    if (!w || w.start !== start) {
      w = { start, count: 0 };
      this.windows.set(keyId, w);
    }
    const allowed = w.count < limit;
    if (allowed) w.count++;
    return {
      allowed,
      limit,
      remaining: Math.max(0, limit - w.count),
      resetSeconds: Math.max(1, Math.ceil((start + WINDOW_MS - now) / 1000)),
    };
  }

  /** Takes (or renews) a running slot for a job; false when the account already runs `max` jobs. */
  acquireRun(jobId: string, max: number): boolean {
    const now = Date.now();
    this.sql.exec("DELETE FROM run_lease WHERE renewed_at < ?", now - LEASE_MS);
    const held = this.runningJobs();
    if (!held.includes(jobId) && held.length >= max) return false;
    this.renewRun(jobId);
    return true;
  }

  /** Keeps a running job's slot alive, even past the cap (the cap only gates starting). */
  renewRun(jobId: string): void {
    this.sql.exec("INSERT OR REPLACE INTO run_lease (job, renewed_at) VALUES (?, ?)", jobId, Date.now());
  }

  releaseRun(jobId: string): void {
    this.sql.exec("DELETE FROM run_lease WHERE job = ?", jobId);
  }

  runningJobs(): string[] {
    return this.sql
      .exec<{ job: string }>("SELECT job FROM run_lease")
      .toArray()
      .map((r) => r.job);
  }
}

export function accountStub(env: Env, accountId: string): DurableObjectStub<AccountObject> {
  return env.ACCOUNT.get(env.ACCOUNT.idFromName(accountId)) as DurableObjectStub<AccountObject>;
}
