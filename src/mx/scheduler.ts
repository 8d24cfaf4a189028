// The host object's work loop: sessions pull recipients from the queue (every
// job's, round-robin), answers are settled into the queue and the outbox in
// one SQLite transaction each, and what the server says about us (too many
// connections, throttling, silence) moves the host's health. One loop runs
// per object at a time, inside its alarm.

import type { SessionEnd, SessionTarget } from "../verify/smtp-session";
import type { MailboxStatus, MxHost, SmtpReply, SmtpResult } from "../verify/types";
import type { AnswerOutbox, ReportFn } from "./answers";
import type { CatchAllBook, CatchAllState } from "./catch-all";
import {
  type HostHealth,
  onBroken,
  onCleanSession,
  onErrorLimit,
  onRecipientLimit,
  onThrottled,
  onTooManyConnections,
  onUnreachable,
  pausedUntil,
  sessionsAllowed,
} from "./health";
import type { HostProfile } from "./profiles";
import type { HostRecipient } from "./protocol";
import { type QueuedRecipient, queueKey, type RecipientQueue } from "./queue";
import { retryDelayMs } from "./retry";
import type { SessionRunner } from "./transport";

export interface SchedulerDeps {
  queue: RecipientQueue;
  catchAll: CatchAllBook;
  outbox: AnswerOutbox;
  health: { load(): HostHealth; save(h: HostHealth): void };
  targets(): SessionTarget[];
  profile: HostProfile | null;
  runSession: SessionRunner;
  report: ReportFn;
  /** Hands recipients to the host object of their next exchanger. */
  forward(items: HostRecipient[]): Promise<void>;
  /** Runs `fn` as one SQLite transaction. */
  atomically(fn: () => void): void;
  /** Every outgoing connection of this invocation goes through here (sessions, reports, forwards). */
  outbound<T>(fn: () => Promise<T>): Promise<T>;
  greylistCeilingMs: number;
  backoffCeilingMs: number;
  /** Our infrastructure's failures in a row and the pause they set, kept across runs. */
  infra?: { load(): InfraState; save(s: InfraState): void };
}

export interface InfraState {
  failuresInRow: number;
  pausedUntil: number;
}

/** Answers wait at most this long before they are handed back to their jobs. */
const REPORT_EVERY_MS = 250;
const REPORT_AT = 200;
/** After our own infrastructure failed (the prober, a call), wait this long before trying again; it doubles. */
const INFRA_PAUSE_MS = 2000;
const INFRA_PAUSE_CEILING_MS = 60_000;
/** A recipient whose session broke this many times is answered with the error. */
const MAX_BREAKS = 2;
const IDLE_TICK_MS = 250;
/**
 * An open session waits this long for more recipients before it says QUIT:
 * jobs hand their addresses over in pieces, and a session kept for the next
 * piece costs the server nothing, where a new one costs a banner and an EHLO.
 */
const LINGER_MS = 1500;
/** Held recipients' deadlines are looked at this often, not on every turn of the loop. */
const HELD_CHECK_MS = 1000;
/** Final answers are stored in one transaction once this many are waiting (and on every turn). */
const FLUSH_AT = 100;

export class HostScheduler {
  /** Recipients handed to sessions and not answered yet, by address (several jobs may ask the same). */
  private readonly working = new Map<string, QueuedRecipient[]>();
  /** Queue keys and probe addresses in `working` or `ready`. */
  private readonly busy = new Set<string>();
  /** Addresses taken from the queue, waiting for a session's next transaction. */
  private ready: string[] = [];
  /** Catch-all probes in flight: probe address → domain. */
  private readonly probes = new Map<string, string>();
  private readonly sessions = new Set<{ addresses: Set<string>; abort: AbortController }>();
  /** Jobs told to stop, with the last run (epoch) that stopped: their recipients are not sent. */
  private readonly stopped = new Map<string, number>();
  private greeted = false;
  /** The run's time is up: sessions finish what they hold and do not wait for more. */
  private stopping = false;
  private infraPauseUntil = 0;
  /** Our infrastructure failed this many sessions in a row: the pause grows with it. */
  private infraFailures = 0;
  private lastReport = 0;
  private reporting: Promise<void> | null = null;
  private wakeUp: () => void = () => {};
  /** Sessions lingering for more recipients. */
  private lingering: (() => void)[] = [];
  /** The host's health, kept here while the loop runs and written through on every change. */
  private health: HostHealth;
  /** The queue had nothing due when last asked: no need to ask again before this, unless woken. */
  private quietUntil = 0;
  private nextHeldCheck = 0;
  /** Answers stored since the last report. */
  private unreported = 0;
  /** Final answers not stored yet: written in one transaction per flush. */
  private finals: { row: QueuedRecipient; smtp: SmtpResult }[] = [];
  /** Domains whose probe was asked for during this run. */
  private readonly probesWanted = new Set<string>();
  /** Catch-all states read during this run (this loop is the only writer). */
  private readonly catchAllStates = new Map<string, CatchAllState>();

  constructor(private readonly deps: SchedulerDeps) {
    this.health = deps.health.load();
    const infra = deps.infra?.load();
    if (infra) {
      this.infraFailures = infra.failuresInRow;
      this.infraPauseUntil = infra.pausedUntil;
    }
  }

  /** Works the queue until it is idle or `until` passes; returns when every session has ended. */
  async run(until: number): Promise<void> {
    for (;;) {
      const now = Date.now();
      if (now >= this.nextHeldCheck) {
        this.nextHeldCheck = now + HELD_CHECK_MS;
        this.expireHeld(now);
      }
      const health = this.health;
      if (health.breakerStatus !== null && now < health.breakerUntil) await this.settleDownHost(health);
      if (now < until) this.startSessions(health, now);
      else this.stopping = true;
      const idle = this.sessions.size === 0;
      if (idle && (now >= until || !this.hasWorkNow(now))) break;
      this.flushFinals();
      if (this.unreported > 0 && (this.unreported >= REPORT_AT || now - this.lastReport >= REPORT_EVERY_MS))
        void this.report();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, IDLE_TICK_MS);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.releaseReady();
    this.flushFinals();
    await this.reporting;
    await this.report();
  }

  /** New recipients arrived: look at the queue again now. */
  wake(): void {
    this.quietUntil = 0;
    this.wakeUp();
    for (const resume of this.lingering.splice(0)) resume();
  }

  /**
   * A job was canceled, paused or deleted: none of its recipients up to
   * `epoch` is asked again. A cancel forgets what it had; a pause keeps the
   * answers it has (they are stored now) and those of RCPTs on the wire.
   */
  dropJob(job: string, epoch = Number.MAX_SAFE_INTEGER, keepAnswers = false): void {
    const ended = (r: QueuedRecipient) => r.job === job && r.epoch <= epoch;
    if (keepAnswers) this.flushFinals();
    else this.finals = this.finals.filter(({ row }) => !ended(row));
    this.stopped.set(job, Math.max(epoch, this.stopped.get(job) ?? -1));
    const onTheWire = new Set<string>();
    if (keepAnswers) for (const s of this.sessions) for (const a of s.addresses) onTheWire.add(a);
    for (const [address, rows] of this.working) {
      // Kept while a session holds it: its answer, if one comes, still counts; it is never sent again.
      if (onTheWire.has(address)) continue;
      const kept = rows.filter((r) => !ended(r));
      for (const r of rows) if (ended(r)) this.busy.delete(queueKey(r));
      if (kept.length) this.working.set(address, kept);
      else this.working.delete(address);
    }
    this.ready = this.ready.filter((a) => this.live(a));
    // Relayed sessions run on the prober: stop the ones that carry only stopped addresses.
    for (const s of this.sessions) {
      if ([...s.addresses].some((a) => !this.live(a))) s.abort.abort();
    }
  }

  /** Whether an address may still be sent: a probe, or wanted by a job that goes on. */
  private live(address: string): boolean {
    if (this.probes.has(address)) return true;
    return (this.working.get(address) ?? []).some((r) => r.epoch > (this.stopped.get(r.job) ?? -1));
  }

  // ── Sessions ─────────────────────────────────────────────────────────

  private startSessions(health: HostHealth, now: number): void {
    let allowed = now < this.infraPauseUntil ? 0 : Math.min(health.cap, sessionsAllowed(health, now));
    // A host we have not talked to yet gets one session first: a silent one then costs one timeout.
    if (!this.greeted) allowed = Math.min(allowed, 1);
    while (this.sessions.size < allowed && this.fill(1, now)) this.startSession(health);
  }

  private startSession(health: HostHealth): void {
    const session = { addresses: new Set<string>(), abort: new AbortController() };
    this.sessions.add(session);
    const plan = {
      targets: this.deps.targets(),
      maxRcpts: health.rcptsPerSession,
      maxErrors: health.errorsPerSession ?? null,
      next: async (room: number) => {
        this.greeted = true;
        const batch = await this.take(room);
        for (const a of batch) session.addresses.add(a);
        return batch;
      },
      answer: (address: string, status: MailboxStatus, reply: SmtpReply) => {
        session.addresses.delete(address);
        this.onAnswer(address, status, reply);
      },
      live: (address: string) => this.live(address),
    };
    this.deps
      .outbound(() => this.deps.runSession(plan, session.abort.signal))
      .then((end) => this.onSessionEnd(end, session.addresses))
      .catch((err) => this.onInfraFailure(err, session.addresses, session.abort.signal.aborted))
      .finally(() => {
        this.sessions.delete(session);
        this.wakeUp();
      });
  }

  /** Makes sure at least `want` addresses are ready; returns whether any are. */
  private fill(want: number, now: number): boolean {
    if (this.ready.length >= want) return true;
    if (now < this.quietUntil) return this.ready.length > 0;
    for (const { domain, probe } of this.deps.catchAll.dueProbes(now, this.busy, 10)) {
      this.probes.set(probe, domain);
      this.busy.add(probe);
      this.ready.unshift(probe);
    }
    const asked = Math.max(want, 100) - this.ready.length;
    const rows = this.deps.queue.due(now, asked, this.busy);
    for (const row of rows) {
      this.busy.add(queueKey(row));
      if (row.probeOnly) {
        this.settleProbeOnly(row, now);
        continue;
      }
      const rowsForAddress = this.working.get(row.address);
      if (rowsForAddress) rowsForAddress.push(row);
      else {
        this.working.set(row.address, [row]);
        this.ready.push(row.address);
      }
    }
    if (rows.length < asked) {
      // Everything due is taken: the next look is when a retry or probe falls due (or an enqueue wakes us).
      const next = Math.min(
        this.deps.queue.nextDue() ?? Infinity,
        this.deps.catchAll.nextProbeDue() ?? Infinity,
      );
      this.quietUntil = Math.min(next, now + HELD_CHECK_MS);
    }
    return this.ready.length > 0;
  }

  /** Recipients for a session's next transaction; waits a little for more when there are none yet. */
  private async take(room: number): Promise<string[]> {
    const until = Date.now() + LINGER_MS;
    for (;;) {
      const now = Date.now();
      const paused = pausedUntil(this.health, now) !== null;
      if (!paused && this.fill(room, now)) return this.ready.splice(0, room);
      if (paused || now >= until || this.stopping) return [];
      // Woken by an enqueue, or when the queue may have something due again.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, Math.min(until, this.quietUntil) - now));
        this.lingering.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private hasWorkNow(now: number): boolean {
    if (pausedUntil(this.health, now) !== null || now < this.infraPauseUntil) return false;
    return this.fill(1, now);
  }

  /** Puts what is taken but not sent back: it stays queued in SQLite for the next run (not before `dueAt`). */
  private releaseReady(dueAt?: number): void {
    for (const address of this.ready) {
      const rows = this.working.get(address) ?? [];
      if (dueAt !== undefined && rows.length)
        this.deps.atomically(() => {
          for (const r of rows) this.deps.queue.retryAt(r, dueAt, r.last);
        });
      for (const r of rows) this.busy.delete(queueKey(r));
      this.working.delete(address);
      this.probes.delete(address);
      this.busy.delete(address);
    }
    this.ready = [];
  }

  // ── Answers ──────────────────────────────────────────────────────────

  private onAnswer(address: string, status: MailboxStatus, reply: SmtpReply): void {
    const now = Date.now();
    if (this.probes.has(address)) {
      this.deps.atomically(() => this.answerProbe(address, status, now));
      return;
    }
    const rows = this.working.get(address) ?? [];
    this.working.delete(address);
    this.deps.atomically(() => {
      for (const row of rows) {
        this.busy.delete(queueKey(row));
        this.settle(row, { status, reply, mxHost: row.mxName, catchAll: null }, now);
      }
    });
  }

  /** The server's answer to a catch-all probe; when it settles the domain, the held recipients get theirs. */
  private answerProbe(address: string, status: MailboxStatus, now: number): void {
    const domain = this.probes.get(address)!;
    this.probes.delete(address);
    this.busy.delete(address);
    const settled = this.deps.catchAll.answer(domain, status, now, this.deps.greylistCeilingMs);
    this.catchAllStates.delete(domain);
    if (settled === null) return;
    this.probesWanted.delete(domain);
    this.releaseHeld(domain, settled);
  }

  /** One mailbox answer for one queued recipient: final, asked again later, or held for the catch-all answer. */
  private settle(row: QueuedRecipient, smtp: SmtpResult, now: number): void {
    const { queue, catchAll } = this.deps;
    if (smtp.status === "greylisted" || smtp.status === "rate_limited") {
      // Start the catch-all probe's own greylisting now, not after the real address is let through.
      if (this.catchAllState(row.domain, now) === "unknown" && !row.probeOnly)
        this.wantProbe(row.domain, now);
      if (now >= row.deadlineAt) this.final(row, smtp);
      else {
        const wait = retryDelayMs(row.attempts + 1, this.deps.greylistCeilingMs);
        queue.retryAt(row, Math.min(row.deadlineAt, now + wait), smtp, { attempt: true });
      }
      return;
    }
    if (smtp.status === "exists" && this.deps.profile?.acceptsAll) {
      catchAll.know(row.domain, true, now);
      this.catchAllStates.delete(row.domain);
    }
    const state = this.catchAllState(row.domain, now);
    if (smtp.status === "exists" && state === "unknown") {
      // Never deliverable before we know the domain does not accept everything.
      this.wantProbe(row.domain, now);
      queue.hold(row, smtp);
      return;
    }
    this.final(row, { ...smtp, catchAll: typeof state === "boolean" ? state : null });
  }

  private wantProbe(domain: string, now: number): void {
    // Asked once per run: the probe stays wanted until it is answered.
    if (this.probesWanted.has(domain)) return;
    this.probesWanted.add(domain);
    this.deps.catchAll.want(domain, now);
    this.catchAllStates.delete(domain);
    this.quietUntil = 0;
  }

  private catchAllState(domain: string, now: number): CatchAllState {
    let state = this.catchAllStates.get(domain);
    if (state === undefined) {
      state = this.deps.catchAll.state(domain, now);
      this.catchAllStates.set(domain, state);
    }
    return state;
  }

  /** A disposable domain's address: only the domain's catch-all status is wanted. */
  private settleProbeOnly(row: QueuedRecipient, now: number): void {
    this.busy.delete(queueKey(row));
    this.deps.atomically(() => {
      const state = this.catchAllState(row.domain, now);
      if (state === "unknown") {
        this.wantProbe(row.domain, now);
        this.deps.queue.hold(row, null);
      } else this.final(row, notAsked(row, typeof state === "boolean" ? state : null));
    });
  }

  /** The domain's catch-all status is settled: every recipient held for it gets its answer. */
  private releaseHeld(domain: string, state: CatchAllState): void {
    const catchAll = typeof state === "boolean" ? state : null;
    for (const row of this.deps.queue.held(domain)) {
      this.final(row, row.last ? { ...row.last, catchAll } : notAsked(row, catchAll));
    }
  }

  /** Held past the deadline: the catch-all question stays open, and the answer says so. */
  private expireHeld(now: number): void {
    const expired = this.deps.queue.heldPastDeadline(now);
    if (!expired.length) return;
    this.deps.atomically(() => {
      for (const row of expired)
        this.final(row, row.last ? { ...row.last, catchAll: null } : notAsked(row, null));
      for (const domain of new Set(expired.map((r) => r.domain)))
        if (!this.deps.queue.held(domain).length) {
          this.deps.catchAll.forget(domain);
          this.probesWanted.delete(domain);
        }
    });
  }

  /** A final answer; stored with the next flush (the row stays busy until then, so it is not sent again). */
  private final(row: QueuedRecipient, smtp: SmtpResult): void {
    this.busy.add(queueKey(row));
    this.finals.push({ row, smtp });
    if (this.finals.length >= FLUSH_AT) this.flushFinals();
  }

  /** Moves final answers from the queue to the outbox in one transaction. */
  private flushFinals(): void {
    if (!this.finals.length) return;
    const finals = this.finals;
    this.finals = [];
    this.deps.atomically(() => {
      this.deps.outbox.putMany(
        finals.map(({ row, smtp }) => ({ job: row.job, position: row.position, smtp })),
      );
      this.deps.queue.removeMany(finals.map(({ row }) => row));
    });
    for (const { row } of finals) this.busy.delete(queueKey(row));
    this.unreported += finals.length;
  }

  // ── Session ends ─────────────────────────────────────────────────────

  private onSessionEnd(end: SessionEnd, handed: Set<string>): void {
    const now = Date.now();
    if (this.infraFailures > 0) {
      this.infraFailures = 0;
      this.deps.infra?.save({ failuresInRow: 0, pausedUntil: 0 });
    }
    let health = this.health;
    const others = this.sessions.size - 1;
    const unanswered = [...new Set([...end.unanswered, ...handed])];
    switch (end.kind) {
      case "done":
        health = onCleanSession(health);
        this.requeue(unanswered);
        break;
      case "recipient_limit":
        // 452 on the first RCPT says nothing about a limit: the host is just busy.
        if (end.rcpts <= 1) health = onThrottled(health, now, end.reply, this.deps.backoffCeilingMs);
        else health = onRecipientLimit(health, end.rcpts - 1);
        this.requeue(unanswered);
        break;
      case "error_limit":
        health = onErrorLimit(health, end.errors);
        this.requeue(unanswered);
        break;
      case "too_many_connections":
        health = onTooManyConnections(health, others, now, end.reply, this.deps.backoffCeilingMs);
        this.requeue(unanswered);
        break;
      case "refused":
        if (end.status === "rate_limited") {
          health = onThrottled(health, now, end.reply, this.deps.backoffCeilingMs);
          this.requeue(unanswered);
        } else this.answerAll(unanswered, end.status, end.reply, now);
        break;
      case "unreachable":
        this.requeue(unanswered);
        // Another session is talking to the host: this was a passing refusal, not a dead host.
        if (others === 0 || !this.greeted) health = onUnreachable(health, now, end.status);
        break;
      case "broken":
        health = onBroken(health, now, end.answered);
        if (end.inFlight) this.charge(end.inFlight, now);
        this.requeue(unanswered.filter((a) => a !== end.inFlight));
        break;
    }
    this.saveHealth(health);
  }

  private saveHealth(health: HostHealth): void {
    this.health = health;
    this.deps.health.save(health);
  }

  /**
   * Our side failed (the prober, a call): not the server's fault, not a
   * verdict. Everything goes back and is tried again after a growing pause;
   * only a recipient past its deadline is answered, saying the prober failed.
   * (A prober of a pool that fails is not this: the relay hands the session
   * to the host's next prober; it fails only when every prober rests.)
   */
  private onInfraFailure(err: unknown, handed: Set<string>, aborted: boolean): void {
    // A session we stopped ourselves (a cancel) failed nothing.
    if (aborted) {
      this.requeue([...handed]);
      return;
    }
    const now = Date.now();
    this.infraFailures++;
    const pause = Math.min(INFRA_PAUSE_CEILING_MS, INFRA_PAUSE_MS * 2 ** (this.infraFailures - 1));
    console.error(
      JSON.stringify({
        msg: "session failed",
        error: String(err),
        failuresInRow: this.infraFailures,
        pauseMs: pause,
      }),
    );
    this.infraPauseUntil = now + pause;
    this.deps.infra?.save({ failuresInRow: this.infraFailures, pausedUntil: this.infraPauseUntil });
    const late = [...handed].filter(
      (a) => !this.probes.has(a) && (this.working.get(a) ?? []).every((r) => r.deadlineAt <= now),
    );
    if (late.length) this.answerAll(late, "prober_unavailable", null, now);
    // The rest wait in the queue until the pause is over (a later run picks them up then).
    this.requeue([...handed].filter((a) => !late.includes(a)));
    this.releaseReady(this.infraPauseUntil);
  }

  /** Unanswered addresses go to the front, to be sent by the next session; those of stopped jobs leave. */
  private requeue(addresses: string[]): void {
    for (const a of addresses) {
      if (this.live(a) || !this.working.has(a)) continue;
      for (const r of this.working.get(a) ?? []) this.busy.delete(queueKey(r));
      this.working.delete(a);
    }
    const live = addresses.filter((a) => this.live(a));
    this.ready = [...live, ...this.ready.filter((a) => !live.includes(a))];
  }

  /** The RCPT that was waiting when the connection broke: a second break answers it. */
  private charge(address: string, now: number): void {
    const rows = this.working.get(address) ?? [];
    const spent = rows.filter((r) => r.breaks + 1 >= MAX_BREAKS);
    if (!spent.length) {
      for (const r of rows) r.breaks++;
      this.deps.atomically(() => {
        for (const r of rows) this.deps.queue.retryAt(r, now, r.last, { broke: true });
      });
      return;
    }
    this.answerAll([address], "error", null, now);
  }

  private answerAll(addresses: string[], status: MailboxStatus, reply: SmtpReply | null, now: number): void {
    this.deps.atomically(() => {
      for (const address of addresses) {
        if (this.probes.has(address)) {
          this.answerProbe(address, status, now);
          continue;
        }
        for (const row of this.working.get(address) ?? []) {
          this.busy.delete(queueKey(row));
          this.settle(row, { status, reply, mxHost: row.mxName, catchAll: null }, now);
        }
        this.working.delete(address);
      }
      this.ready = this.ready.filter((a) => !addresses.includes(a));
    });
  }

  /**
   * The host will not greet us (breaker open): recipients whose domain has
   * another exchanger move there; the rest are answered with what happened.
   * None of them waits for the host's timeout again.
   */
  private async settleDownHost(health: HostHealth): Promise<void> {
    const status = health.breakerStatus ?? "unreachable";
    const rows = [...this.deps.queue.waiting(this.busy)];
    for (const address of this.ready) rows.push(...(this.working.get(address) ?? []));
    this.releaseReady();
    if (!rows.length) return;
    const moving = rows.filter((r) => r.fallback.length > 0);
    const staying = rows.filter((r) => r.fallback.length === 0);
    const now = Date.now();
    this.deps.atomically(() => {
      for (const r of staying) this.settle(r, { status, reply: null, mxHost: r.mxName, catchAll: null }, now);
    });
    if (!moving.length) return;
    try {
      await this.deps.forward(moving.map(nextExchanger));
      this.deps.atomically(() => {
        this.deps.queue.removeMany(moving);
      });
    } catch (err) {
      // They stay queued here and move on the next round.
      console.error(JSON.stringify({ msg: "forward failed", error: String(err) }));
      this.infraPauseUntil = Date.now() + INFRA_PAUSE_MS;
    }
  }

  // ── Reports ──────────────────────────────────────────────────────────

  private report(): Promise<void> {
    if (this.reporting) return this.reporting;
    this.lastReport = Date.now();
    this.unreported = 0;
    this.reporting = (async () => {
      try {
        const stopped = await this.deps.outbox.deliver(
          (job, answers) => this.deps.outbound(() => this.deps.report(job, answers)),
          (job, err) => console.error(JSON.stringify({ msg: "report failed", job, error: String(err) })),
        );
        for (const job of stopped) {
          this.deps.queue.dropJob(job);
          this.dropJob(job);
        }
      } finally {
        this.reporting = null;
      }
    })();
    return this.reporting;
  }
}

function nextExchanger(r: QueuedRecipient): HostRecipient {
  const [mx, ...fallback] = r.fallback as [MxHost, ...MxHost[]];
  return {
    job: r.job,
    position: r.position,
    address: r.address,
    domain: r.domain,
    mx,
    fallback,
    probeOnly: r.probeOnly,
    deadlineAt: r.deadlineAt,
    epoch: r.epoch,
  };
}

function notAsked(row: QueuedRecipient, catchAll: boolean | null): SmtpResult {
  return { status: "error", reply: null, mxHost: row.mxName, catchAll };
}
