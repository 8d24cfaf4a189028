import { DurableObject } from "cloudflare:workers";

// One Durable Object per account: the single place that counts, so limits
// hold across every worker instance. It keeps a fixed one-minute request
// window per API key, and the set of the account's jobs that hold a running
// slot. Both live in memory: losing them on eviction only resets a window or
// lets a job re-acquire, and leases expire so a vanished job frees its slot.

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
  private readonly running = new Map<string, number>();

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
    for (const [id, seen] of this.running) if (now - seen > LEASE_MS) this.running.delete(id);
    if (!this.running.has(jobId) && this.running.size >= max) return false;
    this.running.set(jobId, now);
    return true;
  }

  /** Keeps a running job's slot alive, even past the cap (the cap only gates starting). */
  renewRun(jobId: string): void {
    this.running.set(jobId, Date.now());
  }

  releaseRun(jobId: string): void {
    this.running.delete(jobId);
  }

  runningJobs(): string[] {
    return [...this.running.keys()];
  }
}

export function accountStub(env: Env, accountId: string): DurableObjectStub<AccountObject> {
  return env.ACCOUNT.get(env.ACCOUNT.idFromName(accountId)) as DurableObjectStub<AccountObject>;
}
