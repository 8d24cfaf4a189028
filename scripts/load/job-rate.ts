// Watches the jobs' progress once a second through one list call (the D1
// copy of every job's counts), whether or not anything polls them: it tells
// the pool when a job ended, and gives the addresses verified so far, from
// which each phase's job rate is taken. One request a second is the same
// small load in every phase. It has a connection of its own, so it never
// queues behind the polls.

import type { HttpResult } from "../lib/http";
import type { Counts } from "../lib/mailvet-api";
import { sleep } from "../lib/time";
import type { JobPool } from "./job-pool";

interface Listed {
  email_validations: { id: string; status: string; counts?: Counts }[];
}

const ENDED = new Set(["completed", "canceled", "error", "failed"]);
const EVERY_MS = 1000;

export interface RateWindow {
  /** Addresses verified by all jobs in the window. */
  addresses: number;
  seconds: number;
  perSecond: number;
}

export class JobWatcher {
  private timer: NodeJS.Timeout | null = null;
  private last: Promise<number> = Promise.resolve(0);

  constructor(
    private readonly list: () => Promise<HttpResult<Listed>>,
    private readonly pool: JobPool,
  ) {}

  start(): void {
    const tick = () => {
      // A missed sample in between only delays noticing an ended job.
      this.last = this.sample().catch(() => 0);
      void this.last.finally(() => {
        if (this.timer) this.timer = setTimeout(tick, EVERY_MS);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.last.catch(() => 0);
  }

  /** Measures the addresses verified while `during` runs. */
  async window<T>(during: () => Promise<T>): Promise<{ result: T; rate: RateWindow }> {
    const before = await this.sample();
    const started = performance.now();
    const result = await during();
    const after = await this.sample();
    const seconds = (performance.now() - started) / 1000;
    const addresses = after - before;
    return { result, rate: { addresses, seconds, perSecond: addresses / seconds } };
  }

  /** Addresses processed by every job of the account so far; ended jobs leave the pool. */
  private async sample(): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      const res = await this.list();
      if (res.status === 200 && Array.isArray(res.body?.email_validations)) {
        let processed = 0;
        for (const job of res.body.email_validations) {
          processed += job.counts?.processed ?? 0;
          if (ENDED.has(job.status)) this.pool.seenEnded(job.id, job.status);
        }
        return processed;
      }
      if (attempt >= 5)
        throw new Error(`listing jobs failed: ${res.status} ${res.error ?? res.text.slice(0, 200)}`);
      await sleep(500);
    }
  }
}
