// Keeps a fixed number of jobs in flight: a job that is seen finished (by a
// poll) is replaced by a new one at once. Creates are timed like polls.

import { describe } from "../lib/http";
import type { MailvetApi } from "../lib/mailvet-api";
import { sleep } from "../lib/time";
import { loadJobList } from "./lists";
import { RequestStats } from "./stats";

export interface PoolJob {
  id: string;
  size: number;
  /** performance.now() when the create was sent */
  sentAt: number;
  /** performance.now() when a poll first saw it ended */
  endedAt?: number;
  status: string;
}

/** After a failed create, wait this long before the next one, so a broken server is not hammered. */
const CREATE_RETRY_PAUSE_MS = 1000;
const CREATE_TIMEOUT_MS = 30_000;

export class JobPool {
  readonly creates = new RequestStats([202]);
  readonly ended: PoolJob[] = [];
  private readonly running = new Map<string, PoolJob>();
  /** Round-robin order of running ids, for the poller. */
  private order: string[] = [];
  private next = 0;
  private creating = 0;
  private numbered = 0;
  private open = true;
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    private readonly api: MailvetApi,
    private readonly size: number,
    private readonly random: () => number,
  ) {}

  get runningCount(): number {
    return this.running.size;
  }

  /** The jobs running now (not yet seen ended). */
  runningJobs(): PoolJob[] {
    return [...this.running.values()];
  }

  /** Starts creates until `size` jobs are running or being created. */
  fill(): void {
    while (this.open && this.running.size + this.creating < this.size) {
      const p = this.createOne();
      this.inflight.add(p);
      void p.finally(() => this.inflight.delete(p));
    }
  }

  /** The next running job to poll, round robin; null when none runs. */
  nextToPoll(): string | null {
    if (this.order.length === 0) return null;
    this.next = (this.next + 1) % this.order.length;
    return this.order[this.next] ?? null;
  }

  /** A poll saw `id` in a final status: replace it. */
  seenEnded(id: string, status: string): void {
    const job = this.running.get(id);
    if (!job) return;
    this.running.delete(id);
    this.order = [...this.running.keys()];
    job.status = status;
    job.endedAt = performance.now();
    this.ended.push(job);
    this.fill();
  }

  /** No new jobs from now on; resolves when the creates under way have answered. */
  async close(): Promise<void> {
    this.open = false;
    await Promise.all([...this.inflight]);
  }

  private async createOne(): Promise<void> {
    this.creating++;
    const n = this.numbered++;
    const emails = loadJobList(n, this.random);
    this.creates.sent++;
    const sentAt = performance.now();
    const res = await this.api.createJob(emails, { label: `load ${n}` }, CREATE_TIMEOUT_MS);
    this.creating--;
    const ok = this.creates.record(res.status, res.ms, () => describe("POST", "/email-validations", res));
    if (ok && res.body?.id) {
      this.running.set(res.body.id, {
        id: res.body.id,
        size: emails.length,
        sentAt,
        status: res.body.status,
      });
      this.order = [...this.running.keys()];
    } else {
      await sleep(CREATE_RETRY_PAUSE_MS);
    }
    this.fill();
  }
}
