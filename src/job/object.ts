import { DurableObject } from "cloudflare:workers";
import { accountStub } from "../account/object";
import type { ErrorItem } from "../api/errors";
import { type Config, readConfig } from "../config";
import { openDb } from "../db/client";
import { forgetJobKeys } from "../db/idempotency";
import { deleteJob, insertJob, updateJob } from "../db/jobs";
import { type Counts, deleteJobResults, type NewResult, writeResults } from "../db/results";
import { accountSecret, disableEndpoint, endpointsFor } from "../db/webhooks";
import { engineDeps, newResolver } from "../verify/deps";
import { verdictDetail } from "../verify/detail";
import type { DnsResolver } from "../verify/dns";
import { type EngineDeps, streamChecks } from "../verify/engine";
import type { CheckResults } from "../verify/types";
import { verdict } from "../verify/verdict";
import { type DeliveryView, WebhookOutbox } from "../webhooks/outbox";
import { eventPayload, terminalEventType, type WebhookEventType } from "../webhooks/payload";
import { FaultPlan, type FaultStage } from "./faults";
import type { InputEntry } from "./ingest";
import { retryAfterSeconds } from "./progress";
import { isTerminal, type JobEvent, type JobStatus, transition } from "./state";

// One Durable Object per job. It owns the job's input, its state machine and
// its progress; alarms process the input in bounded batches and write each
// batch's results to D1 in one transaction. Cancel, pause and resume are
// decided here, so they are atomic with respect to the batches.

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

interface JobState {
  id: string;
  accountId: string;
  label: string | null;
  source: string;
  status: JobStatus;
  total: number;
  /** Lowest input position not yet recorded (total when every address is done or waiting). */
  cursor: number;
  counts: Counts;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  startAt: number | null;
  webhookUrl: string | null;
  inputColumns: string[] | null;
  error: ErrorItem | null;
  /** Consecutive failed batches; the job fails when it reaches the budget. */
  failures: number;
  /** The D1 mirror of this job missed an update; the next alarm retries it. */
  mirrorDirty: boolean;
  /** A terminal event whose webhook messages are not in the outbox yet. */
  pendingEvent: WebhookEventType | null;
  lastProgressAt: number;
}

/** What the API may see of a job: its state without the object's bookkeeping. */
export type JobSnapshot = Omit<
  JobState,
  "cursor" | "webhookUrl" | "failures" | "mirrorDirty" | "pendingEvent" | "lastProgressAt"
> & { retryAfter: number | null };

export type ControlResult =
  | { ok: true; job: JobSnapshot; canceled: number; wasStarted: boolean }
  | { ok: false; code: "not_found" | "already_terminal" | "invalid_transition"; detail: string };

/** At most one progress webhook per job this often. */
const PROGRESS_INTERVAL_MS = 10_000;

/** How long one alarm keeps taking new addresses before it hands over to the next alarm. */
const RUN_BUDGET_MS = 20_000;
/** Results wait at most this long for a flush to D1. */
const FLUSH_EVERY_MS = 1000;

interface InputItem {
  position: number;
  email: string;
  extra: string | null;
  /** When this address was first asked, for the greylisting deadline. */
  firstAt: number;
  /** Never dispatched before (not a retry). */
  fresh: boolean;
}

/** How often a job waiting for a running slot asks again. */
const SLOT_RETRY_MS = 2000;

const ZERO: Counts = { processed: 0, deliverable: 0, undeliverable: 0, risky: 0, unknown: 0 };

/** SMTP answers worth asking again later in the same job. */
const DEFERRABLE = new Set(["greylisted", "rate_limited"]);

export class JobObject extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** The batch write under way, so that cancel can wait for it to land entirely. */
  private inflight: Promise<void> | null = null;
  private dns: DnsResolver | null = null;
  private pumping = false;
  /** Test-only fault injection; inert unless ALLOW_FAULT_INJECTION is "true". */
  private readonly faults = new FaultPlan();
  private readonly outbox: WebhookOutbox;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.createTables();
    this.outbox = new WebhookOutbox(this.sql, (id, reason) => disableEndpoint(openDb(env.DB), id, reason));
  }

  private createTables(): void {
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS meta (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL);
      -- done: 0 not yet recorded, 1 recorded in D1, 2 waiting in retry for a greylisting server
      CREATE TABLE IF NOT EXISTS input (
        position INTEGER PRIMARY KEY, email TEXT NOT NULL, extra TEXT, done INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX IF NOT EXISTS input_pending ON input (done, position);
      CREATE TABLE IF NOT EXISTS retry (
        position INTEGER PRIMARY KEY, first_at INTEGER NOT NULL, due_at INTEGER NOT NULL, attempts INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS retry_due ON retry (due_at);
    `);
  }

  // ── RPC: lifecycle ────────────────────────────────────────────────────

  /** Stores the job and arms its first alarm. Repeating it returns the same job. */
  async create(init: JobInit): Promise<JobSnapshot> {
    // Nothing else may run while the job is being stored: two creates of the
    // same id (an idempotent replay racing the original) must not interleave.
    return this.ctx.blockConcurrencyWhile(() => this.store(init));
  }

  private async store(init: JobInit): Promise<JobSnapshot> {
    if (this.load()) return this.snapshot()!;
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
    if (this.load()) return this.snapshot()!;
    const state: JobState = {
      id: init.id,
      accountId: init.accountId,
      label: init.label,
      source: init.source,
      status: "queued",
      total: init.entries.length,
      cursor: 0,
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
      // Multi-row inserts, under the 100 bound parameters a statement may take.
      const rowsPerInsert = 33;
      const fullInsert = `INSERT INTO input (position, email, extra) VALUES ${"(?, ?, ?),".repeat(rowsPerInsert).slice(0, -1)}`;
      for (let start = 0; start < init.entries.length; start += rowsPerInsert) {
        const part = init.entries.slice(start, start + rowsPerInsert);
        const params = part.flatMap((entry, i) => [
          start + i,
          entry.email,
          entry.extra ? JSON.stringify(entry.extra) : null,
        ]);
        const statement =
          part.length === rowsPerInsert
            ? fullInsert
            : `INSERT INTO input (position, email, extra) VALUES ${"(?, ?, ?),".repeat(part.length).slice(0, -1)}`;
        this.sql.exec(statement, ...params);
      }
      this.save(state);
    });
    await this.ctx.storage.setAlarm(Math.max(now, state.startAt ?? now));
    return this.snapshot()!;
  }

  snapshot(): JobSnapshot | null {
    const s = this.load();
    if (!s) return null;
    const { cursor, webhookUrl, failures, mirrorDirty, pendingEvent, lastProgressAt, ...visible } = s;
    return { ...visible, retryAfter: retryAfterSeconds(s, Date.now()) };
  }

  /**
   * Cancels atomically: from the moment this returns, the job's results never
   * change. A batch being verified is discarded when it comes back; a batch
   * being written is waited for, so it is recorded entirely, never half.
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
    await this.settle();
    const db = openDb(this.env.DB);
    await deleteJobResults(db, s.id);
    await forgetJobKeys(db, s.id);
    await deleteJob(db, s.id);
    await this.releaseSlot(s);
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    // This instance may live on (a stray request, an alarm): give it empty tables, not missing ones.
    this.createTables();
    this.outbox.createTables();
    return true;
  }

  /** Arms failures at named stages of the next batches (tests and chaos runs only). */
  injectFault(stage: FaultStage, times = 1): boolean {
    if (this.env.ALLOW_FAULT_INJECTION !== "true") return false;
    this.faults.arm(stage, times);
    return true;
  }

  webhookDeliveries(): DeliveryView[] {
    return this.outbox.list();
  }

  async redeliver(deliveryId: string): Promise<boolean> {
    if (!this.outbox.redeliver(deliveryId, Date.now())) return false;
    await this.armAt(Date.now());
    return true;
  }

  faultsTripped(): number {
    return this.faults.tripped;
  }

  // ── Alarm: one bounded batch per run ─────────────────────────────────

  override async alarm(): Promise<void> {
    if (!this.load()) return;
    const cfg = readConfig(this.env);
    // Webhook attempts run beside the batch, so a slow receiver does not hold the job up.
    const deliveries = this.outbox.deliverDue(cfg, Date.now()).catch((err) => {
      console.error(JSON.stringify({ msg: "webhook delivery failed", error: String(err) }));
    });
    try {
      await this.advance(cfg);
    } finally {
      await deliveries;
    }
    await this.flushEvents();
    const next = this.outbox.nextDue();
    if (next !== null) await this.armAt(next);
  }

  /** Moves the job on: starts it when due, or runs one batch. */
  private async advance(cfg: Config): Promise<void> {
    let s = this.load();
    if (!s) return;
    if (s.mirrorDirty) await this.mirror(s);
    if (s.status === "queued") {
      if (s.startAt && s.startAt > Date.now()) {
        await this.armAt(s.startAt);
        return;
      }
      // The account runs a limited number of jobs at once; the others wait queued.
      if (!(await this.account(s).acquireRun(s.id, cfg.maxRunningJobs))) {
        await this.armAt(Date.now() + SLOT_RETRY_MS);
        return;
      }
      const cur = this.load();
      if (cur?.status !== "queued") return this.releaseSlot(s);
      s = this.apply(cur, "start", { startedAt: cur.startedAt ?? Date.now() });
      await this.mirror(s);
    }
    if (s.status !== "processing") return;
    await this.account(s).renewRun(s.id);
    try {
      await this.runBatch();
      const after = this.load();
      if (after && after.failures > 0) this.save({ ...after, failures: 0 });
    } catch (err) {
      await this.recordFailure(err);
    }
  }

  /**
   * One alarm's worth of work. Addresses flow to the checks in chunks of
   * BATCH_SIZE, up to three chunks in flight; each result comes back as soon
   * as its domain is done, and results are flushed to D1 every BATCH_SIZE
   * results or every second. A slow mail server thus delays only its own
   * addresses. An address is marked done only in the flush that records its
   * result, so after a crash whatever was in flight is simply checked again.
   */
  private async runBatch(): Promise<void> {
    // Alarms are at least once and may overlap a manual run: one pump at a time.
    if (this.pumping) return;
    this.pumping = true;
    try {
      await this.pump();
    } finally {
      this.pumping = false;
    }
  }

  private async pump(): Promise<void> {
    const cfg = readConfig(this.env);
    const until = Date.now() + RUN_BUDGET_MS;
    const deps = this.engineDeps(cfg);
    const window = cfg.batchSize * 3;
    const inflight = new Map<number, InputItem>();
    const ready = new Map<number, CheckResults>();
    const tasks = new Set<Promise<void>>();
    let scan = this.load()!.cursor;
    let failure: unknown = null;
    let wake = () => {};
    let lastFlush = Date.now();

    for (;;) {
      // Canceled or paused: what is in flight is dropped; those addresses stay not done.
      if (this.load()?.status !== "processing") return;
      if (failure) throw failure;

      if (Date.now() < until && inflight.size < window) {
        const items = this.nextItems(scan, Math.min(cfg.batchSize, window - inflight.size), inflight);
        if (items.length) {
          this.faults.trip("before_verify");
          for (const item of items) {
            inflight.set(item.position, item);
            if (item.fresh) scan = Math.max(scan, item.position + 1);
          }
          const task = streamChecks(
            items.map((i) => i.email),
            deps,
            (i, check) => {
              ready.set(items[i]!.position, check);
              wake();
            },
          )
            .catch((err) => {
              failure = err;
            })
            .finally(() => {
              tasks.delete(task);
              wake();
            });
          tasks.add(task);
          continue;
        }
      }

      const quiet = tasks.size === 0;
      if (
        ready.size >= cfg.batchSize ||
        (ready.size > 0 && (quiet || Date.now() - lastFlush >= FLUSH_EVERY_MS))
      ) {
        this.faults.trip("after_verify");
        const batch = new Map(ready);
        ready.clear();
        await this.flush(cfg, batch, inflight);
        for (const position of batch.keys()) inflight.delete(position);
        lastFlush = Date.now();
        continue;
      }
      if (quiet) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, FLUSH_EVERY_MS);
      });
    }
    await this.afterBatch();
  }

  /** Due retries first, then fresh addresses from `scan` on, skipping what is in flight. */
  private nextItems(scan: number, room: number, inflight: Map<number, InputItem>): InputItem[] {
    const now = Date.now();
    const due = this.sql
      .exec<{ position: number; email: string; extra: string | null; first_at: number }>(
        `SELECT r.position, i.email, i.extra, r.first_at FROM retry r JOIN input i ON i.position = r.position
         WHERE r.due_at <= ? ORDER BY r.position LIMIT ?`,
        now,
        room + inflight.size,
      )
      .toArray()
      .filter((d) => !inflight.has(d.position))
      .slice(0, room)
      .map((d) => ({
        position: d.position,
        email: d.email,
        extra: d.extra,
        firstAt: d.first_at,
        fresh: false,
      }));
    const fresh = this.sql
      .exec<{ position: number; email: string; extra: string | null }>(
        "SELECT position, email, extra FROM input WHERE done = 0 AND position >= ? ORDER BY position LIMIT ?",
        scan,
        room - due.length,
      )
      .toArray()
      .map((f) => ({ ...f, firstAt: now, fresh: true }));
    return [...due, ...fresh];
  }

  /**
   * Records a set of finished checks: the results go to D1 in one
   * transaction, then — synchronously, so nothing can interleave — the
   * addresses are marked done, greylisted ones are queued for later, and the
   * counts move. Replaying a flush after a crash rewrites the same rows.
   */
  private async flush(
    cfg: Config,
    batch: Map<number, CheckResults>,
    inflight: Map<number, InputItem>,
  ): Promise<void> {
    const s = this.load()!;
    if (s.status !== "processing") return;
    const now = Date.now();
    const rows: NewResult[] = [];
    const deferred: InputItem[] = [];
    const totals: Counts = { ...s.counts };
    for (const [position, check] of batch) {
      const item = inflight.get(position)!;
      const smtpStatus = check.smtp?.status;
      if (smtpStatus && DEFERRABLE.has(smtpStatus) && now - item.firstAt < cfg.greylistDeadlineMs) {
        deferred.push(item);
        continue;
      }
      const v = verdict(check);
      totals.processed++;
      totals[v.result]++;
      rows.push({
        jobId: s.id,
        position,
        email: item.email,
        result: v.result,
        catchAll: v.catchAll,
        reason: v.reason,
        score: v.score,
        detail: JSON.stringify(verdictDetail(v)),
        extra: item.extra,
      });
    }
    const commit = async () => {
      const db = openDb(this.env.DB);
      this.faults.trip("d1_write");
      if (this.faults.pending("mid_write") && rows.length > 1) {
        // A crash between two writes: half the rows land, then the run dies.
        await writeResults(db, s.id, rows.slice(0, rows.length >> 1), totals);
        this.faults.trip("mid_write");
      }
      if (rows.length) await writeResults(db, s.id, rows, totals);
      this.faults.trip("after_write");
      // Synchronous from here: the rows are in D1, so progress must say so.
      this.ctx.storage.transactionSync(() => {
        for (const row of rows) {
          this.sql.exec("UPDATE input SET done = 1 WHERE position = ?", row.position);
          this.sql.exec("DELETE FROM retry WHERE position = ?", row.position);
        }
        for (const item of deferred) {
          this.sql.exec("UPDATE input SET done = 2 WHERE position = ?", item.position);
          this.sql.exec(
            `INSERT INTO retry (position, first_at, due_at, attempts) VALUES (?, ?, ?, 1)
             ON CONFLICT (position) DO UPDATE SET due_at = excluded.due_at, attempts = attempts + 1`,
            item.position,
            item.firstAt,
            now + cfg.greylistDelayMs,
          );
        }
        const lowest = this.sql
          .exec<{ p: number | null }>("SELECT MIN(position) AS p FROM input WHERE done = 0")
          .one().p;
        this.save({ ...this.load()!, cursor: lowest ?? s.total, counts: totals });
      });
    };
    this.inflight = commit();
    try {
      await this.inflight;
    } finally {
      this.inflight = null;
    }
    await this.announceProgress(this.load()!);
  }

  /** Arms the next alarm, or completes the job when nothing is left. */
  private async afterBatch(): Promise<void> {
    const s = this.load()!;
    if (s.status !== "processing") return;
    if (s.cursor < s.total) {
      await this.armAt(Date.now());
      return;
    }
    const next = this.sql.exec<{ due: number | null }>("SELECT MIN(due_at) AS due FROM retry").one().due;
    if (next !== null) {
      await this.armAt(Math.max(Date.now(), next));
      return;
    }
    const done = this.apply(s, "finish", { finishedAt: Date.now() });
    await this.mirror(done);
    await this.releaseSlot(done);
  }

  private async recordFailure(err: unknown): Promise<void> {
    const cfg = readConfig(this.env);
    const s = this.load();
    if (!s) return;
    const failures = s.failures + 1;
    console.error(
      JSON.stringify({ msg: "batch failed", job: s.id, account: s.accountId, failures, error: String(err) }),
    );
    if (s.status !== "processing") return;
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

  // ── Helpers ──────────────────────────────────────────────────────────

  private async control(event: Extract<JobEvent, "cancel" | "pause" | "resume">): Promise<ControlResult> {
    const s = this.load();
    if (!s) return { ok: false, code: "not_found", detail: "Could not find email validation." };
    const t = transition(s.status, event);
    if (!t.ok) return t;
    const wasStarted = s.startedAt !== null;
    const now = Date.now();
    if (event === "resume") {
      // A job paused before it ever started goes back to waiting for its start.
      const status = s.startedAt === null ? "queued" : t.status;
      this.save({ ...s, status });
      await this.armAt(Math.max(now, s.startAt ?? now));
    } else {
      this.save({
        ...s,
        status: t.status,
        finishedAt: event === "cancel" ? now : s.finishedAt,
        pendingEvent: terminalEventType(t.status) ?? s.pendingEvent,
      });
      await this.settle();
    }
    const after = this.load()!;
    await this.mirror(after);
    if (isTerminal(after.status)) {
      await this.releaseSlot(after);
      await this.flushEvents();
    }
    return {
      ok: true,
      job: this.snapshot()!,
      canceled: event === "cancel" ? after.total - after.counts.processed : 0,
      wasStarted,
    };
  }

  /** Waits for a batch write under way to land (or fail) entirely. */
  private async settle(): Promise<void> {
    if (!this.inflight) return;
    try {
      await this.inflight;
    } catch {
      // The write failed as a whole; nothing of it was recorded.
    }
  }

  private engineDeps(cfg: Config): EngineDeps {
    this.dns ??= newResolver(cfg);
    return engineDeps(this.env, cfg, this.dns);
  }

  /** Sets the alarm for `at` unless it is already set to go off sooner. */
  private async armAt(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || at < current) await this.ctx.storage.setAlarm(at);
  }

  /**
   * Puts the webhook messages of a terminal event into the outbox. The event
   * is recorded with the state change, so if D1 cannot be read now, the next
   * alarm tries again and no event is lost.
   */
  private async flushEvents(): Promise<void> {
    const s = this.load();
    if (!s?.pendingEvent) return;
    try {
      const messages = await this.recipients(s, s.pendingEvent);
      const body = JSON.stringify(eventPayload(s.pendingEvent, s, Date.now()));
      this.ctx.storage.transactionSync(() => {
        this.outbox.enqueue(
          messages.map((m) => ({ ...m, eventType: s.pendingEvent!, body })),
          Date.now(),
        );
        this.save({ ...this.load()!, pendingEvent: null });
      });
      if (messages.length) await this.armAt(Date.now());
    } catch (err) {
      console.error(JSON.stringify({ msg: "webhook enqueue failed", job: s.id, error: String(err) }));
      await this.armAt(Date.now() + 5000);
    }
  }

  /** A throttled progress event for endpoints that opted in. */
  private async announceProgress(s: JobState): Promise<void> {
    const now = Date.now();
    if (now - s.lastProgressAt < PROGRESS_INTERVAL_MS) return;
    this.save({ ...s, lastProgressAt: now });
    try {
      const type = "email_validation.progress" as const;
      const endpoints = await endpointsFor(openDb(this.env.DB), s.accountId, type);
      if (!endpoints.length) return;
      const body = JSON.stringify(eventPayload(type, this.load()!, now));
      this.outbox.enqueue(
        endpoints.map((e) => ({ url: e.url, secret: e.secret, endpointId: e.id, eventType: type, body })),
        now,
      );
    } catch (err) {
      console.error(JSON.stringify({ msg: "progress event failed", job: s.id, error: String(err) }));
    }
  }

  /** Who hears about an event: the job's own webhook_url and the account's subscribed endpoints. */
  private async recipients(s: JobState, type: WebhookEventType) {
    const db = openDb(this.env.DB);
    const out: { url: string; secret: string; endpointId: string | null }[] = [];
    if (s.webhookUrl)
      out.push({ url: s.webhookUrl, secret: await accountSecret(db, s.accountId), endpointId: null });
    for (const e of await endpointsFor(db, s.accountId, type))
      out.push({ url: e.url, secret: e.secret, endpointId: e.id });
    return out;
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

  /** Copies status and counts to the job's D1 row; a miss is retried by the next alarm. */
  private async mirror(s: JobState): Promise<void> {
    try {
      await updateJob(openDb(this.env.DB), s.id, {
        status: s.status,
        finishedAt: s.finishedAt,
        ...s.counts,
      });
      const cur = this.load();
      if (cur?.mirrorDirty) this.save({ ...cur, mirrorDirty: false });
    } catch (err) {
      console.error(JSON.stringify({ msg: "mirror failed", job: s.id, error: String(err) }));
      const cur = this.load();
      if (cur) this.save({ ...cur, mirrorDirty: true });
      await this.armAt(Date.now() + 5000);
    }
  }

  private load(): JobState | null {
    const row = this.sql.exec<{ state: string }>("SELECT state FROM meta WHERE id = 1").toArray()[0];
    return row ? (JSON.parse(row.state) as JobState) : null;
  }

  private save(state: JobState): void {
    this.sql.exec("INSERT OR REPLACE INTO meta (id, state) VALUES (1, ?)", JSON.stringify(state));
  }
}
