import { DurableObject } from "cloudflare:workers";

// One Durable Object per account: the single place that counts, so the cap
// on running jobs holds across every worker instance. It keeps the leases of
// the account's jobs that hold a running slot in its SQLite, so an eviction
// never lets the account run more than its cap. Leases expire, so a vanished
// job frees its slot. (Requests per key are counted by the Rate Limiting binding.)

/** A running job that has not renewed its slot for this long has died: take it back. */
const LEASE_MS = 10 * 60_000;

export class AccountObject extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS run_lease (job TEXT PRIMARY KEY, renewed_at INTEGER NOT NULL)");
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
