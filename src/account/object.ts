import { DurableObject } from "cloudflare:workers";

// One Durable Object per account: the single place that counts, so the cap
// on running jobs holds across every worker instance. It keeps the set of the
// account's jobs that hold a running slot, in memory: losing it on eviction
// only lets a job re-acquire, and leases expire so a vanished job frees its
// slot. (Requests per key are counted by the Rate Limiting binding.)

/** A running job that has not renewed its slot for this long has died: take it back. */
const LEASE_MS = 10 * 60_000;

export class AccountObject extends DurableObject<Env> {
  private readonly running = new Map<string, number>();

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
