// One Durable Object per mail server (keyed by its address, see key.ts): the
// only place that talks SMTP to it, so politeness lives here. Jobs hand it
// recipients with a short call; it queues them durably, works the queue from
// its own alarm over as few sessions as the server allows, and hands the
// answers back to each job in batches, again by short calls.

import { DurableObject } from "cloudflare:workers";
import pLimit, { type LimitFunction } from "p-limit";
import { readConfig, readHostConfig, readProberConfig, readSmtpConfig } from "../config";
import { jobStub } from "../job/stub";
import { ANSWERS_SCHEMA, AnswerOutbox } from "./answers";
import { CATCH_ALL_SCHEMA, CatchAllBook } from "./catch-all";
import { DROPPED_SCHEMA, DroppedJobs } from "./dropped";
import { type HostHealth, newHealth } from "./health";
import { compareIps, hostKey } from "./key";
import { ProberPool, type ProberState } from "./prober-pool";
import { profileFor } from "./profiles";
import type { HostAnswer, HostRecipient } from "./protocol";
import { type JobWaits, QUEUE_SCHEMA, RecipientQueue } from "./queue";
import { type DropOptions, dropAcross } from "./recall";
import { HostScheduler, type InfraState } from "./scheduler";
import { hostStub } from "./stub";
import { directSessions, relaySessions } from "./transport";

export type HostWaits = JobWaits & {
  names: string[];
  backoffUntil: number;
  breakerUntil: number;
  breakerStatus: HostHealth["breakerStatus"];
  /** Sessions allowed now, and at most (adaptive concurrency). */
  sessions: number;
  maxSessions: number;
  lastReply: HostHealth["lastReply"];
};

/** A Durable Object invocation may hold 6 outgoing connections: sessions leave one for reports. */
const MAX_SESSIONS = 5;
const OUTBOUND = 6;
const DEFAULT_RCPTS_PER_SESSION = 100;
/** One alarm works this long at most, then hands over to the next. */
const RUN_BUDGET_MS = 30_000;

const META_SCHEMA = `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

export class MxObject extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly queue: RecipientQueue;
  private readonly catchAll: CatchAllBook;
  private readonly outbox: AnswerOutbox;
  private readonly dropped: DroppedJobs;
  /** The loop working the queue right now, if any. */
  private running: HostScheduler | null = null;
  /** Relay mode: this host's probers, and which of them failed lately (memory only, see prober-pool.ts). */
  private probers: ProberPool | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(META_SCHEMA + QUEUE_SCHEMA + CATCH_ALL_SCHEMA + ANSWERS_SCHEMA + DROPPED_SCHEMA);
    this.queue = new RecipientQueue(this.sql);
    this.catchAll = new CatchAllBook(this.sql);
    this.outbox = new AnswerOutbox(this.sql);
    this.dropped = new DroppedJobs(this.sql);
  }

  // ── RPC: short calls only ────────────────────────────────────────────

  /**
   * Queues recipients and returns as soon as they are stored. A replayed call
   * queues nothing twice; recipients of a job run that was dropped here (an
   * enqueue that lands after the cancel) are refused.
   */
  async enqueue(items: HostRecipient[]): Promise<{ queued: number }> {
    let wanted: HostRecipient[] = [];
    this.ctx.storage.transactionSync(() => {
      wanted = this.dropped.wanted(items);
      this.queue.add(wanted, Date.now());
      this.learnNames(wanted);
    });
    if (!wanted.length) return { queued: 0 };
    if (this.running) this.running.wake();
    else await this.armAt(Date.now());
    return { queued: wanted.length };
  }

  /**
   * A job was canceled, paused or deleted: its recipients leave the queue,
   * and no new RCPT is sent for them. `others` are more hosts to tell.
   */
  async drop(
    job: string,
    others: string[] = [],
    opts: DropOptions = { epoch: Number.MAX_SAFE_INTEGER, keepAnswers: false },
  ): Promise<{ dropped: number; answers: HostAnswer[] }> {
    let dropped = 0;
    let answers: HostAnswer[] = [];
    let forwards: string[] = [];
    // First the loop: answers it holds in memory reach the outbox (a pause keeps them).
    this.running?.dropJob(job, opts.epoch, opts.keepAnswers);
    this.ctx.storage.transactionSync(() => {
      this.dropped.remember(job, opts.epoch, Date.now());
      dropped = this.queue.dropJob(job);
      if (opts.keepAnswers) answers = this.outbox.take(job);
      else this.outbox.dropJob(job);
      forwards = this.dropped.takeForwards(job);
    });
    // Other hosts of the job, handed to this one to pass on (see recall.ts), and those it forwarded to.
    const rest = [...new Set([...others, ...forwards])];
    if (rest.length) answers.push(...(await dropAcross(this.env, job, rest, opts)));
    return { dropped, answers };
  }

  /** What the object knows of its server, for operators and tests. */
  status(): {
    health: HostHealth;
    queued: number;
    answersWaiting: number;
    names: string[];
    probers: ProberState[];
  } {
    return {
      health: this.health(),
      queued: this.queue.size(),
      answersWaiting: this.outbox.size(),
      names: this.names(),
      probers: this.proberPool().view(),
    };
  }

  /** One job's recipients here and why they wait: for the job's story (src/api/job-story.ts). */
  jobWaits(job: string): HostWaits {
    const health = this.health();
    return {
      names: this.names(),
      ...this.queue.jobWaits(job, Date.now()),
      backoffUntil: health.backoffUntil,
      breakerUntil: health.breakerUntil,
      breakerStatus: health.breakerStatus,
      sessions: health.limit,
      maxSessions: health.cap,
      lastReply: health.lastReply,
    };
  }

  // ── Alarm: work the queue ────────────────────────────────────────────

  override async alarm(): Promise<void> {
    if (this.running) return;
    const scheduler = this.scheduler();
    this.running = scheduler;
    try {
      await scheduler.run(Date.now() + RUN_BUDGET_MS);
    } finally {
      this.running = null;
    }
    const next = this.nextWake();
    if (next !== null) await this.armAt(next);
  }

  private scheduler(): HostScheduler {
    const cfg = readConfig(this.env);
    const host = readHostConfig(this.env);
    const smtp = readSmtpConfig(this.env);
    const outbound = pLimit(OUTBOUND);
    return new HostScheduler({
      queue: this.queue,
      catchAll: this.catchAll,
      outbox: this.outbox,
      health: { load: () => this.health(), save: (h) => this.setMeta("health", h) },
      targets: () => this.targets(),
      profile: profileFor(this.names()),
      runSession:
        cfg.smtpMode === "relay"
          ? relaySessions(this.proberPool(), readProberConfig(this.env).secret, smtp)
          : directSessions(smtp),
      report: (job, answers) => jobStub(this.env, job).report(answers),
      forward: (items) => this.forward(items, outbound),
      atomically: (fn) => this.ctx.storage.transactionSync(fn),
      outbound: (fn) => outbound(fn),
      greylistCeilingMs: host.greylistCeilingMs,
      backoffCeilingMs: host.backoffCeilingMs,
      infra: { load: () => this.infraState(), save: (state) => this.setMeta("infra", state) },
    });
  }

  private proberPool(): ProberPool {
    if (!this.probers) {
      const { urls, downMs } = readProberConfig(this.env);
      this.probers = new ProberPool(urls, { downMs });
    }
    return this.probers;
  }

  /** Recipients whose domain has another exchanger move to that exchanger's object. */
  private async forward(items: HostRecipient[], outbound: LimitFunction): Promise<void> {
    const byHost = new Map<string, HostRecipient[]>();
    for (const item of items) byHost.set(hostKey(item.mx), [...(byHost.get(hostKey(item.mx)) ?? []), item]);
    // Remembered first: a drop that comes while the call is under way still reaches that host.
    this.ctx.storage.transactionSync(() => {
      for (const [key, group] of byHost)
        this.dropped.forwarded(
          group.map((r) => r.job),
          key,
          Date.now(),
        );
    });
    await Promise.all(
      [...byHost].map(([key, group]) => outbound(() => hostStub(this.env, key).enqueue(group))),
    );
  }

  // ── What the object knows ────────────────────────────────────────────

  private infraState(): InfraState {
    return this.meta<InfraState>("infra") ?? { failuresInRow: 0, pausedUntil: 0 };
  }

  private health(): HostHealth {
    const saved = this.meta<HostHealth>("health");
    const cap = this.sessionCap();
    if (saved) return { ...saved, cap, limit: Math.min(saved.limit, cap) };
    const profile = profileFor(this.names());
    return newHealth(cap, profile?.maxRcptsPerSession ?? DEFAULT_RCPTS_PER_SESSION);
  }

  private sessionCap(): number {
    const profile = profileFor(this.names());
    return Math.max(
      1,
      Math.min(readHostConfig(this.env).concurrency, profile?.maxSessions ?? Infinity, MAX_SESSIONS),
    );
  }

  /** The names and addresses domains know this server by. */
  private learnNames(items: HostRecipient[]): void {
    const known = this.meta<Record<string, string[]>>("names") ?? {};
    let changed = false;
    for (const { mx } of items) {
      if (known[mx.host]?.join() === mx.addresses.join()) continue;
      known[mx.host] = mx.addresses;
      changed = true;
    }
    if (changed) this.setMeta("names", known);
  }

  private names(): string[] {
    return Object.keys(this.meta<Record<string, string[]>>("names") ?? {});
  }

  /** This server's addresses, the key's own first; each under a name a domain uses for it. */
  private targets(): { host: string; ip: string }[] {
    const known = this.meta<Record<string, string[]>>("names") ?? {};
    const seen = new Map<string, string>();
    for (const [host, ips] of Object.entries(known))
      for (const ip of ips) if (!seen.has(ip)) seen.set(ip, host);
    // The lowest address first: it is the one the object is keyed by.
    return [...seen].map(([ip, host]) => ({ host, ip })).sort((a, b) => compareIps(a.ip, b.ip));
  }

  private nextWake(): number | null {
    const times = [this.queue.nextDue(), this.catchAll.nextProbeDue()].filter((t): t is number => t !== null);
    if (this.outbox.size() > 0) times.push(Date.now() + 1000);
    const health = this.health();
    const paused = Math.max(health.backoffUntil, health.breakerUntil);
    if (!times.length) return null;
    // Our own infrastructure failed: nothing is tried before its pause is over.
    const next = Math.max(Math.min(...times), this.infraState().pausedUntil);
    return Math.max(next, Math.min(paused, next + 3_600_000));
  }

  private async armAt(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || at < current) await this.ctx.storage.setAlarm(at);
  }

  private meta<T>(key: string): T | null {
    const row = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0];
    return row ? (JSON.parse(row.value) as T) : null;
  }

  private setMeta(key: string, value: unknown): void {
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, JSON.stringify(value));
  }
}
