import { DurableObject } from "cloudflare:workers";
import pLimit, { type LimitFunction } from "p-limit";
import { accountStub } from "../account/object";
import { type Config, readConfig } from "../config";
import type { Breakdown } from "../db/browse";
import { openDb } from "../db/client";
import { forgetJobKeys } from "../db/idempotency";
import { deleteJob, insertJob } from "../db/jobs";
import { type Counts, deleteJobResults, writeResults } from "../db/results";
import { disableEndpoint } from "../db/webhooks";
import type { InputEntry } from "../ingest/entries";
import type { ErrorItem } from "../lib/error-item";
import type { HostAnswer, ReportAck } from "../mx/protocol";
import { dropAcross } from "../mx/recall";
import { hostStub } from "../mx/stub";
import { cacheApiDnsCache, DnsResolver } from "../verify/dns";
import { ResolverBreaker } from "../verify/resolver-breaker";
import { type DeliveryView, WebhookOutbox } from "../webhooks/outbox";
import { terminalEventType, type WebhookEventType } from "../webhooks/payload";
import { answerRow } from "./dispatch";
import { announceProgress, type EventDeps, flushEvents } from "./events";
import { FaultPlan, type FaultStage } from "./faults";
import { mirrorJob } from "./mirror";
import { retryAfterSeconds } from "./progress";
import { JobRun } from "./run";
import { ProgressSamples, type Sample } from "./samples";
import { isTerminal, type JobEvent, type JobStatus, transition } from "./state";
import { type AnsweredRow, JobStore, Stage } from "./store";
import { ResultTallies } from "./tallies";

// One Durable Object per job. It owns the job's input, its state machine and
// its progress. Its alarm hands the addresses to the host objects that talk
// SMTP and records their answers in D1; cancel, pause and resume are decided
// here, atomically, and reach every host that holds the job's addresses.

export interface JobInit {
  id: string;
  accountId: string;
  label: string | null;
  source: string;
  entries: InputEntry[];
  inputColumns?: string[] | null;
  startAt?: number | null;
  webhookUrl?: string | null;
}

export interface JobState {
  id: string;
  accountId: string;
  label: string | null;
  source: string;
  status: JobStatus;
  total: number;
  counts: Counts;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  startAt: number | null;
  webhookUrl: string | null;
  inputColumns: string[] | null;
  error: ErrorItem | null;
  /** Consecutive failed runs; the job fails when it reaches the budget. */
  failures: number;
  /** The D1 mirror of this job missed an update; the next alarm retries it. */
  mirrorDirty: boolean;
  /** A terminal event whose webhook messages are not in the outbox yet. */
  pendingEvent: WebhookEventType | null;
  lastProgressAt: number;
  /** The job's run: it grows with every resume, so hosts can refuse work of a run that was dropped. */
  epoch?: number;
}

export interface JobStoryParts {
  samples: Sample[];
  waiting: number;
  atHost: number;
  answered: number;
  /** The hosts holding most of the job's addresses now, busiest first. */
  hosts: { host: string; addresses: number }[];
  hostCount: number;
}

/** What the API may see of a job: its state without the object's bookkeeping. */
export type JobSnapshot = Omit<
  JobState,
  "webhookUrl" | "failures" | "mirrorDirty" | "pendingEvent" | "lastProgressAt" | "epoch"
> & { retryAfter: number | null };

export type ControlResult =
  | { ok: true; job: JobSnapshot; canceled: number; wasStarted: boolean }
  | { ok: false; code: "not_found" | "already_terminal" | "invalid_transition"; detail: string };

/** How long one alarm works before it hands over to the next. */
const RUN_BUDGET_MS = 20_000;
/** How often a job waiting for a running slot asks again. */
const SLOT_RETRY_MS = 2000;
/** While only hosts have work, the job looks in this often, in case a host lost its answers. */
const WATCHDOG_MS = 30_000;
/** An address at a host this long past its deadline is handed out again. */
const LOST_AFTER_MS = 10 * 60_000;
/** A Worker or Durable Object invocation may hold 6 outgoing connections at once. */
const OUTBOUND = 6;
/** Answers from hosts wait this long for more before they are recorded. */
const REPORT_SETTLE_MS = 200;
/** Cancel, pause and delete wait at most this long for D1 (a write under way, the status copy). */
const CONTROL_WAIT_MS = 300;
/** A failed alarm that could not even count its failure tries again after this. */
const ALARM_RESCUE_MS = 5000;

/** One breaker per isolate: every job here asks the same resolver, and an outage is logged once. */
const resolverBreaker = new ResolverBreaker();

const ZERO: Counts = { processed: 0, deliverable: 0, undeliverable: 0, risky: 0, unknown: 0 };

export class JobObject extends DurableObject<Env> {
  private readonly store: JobStore;
  private readonly outbox: WebhookOutbox;
  private readonly samples: ProgressSamples;
  private readonly tallies: ResultTallies;
  /** The D1 write under way, so that cancel can wait for it to land entirely. */
  private inflight: Promise<void> | null = null;
  /** The alarm handler is running (no alarm is set meanwhile, and that is fine). */
  private inAlarm = false;
  /** The run working right now, if any: reports wake it. */
  private running: JobRun | null = null;
  /** Test-only fault injection; inert unless ALLOW_FAULT_INJECTION is "true". */
  private readonly faults = new FaultPlan();
  /** The breaker of a resolver taken away by fault injection, apart from the real one's. */
  private readonly offlineBreaker = new ResolverBreaker();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new JobStore(ctx.storage.sql);
    this.samples = new ProgressSamples(ctx.storage.sql);
    this.tallies = new ResultTallies(ctx.storage.sql);
    this.outbox = new WebhookOutbox(ctx.storage.sql, (id, reason) =>
      disableEndpoint(openDb(env.DB), id, reason),
    );
  }

  // ── RPC: lifecycle ────────────────────────────────────────────────────

  /** Stores the job and arms its first alarm. Repeating it returns the same job. */
  async create(init: JobInit): Promise<JobSnapshot> {
    // Two creates of the same id (an idempotent replay racing the original) must not interleave.
    return this.ctx.blockConcurrencyWhile(() => this.storeNew(init));
  }

  /** The job as the API shows it. A job that is not finished and has no alarm gets one (a watchdog). */
  async snapshot(): Promise<JobSnapshot | null> {
    const s = this.load();
    if (!s) return null;
    // While the alarm runs, none is set: that is no stall.
    const stalled =
      !this.inAlarm &&
      !isTerminal(s.status) &&
      s.status !== "paused" &&
      (await this.ctx.storage.getAlarm()) === null;
    if (stalled) {
      console.error(JSON.stringify({ msg: "job without alarm re-armed", job: s.id, status: s.status }));
      await this.ctx.storage.setAlarm(Date.now());
    }
    return this.view();
  }

  private view(): JobSnapshot | null {
    const s = this.load();
    if (!s) return null;
    const { webhookUrl, failures, mirrorDirty, pendingEvent, lastProgressAt, epoch, ...visible } = s;
    return { ...visible, retryAfter: retryAfterSeconds(s, Date.now()) };
  }

  /**
   * Cancels atomically: from the moment this returns, the job's results never
   * change and no mail server hears of it again. A D1 write under way is
   * waited for a moment; one that lands later is refused by D1 itself (see
   * writeResults), so a hung D1 never holds the cancel.
   */
  async cancel(): Promise<ControlResult> {
    return this.control("cancel");
  }

  async pause(): Promise<ControlResult> {
    return this.control("pause");
  }

  async resume(): Promise<ControlResult> {
    return this.control("resume");
  }

  /** Stops the job if it runs, then removes it, its results and this object's storage. */
  async destroy(): Promise<boolean> {
    const s = this.load();
    if (!s) return false;
    if (!isTerminal(s.status)) this.save({ ...s, status: "canceled", finishedAt: Date.now() });
    await this.recallFromHosts(false);
    await withinMs(this.settle(), CONTROL_WAIT_MS);
    const db = openDb(this.env.DB);
    // The job's row first: a results write still under way is then refused by D1.
    await deleteJob(db, s.id);
    await deleteJobResults(db, s.id, s.total);
    await forgetJobKeys(db, s.id);
    await this.releaseSlot(s);
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    // This instance may live on (a stray request, an alarm): give it empty tables, not missing ones.
    this.store.createTables();
    this.outbox.createTables();
    this.samples.createTables();
    this.tallies.createTables();
    return true;
  }

  // ── RPC: from the host objects ───────────────────────────────────────

  /**
   * Final SMTP answers from a host. They are kept here at once (one SQLite
   * transaction) and recorded in D1 by the alarm. An answer counts once: a
   * replayed report changes nothing. A job that ended asks the host to stop.
   */
  async report(answers: HostAnswer[]): Promise<ReportAck> {
    const s = this.load();
    if (!s || isTerminal(s.status) || s.status === "queued") return { stop: true };
    this.keepAnswers(s, answers);
    if (this.running) this.running.wake();
    else if (s.status === "processing") await this.armAt(Date.now() + REPORT_SETTLE_MS);
    return { stop: false };
  }

  /** Host answers for addresses not answered yet count, even for one recalled by a pause: it is never asked twice. */
  private keepAnswers(s: JobState, answers: readonly HostAnswer[]): void {
    this.ctx.storage.transactionSync(() => {
      for (const { position, smtp } of answers) {
        const address = this.store.address(position);
        if (address && (address.stage === Stage.AtHost || address.stage === Stage.Waiting))
          this.store.answer(
            position,
            answerRow({ jobId: s.id, store: this.store }, position, address.email, smtp),
          );
      }
    });
  }

  // ── RPC: tests and operators ─────────────────────────────────────────

  /** Arms failures at named stages of the next runs (tests and chaos runs only). */
  injectFault(stage: FaultStage, times = 1, holdMs = 0): boolean {
    if (this.env.ALLOW_FAULT_INJECTION !== "true") return false;
    this.faults.arm(stage, times, holdMs);
    return true;
  }

  faultsTripped(): number {
    return this.faults.tripped;
  }

  /** What the job's story needs from here: its progress over time, where its addresses stand, its busiest hosts. */
  story(hostLimit: number): JobStoryParts | null {
    const s = this.load();
    if (!s) return null;
    return {
      samples: this.samples.list(),
      waiting: this.store.count(Stage.Waiting),
      atHost: this.store.count(Stage.AtHost),
      answered: this.store.count(Stage.Answered),
      hosts: this.store.hostLoad(hostLimit),
      hostCount: this.store.hostsInUse().length,
    };
  }

  /** Results by verdict and reason, and the top domains; null when the tallies predate the results (read D1 instead). */
  breakdown(topDomains: number): Breakdown | null {
    const s = this.load();
    if (!s) return null;
    if (this.tallies.empty() && s.counts.processed > 0) return null;
    return this.tallies.breakdown(topDomains);
  }

  webhookDeliveries(): DeliveryView[] {
    return this.outbox.list();
  }

  async redeliver(deliveryId: string): Promise<boolean> {
    if (!this.outbox.redeliver(deliveryId, Date.now())) return false;
    await this.armAt(Date.now());
    return true;
  }

  // ── Alarm ────────────────────────────────────────────────────────────

  /** Whatever fails in here, a job that is not finished leaves with its alarm armed. */
  override async alarm(): Promise<void> {
    if (!this.load()) return;
    this.inAlarm = true;
    try {
      await this.work();
    } catch (err) {
      console.error(JSON.stringify({ msg: "alarm failed", job: this.load()?.id, error: String(err) }));
    } finally {
      this.inAlarm = false;
      await this.keepArmed();
    }
  }

  private async work(): Promise<void> {
    const cfg = readConfig(this.env);
    const outbound = pLimit(OUTBOUND);
    // Webhook attempts run beside the job's work, within the same connection budget.
    const deliveries = this.outbox.deliverDue(cfg, Date.now(), outbound).catch((err) => {
      console.error(JSON.stringify({ msg: "webhook delivery failed", error: String(err) }));
    });
    try {
      await this.advance(cfg, outbound);
    } finally {
      await deliveries;
    }
    await flushEvents(this.events());
    const next = this.outbox.nextDue();
    if (next !== null) await this.armAt(next);
  }

  /** A job with work left (or a message to send) never ends up without an alarm. */
  private async keepArmed(): Promise<void> {
    const s = this.load();
    if (!s) return;
    const wantsMore = s.status === "queued" || s.status === "processing" || s.pendingEvent !== null;
    if (!wantsMore && this.outbox.nextDue() === null) return;
    if ((await this.ctx.storage.getAlarm()) === null)
      await this.ctx.storage.setAlarm(Date.now() + ALARM_RESCUE_MS);
  }

  /** Moves the job on: starts it when due, or runs it for a while. */
  private async advance(cfg: Config, outbound: LimitFunction): Promise<void> {
    let s = this.load();
    if (!s) return;
    if (s.mirrorDirty) await this.mirror(s);
    if (s.status === "queued") {
      if (s.startAt && s.startAt > Date.now()) return this.armAt(s.startAt);
      // The account runs a limited number of jobs at once; the others wait queued.
      const slot = await outbound(async () => {
        this.faults.trip("account_call");
        return this.account(s!).acquireRun(s!.id, cfg.maxRunningJobs);
      }).catch((err: unknown) => {
        // The account object failed: not a verdict on the job, it asks again.
        console.error(JSON.stringify({ msg: "slot request failed", job: s!.id, error: String(err) }));
        return false;
      });
      if (!slot) return this.armAt(Date.now() + SLOT_RETRY_MS);
      const current = this.load();
      if (current?.status !== "queued") return this.releaseSlot(s);
      s = this.apply(current, "start", { startedAt: current.startedAt ?? Date.now() });
      await this.mirror(s);
    }
    if (s.status !== "processing") return;
    try {
      // Losing a renewal costs nothing until the lease runs out; the job goes on.
      await outbound(async () => {
        this.faults.trip("account_call");
        await this.account(s!).renewRun(s!.id);
      }).catch((err: unknown) => {
        console.error(JSON.stringify({ msg: "slot renewal failed", job: s!.id, error: String(err) }));
      });
      // Addresses a host should long have answered are handed out again.
      this.store.recall(Date.now() - cfg.greylistDeadlineMs - LOST_AFTER_MS);
      const run = this.newRun(cfg, outbound);
      this.running = run;
      const end = await run.run(Date.now() + RUN_BUDGET_MS).finally(() => {
        this.running = null;
      });
      const after = this.load();
      if (after && after.failures > 0) this.save({ ...after, failures: 0 });
      if (end === "finished") await this.finish(outbound);
      else if (end === "more") await this.armAt(Date.now());
      else if (end === "waiting")
        await this.armAt(Math.min(Date.now() + WATCHDOG_MS, this.store.nextDeferred() ?? Infinity));
    } catch (err) {
      await this.recordFailure(err);
    }
  }

  private newRun(cfg: Config, outbound: LimitFunction): JobRun {
    const s = this.load()!;
    // Tests and chaos runs take the resolver away to see how an outage ends.
    const offline = this.faults.pending("resolver_offline");
    const resolver = new DnsResolver({
      dohUrl: offline ? OFFLINE_DOH_URL : cfg.dohUrl,
      timeoutMs: cfg.dnsTimeoutMs,
      sharedCache: offline ? undefined : cacheApiDnsCache(caches.default),
      limiter: outbound,
      breaker: offline ? this.offlineBreaker : resolverBreaker,
      resolveReserved: cfg.resolveReserved,
    });
    return new JobRun({
      store: this.store,
      status: () => this.load()?.status ?? null,
      batchSize: cfg.batchSize,
      record: (rows) => this.record(rows),
      checkpoint: (stage) => this.faults.trip(stage === "dispatch" ? "before_verify" : "after_verify"),
      dispatch: {
        jobId: s.id,
        store: this.store,
        resolve: (domain) => resolver.resolve(domain),
        enqueue: (host, recipients) =>
          outbound(async () => {
            // A cancel or pause may have come while this call waited for a connection.
            if (this.load()?.status !== "processing") return false;
            this.faults.trip("host_call");
            await hostStub(this.env, host).enqueue(recipients);
            return true;
          }),
        epoch: s.epoch ?? 0,
        dnsRetryDeadlineMs: cfg.dnsRetryDeadlineMs,
        smtp: cfg.smtpMode !== "off",
        deadlineMs: cfg.greylistDeadlineMs,
        atomically: (fn) => this.ctx.storage.transactionSync(fn),
        live: () => this.load()?.status === "processing",
      },
    });
  }

  /**
   * Records answered addresses: their rows go to D1 in one transaction with
   * the new totals, then (synchronously, so nothing can interleave) they are
   * marked recorded and the counts move. A replay rewrites the same rows.
   */
  private async record(answered: AnsweredRow[]): Promise<number> {
    const s = this.load()!;
    if (s.status !== "processing" || !answered.length) return 0;
    const rows = answered.map((a) => a.row);
    const totals: Counts = { ...s.counts };
    for (const row of rows) {
      totals.processed++;
      totals[row.result as keyof Omit<Counts, "processed">]++;
    }
    let statements = 0;
    const commit = async () => {
      const db = openDb(this.env.DB);
      this.faults.trip("d1_write");
      if (this.faults.pending("mid_write") && rows.length > 1) {
        // A crash between two writes: half the rows land, then the run dies.
        statements += await writeResults(db, s.id, rows.slice(0, rows.length >> 1), totals);
        this.faults.trip("mid_write");
      }
      await this.faults.hold("d1_hang");
      statements += await writeResults(db, s.id, rows, totals);
      this.faults.trip("after_write");
      this.ctx.storage.transactionSync(() => {
        this.store.recorded(answered.map((a) => a.position));
        this.save({ ...this.load()!, counts: totals });
        this.samples.add(Date.now(), totals.processed);
        this.tallies.add(rows);
      });
      // Landed after a pause or cancel had copied the counts: copy them again.
      const after = this.load()!;
      if (after.status !== "processing") await this.mirror(after);
    };
    this.inflight = commit();
    try {
      await this.inflight;
    } finally {
      this.inflight = null;
    }
    await announceProgress(this.events());
    return statements;
  }

  private async finish(outbound: LimitFunction): Promise<void> {
    const s = this.load();
    if (s?.status !== "processing") return;
    const done = this.apply(s, "finish", { finishedAt: Date.now() });
    await this.mirror(done);
    // Within the alarm's connection budget: webhook deliveries may be running beside it.
    await outbound(() => this.releaseSlot(done));
  }

  private async recordFailure(err: unknown): Promise<void> {
    const cfg = readConfig(this.env);
    const s = this.load();
    if (!s) return;
    if (s.status !== "processing") {
      // Stopped meanwhile: a write that reached D1 after the cancel was refused there, as it should be.
      console.log(
        JSON.stringify({ msg: "run ended by a stop", job: s.id, status: s.status, error: String(err) }),
      );
      return;
    }
    const failures = s.failures + 1;
    console.error(
      JSON.stringify({ msg: "batch failed", job: s.id, account: s.accountId, failures, error: String(err) }),
    );
    if (failures < cfg.maxAlarmFailures) {
      this.save({ ...s, failures });
      await this.armAt(Date.now() + cfg.alarmRetryBaseMs * 2 ** failures);
      return;
    }
    const failed = this.apply({ ...s, failures }, "fail", {
      finishedAt: Date.now(),
      error: {
        code: "processing_failed",
        title: "Processing Failed",
        detail: `The job stopped after ${failures} failed attempts: ${String(err)}`,
      },
    });
    await this.mirror(failed);
    await this.releaseSlot(failed);
  }

  // ── Control ──────────────────────────────────────────────────────────

  private async control(event: Extract<JobEvent, "cancel" | "pause" | "resume">): Promise<ControlResult> {
    const s = this.load();
    if (!s) return { ok: false, code: "not_found", detail: "Could not find email validation." };
    const t = transition(s.status, event);
    if (!t.ok) return t;
    const wasStarted = s.startedAt !== null;
    const now = Date.now();
    if (event === "resume") {
      // A job paused before it ever started goes back to waiting for its start. A new run (epoch) begins.
      this.save({ ...s, status: s.startedAt === null ? "queued" : t.status, epoch: (s.epoch ?? 0) + 1 });
      await this.armAt(Math.max(now, s.startAt ?? now));
    } else {
      const stopped = this.save({
        ...s,
        status: t.status,
        finishedAt: event === "cancel" ? now : s.finishedAt,
        pendingEvent: terminalEventType(t.status) ?? s.pendingEvent,
      });
      // The status reaches D1 first: a results write that lands after it is refused there.
      const mirrored = this.mirror(stopped);
      await this.recallFromHosts(event === "pause");
      // Paused: what the hosts held goes out again on resume.
      if (event === "pause") this.store.recall();
      await withinMs(Promise.all([mirrored, this.settle()]), CONTROL_WAIT_MS);
    }
    const after = this.load()!;
    if (event === "resume") await withinMs(this.mirror(after), CONTROL_WAIT_MS);
    if (isTerminal(after.status)) {
      await withinMs(this.releaseSlot(after), CONTROL_WAIT_MS);
      // Webhook messages are queued by the alarm: they read D1, which must not hold the answer.
      await this.armAt(Date.now());
    }
    return {
      ok: true,
      job: this.view()!,
      canceled: event === "cancel" ? after.total - after.counts.processed : 0,
      wasStarted,
    };
  }

  /**
   * Tells every host holding this job's addresses to drop them; no new RCPT
   * for the job follows. A pause keeps what the hosts already answered.
   */
  private async recallFromHosts(keepAnswers: boolean): Promise<void> {
    const s = this.load();
    if (!s) return;
    const answers = await dropAcross(this.env, s.id, this.store.hostsInUse(), {
      epoch: s.epoch ?? 0,
      keepAnswers,
    });
    if (answers.length) this.keepAnswers(s, answers);
  }

  /** Waits for a D1 write under way to land (or fail) entirely. */
  private async settle(): Promise<void> {
    if (!this.inflight) return;
    try {
      await this.inflight;
    } catch {
      // The write failed as a whole; nothing of it was recorded.
    }
  }

  // ── Storage, mirror, account ─────────────────────────────────────────

  private async storeNew(init: JobInit): Promise<JobSnapshot> {
    if (this.load()) return this.view()!;
    const now = Date.now();
    // List the job in D1 first: if that fails, nothing was stored here either.
    await insertJob(openDb(this.env.DB), {
      id: init.id,
      accountId: init.accountId,
      label: init.label,
      source: init.source,
      status: "queued",
      total: init.entries.length,
      inputColumns: init.inputColumns ? JSON.stringify(init.inputColumns) : null,
      createdAt: now,
    });
    if (this.load()) return this.view()!;
    const state: JobState = {
      id: init.id,
      accountId: init.accountId,
      label: init.label,
      source: init.source,
      status: "queued",
      total: init.entries.length,
      counts: { ...ZERO },
      createdAt: now,
      startedAt: null,
      finishedAt: null,
      startAt: init.startAt ?? null,
      webhookUrl: init.webhookUrl ?? null,
      inputColumns: init.inputColumns ?? null,
      error: null,
      failures: 0,
      mirrorDirty: false,
      pendingEvent: null,
      lastProgressAt: 0,
    };
    this.ctx.storage.transactionSync(() => {
      this.store.addInput(init.entries);
      this.save(state);
    });
    await this.ctx.storage.setAlarm(Math.max(now, state.startAt ?? now));
    return this.view()!;
  }

  private async mirror(s: JobState): Promise<void> {
    const ok = await mirrorJob(this.env.DB, s);
    const current = this.load();
    if (current && current.mirrorDirty === ok) this.save({ ...current, mirrorDirty: !ok });
    if (!ok) await this.armAt(Date.now() + 5000);
  }

  private events(): EventDeps {
    return {
      db: this.env.DB,
      outbox: this.outbox,
      load: () => this.load(),
      save: (s) => this.save(s),
      atomically: (fn) => this.ctx.storage.transactionSync(fn),
      armAt: (at) => this.armAt(at),
    };
  }

  private account(s: JobState) {
    return accountStub(this.env, s.accountId);
  }

  /** Frees the job's running slot; losing this call only delays others until the lease expires. */
  private async releaseSlot(s: JobState): Promise<void> {
    try {
      await this.account(s).releaseRun(s.id);
    } catch (err) {
      console.error(JSON.stringify({ msg: "slot release failed", job: s.id, error: String(err) }));
    }
  }

  /** Sets the alarm for `at` unless it is already set to go off sooner. */
  private async armAt(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || at < current) await this.ctx.storage.setAlarm(at);
  }

  private apply(s: JobState, event: JobEvent, fields: Partial<JobState> = {}): JobState {
    const t = transition(s.status, event);
    if (!t.ok) return s;
    const next = {
      ...s,
      ...fields,
      status: t.status,
      pendingEvent: terminalEventType(t.status) ?? s.pendingEvent,
    };
    this.save(next);
    return next;
  }

  private load(): JobState | null {
    return this.store.loadState<JobState>();
  }

  private save(state: JobState): JobState {
    this.store.saveState(state);
    return state;
  }
}

/** Nothing answers DoH here: the discard port on loopback refuses every connection. */
const OFFLINE_DOH_URL = "http://127.0.0.1:9/dns-query";

/** Waits for `work` at most `ms`; it goes on in the background past that. */
async function withinMs(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    work.catch(() => {}),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}
