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
import { checkAddresses, type EngineDeps } from "../verify/engine";
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
  /** Next input position never attempted. */
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
      CREATE TABLE IF NOT EXISTS input (position INTEGER PRIMARY KEY, email TEXT NOT NULL, extra TEXT);
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

  private async runBatch(): Promise<void> {
    const cfg = readConfig(this.env);
    const started = Date.now();
    const s = this.load()!;

    const due = this.sql
      .exec<{ position: number; first_at: number; attempts: number }>(
        "SELECT position, first_at, attempts FROM retry WHERE due_at <= ? ORDER BY position LIMIT ?",
        started,
        cfg.batchSize,
      )
      .toArray();
    const freshLimit = cfg.batchSize - due.length;
    const fresh = this.sql
      .exec<{ position: number }>(
        "SELECT position FROM input WHERE position >= ? ORDER BY position LIMIT ?",
        s.cursor,
        freshLimit,
      )
      .toArray();
    const firstTry = new Map<number, number>(due.map((d) => [d.position, d.first_at]));
    for (const f of fresh) firstTry.set(f.position, started);
    const positions = [...firstTry.keys()].sort((a, b) => a - b);
    if (positions.length === 0) return this.afterBatch();

    const items = this.readInput(positions);
    this.faults.trip("before_verify");
    const checks = await checkAddresses(
      items.map((i) => i.email),
      this.engineDeps(cfg),
    );

    this.faults.trip("after_verify");
    // Canceled or paused while we were out on the network: discard this batch.
    // Nothing was written, the cursor did not move, so resume redoes it exactly.
    if (this.load()?.status !== "processing") return;

    const now = Date.now();
    const rows: NewResult[] = [];
    const deferred: number[] = [];
    const totals: Counts = { ...this.load()!.counts };
    items.forEach((item, i) => {
      const check = checks[i]!;
      const first = firstTry.get(item.position) ?? now;
      const smtpStatus = check.smtp?.status;
      if (smtpStatus && DEFERRABLE.has(smtpStatus) && now - first < cfg.greylistDeadlineMs) {
        deferred.push(item.position);
        return;
      }
      const v = verdict(check);
      totals.processed++;
      totals[v.result]++;
      rows.push({
        jobId: s.id,
        position: item.position,
        email: item.email,
        result: v.result,
        catchAll: v.catchAll,
        reason: v.reason,
        score: v.score,
        detail: JSON.stringify(verdictDetail(v)),
        extra: item.extra,
      });
    });

    const lastFresh = fresh.length ? fresh[fresh.length - 1]!.position + 1 : s.cursor;
    const commit = async () => {
      const db = openDb(this.env.DB);
      this.faults.trip("d1_write");
      if (this.faults.pending("mid_write") && rows.length > 1) {
        // A crash between two writes: half the rows land, then the batch dies.
        await writeResults(db, s.id, rows.slice(0, rows.length >> 1), totals);
        this.faults.trip("mid_write");
      }
      if (rows.length) await writeResults(db, s.id, rows, totals);
      this.faults.trip("after_write");
      // Synchronous from here: the rows are in D1, so progress must say so.
      this.ctx.storage.transactionSync(() => {
        const cur = this.load()!;
        for (const row of rows) this.sql.exec("DELETE FROM retry WHERE position = ?", row.position);
        for (const position of deferred) {
          this.sql.exec(
            `INSERT INTO retry (position, first_at, due_at, attempts) VALUES (?, ?, ?, 1)
             ON CONFLICT (position) DO UPDATE SET due_at = excluded.due_at, attempts = attempts + 1`,
            position,
            firstTry.get(position) ?? now,
            now + cfg.greylistDelayMs,
          );
        }
        this.save({ ...cur, cursor: Math.max(cur.cursor, lastFresh), counts: totals });
      });
    };
    this.inflight = commit();
    try {
      await this.inflight;
    } finally {
      this.inflight = null;
    }
    await this.afterBatch();
  }

  /** Arms the next alarm, or completes the job when nothing is left. */
  private async afterBatch(): Promise<void> {
    const s = this.load()!;
    if (s.status !== "processing") return;
    await this.announceProgress(s);
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

  private readInput(positions: number[]): { position: number; email: string; extra: string | null }[] {
    const out: { position: number; email: string; extra: string | null }[] = [];
    // Bound parameters are limited per statement: read in slices.
    for (let i = 0; i < positions.length; i += 90) {
      const part = positions.slice(i, i + 90);
      const rows = this.sql
        .exec<{ position: number; email: string; extra: string | null }>(
          `SELECT position, email, extra FROM input WHERE position IN (${part.map(() => "?").join(",")}) ORDER BY position`,
          ...part,
        )
        .toArray();
      out.push(...rows);
    }
    return out;
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
