// One SMTP session to one mail server, carrying recipients of any domain and
// any job: EHLO, then MAIL FROM / RCPT TO… transactions separated by RSET,
// then QUIT. Never DATA. The caller feeds recipients through `next()` before
// every transaction, so a host's scheduler can keep one session busy with its
// whole queue, and the Node prober can run the same code over a fixed list.

import {
  classifyRcptReply,
  hasExtension,
  isSafeForSmtp,
  isTooManyErrors,
  oneLine,
  refusalStatus,
  type SmtpConfig,
  type SmtpConnect,
  type SmtpConnection,
  SmtpIoError,
  safeClose,
} from "./smtp";
import type { MailboxStatus, SmtpReply } from "./types";

/** One address of the server, by the name a domain knows it under. */
export interface SessionTarget {
  host: string;
  ip: string;
}

export interface SessionPlan {
  /** The server's addresses, tried in order until one greets us. */
  targets: SessionTarget[];
  /** RCPTs this session may carry in all (the host's learned or known limit). */
  maxRcpts: number;
  /** Refused RCPTs this session may carry before it makes room for a fresh one (the host's error limit), when known. */
  maxErrors?: number | null;
  /** Recipients for the next MAIL transaction, at most `room`; none ends the session. May wait for work. */
  next(room: number): string[] | Promise<string[]>;
  /** A mailbox answer for one recipient. */
  answer(address: string, status: MailboxStatus, reply: SmtpReply): void;
  /** Whether an address may still be asked (false once every job that wanted it was canceled). */
  live?(address: string): boolean;
}

/** How a session ended. `unanswered` lists what `next()` handed over and got no answer. */
export type SessionEnd = { unanswered: string[]; rcpts: number; answered: number; host: string | null } & (
  | { kind: "done" }
  /** 452 4.5.3 and friends: this server takes no more recipients in this session. */
  | { kind: "recipient_limit"; reply: SmtpReply }
  /**
   * The server counts our refused RCPTs against an error limit (Postfix's
   * smtpd_soft/hard_error_limit): it began to delay its replies, or said
   * "421 too many errors" (`reply`). `errors` is how many it took without
   * complaint; a fresh session carries on.
   */
  | { kind: "error_limit"; reply: SmtpReply | null; errors: number }
  /** A 421 that says we hold too many connections: fewer sessions, not a back-off. */
  | { kind: "too_many_connections"; reply: SmtpReply }
  /** The server refused the session or throttled it (banner, EHLO, MAIL, or a 421 mid-way). */
  | { kind: "refused"; status: MailboxStatus; reply: SmtpReply }
  /** No greeting: every target refused, timed out or went silent. */
  | { kind: "unreachable"; status: "timeout" | "unreachable" }
  /** The connection broke after the greeting; `inFlight` is the RCPT that was waiting for its reply. */
  | { kind: "broken"; inFlight: string | null }
);

const TOO_MANY_CONNECTIONS = /too many (connections|sessions|concurrent)|connection (limit|count)/i;
/**
 * A refusal this much slower than the session's fastest reply: the server
 * has begun to delay replies for our errors (Postfix sleeps
 * smtpd_error_sleep_time, 1 s, per reply past smtpd_soft_error_limit).
 */
const ERROR_DELAY_MS = 800;
// QUIT is a courtesy: never wait long for its answer.
const QUIT_TIMEOUT_MS = 2000;
// biome-ignore lint/suspicious/noControlCharactersInRegex: any non-ASCII character
const NON_ASCII = /[^\u0000-\u007f]/;

/** Runs one session; never throws for what a server does. */
export async function runSession(
  plan: SessionPlan,
  cfg: SmtpConfig,
  connect: SmtpConnect,
): Promise<SessionEnd> {
  const session = new Session(plan, cfg, connect);
  try {
    return await session.run();
  } finally {
    await session.close();
  }
}

class Session {
  private conn: SmtpConnection | null = null;
  private host: string | null = null;
  private smtpUtf8 = false;
  private rcpts = 0;
  private answered = 0;
  /** RCPTs the server refused (4xx and 5xx): what servers count against their error limit. */
  private errors = 0;
  /** The fastest RCPT reply of this session, the yardstick for a delayed one. */
  private fastestMs = Infinity;
  /** Handed over by `next()` and not answered yet. */
  private pending: string[] = [];

  constructor(
    private readonly plan: SessionPlan,
    private readonly cfg: SmtpConfig,
    private readonly connect: SmtpConnect,
  ) {}

  async run(): Promise<SessionEnd> {
    const greeting = await this.open();
    if (greeting) return greeting;
    let inFlight: string | null = null;
    try {
      for (let transactions = 0; ; transactions++) {
        const room = this.plan.maxRcpts - this.rcpts;
        if (room <= 0) return this.end({ kind: "done" });
        const batch = (await this.plan.next(room)).filter((address) => this.allowed(address));
        if (!batch.length) return this.end({ kind: "done" });
        this.pending = batch;
        if (transactions > 0) {
          const reset = await this.command("RSET");
          if (reset.code >= 300) return this.refusedOrLimit(reset);
        }
        const utf8 = this.smtpUtf8 && batch.some((address) => NON_ASCII.test(address));
        const mail = await this.command(`MAIL FROM:<${this.cfg.mailFrom}>${utf8 ? " SMTPUTF8" : ""}`);
        if (mail.code >= 300) return this.refusedOrLimit(mail);
        for (const address of batch) {
          // A cancel may have come while we waited for the last reply.
          if (this.plan.live && !this.plan.live(address)) {
            this.pending = this.pending.filter((a) => a !== address);
            continue;
          }
          // Stay under the host's error limit: the rest go to a fresh session.
          if (this.plan.maxErrors && this.errors >= this.plan.maxErrors) return this.end({ kind: "done" });
          inFlight = address;
          const sent = Date.now();
          const reply = await this.command(`RCPT TO:<${address}>`);
          const tookMs = Date.now() - sent;
          inFlight = null;
          this.rcpts++;
          if (isTooManyErrors(reply))
            return this.end({ kind: "error_limit", reply: oneLine(reply), errors: this.errors });
          const status = classifyRcptReply(reply);
          if (status === "new_session") return this.end({ kind: "recipient_limit", reply: oneLine(reply) });
          if (status === "rate_limited") return this.refusedOrLimit(reply);
          this.pending = this.pending.filter((a) => a !== address);
          this.answered++;
          this.plan.answer(address, status, oneLine(reply));
          if (reply.code >= 400) {
            const delayed = this.errors > 0 && tookMs - this.fastestMs >= ERROR_DELAY_MS;
            if (delayed) return this.end({ kind: "error_limit", reply: null, errors: this.errors });
            this.errors++;
          }
          this.fastestMs = Math.min(this.fastestMs, tookMs);
        }
      }
    } catch (err) {
      if (!(err instanceof SmtpIoError)) throw err;
      await this.drop();
      return this.end({ kind: "broken", inFlight });
    }
  }

  /** Connects to the first target that greets with 220; returns the end when none does. */
  private async open(): Promise<SessionEnd | null> {
    let failure: SessionEnd = this.end({ kind: "unreachable", status: "unreachable" });
    for (const target of this.plan.targets) {
      let conn: SmtpConnection;
      try {
        conn = await this.connect(target.ip, this.cfg.port, this.cfg.connectTimeoutMs);
      } catch (err) {
        failure = this.end({ kind: "unreachable", status: ioStatus(err) }, target.host);
        continue;
      }
      this.conn = conn;
      this.host = target.host;
      try {
        const banner = await conn.readReply(this.cfg.replyTimeoutMs);
        if (banner.code !== 220) return this.refusedOrLimit(banner, true);
        const hello = await this.greet();
        if (hello.code >= 300) return this.refusedOrLimit(hello, true);
        return null;
      } catch (err) {
        await this.drop();
        failure = this.end({ kind: "unreachable", status: ioStatus(err) }, target.host);
      }
    }
    return failure;
  }

  /** EHLO, or HELO for servers that do not know EHLO; returns the deciding reply. */
  private async greet(): Promise<SmtpReply> {
    let reply = await this.command(`EHLO ${this.cfg.heloName}`);
    if (reply.code >= 500) reply = await this.command(`HELO ${this.cfg.heloName}`);
    else if (reply.code < 300) this.smtpUtf8 = hasExtension(reply, "SMTPUTF8");
    return reply;
  }

  private refusedOrLimit(raw: SmtpReply, beforeAnyRcpt = false): SessionEnd {
    const reply = oneLine(raw);
    if (isTooManyErrors(raw)) return this.end({ kind: "error_limit", reply, errors: this.errors });
    if (raw.code === 421 && TOO_MANY_CONNECTIONS.test(raw.text) && beforeAnyRcpt)
      return this.end({ kind: "too_many_connections", reply });
    const status = classifyRcptReply(raw);
    if (status === "new_session") return this.end({ kind: "recipient_limit", reply });
    return this.end({
      kind: "refused",
      status: raw.code === 421 ? "rate_limited" : refusalStatus(raw),
      reply,
    });
  }

  private allowed(address: string): boolean {
    if (isSafeForSmtp(address)) return true;
    // Never reaches a socket: it could end the command line and smuggle another.
    this.plan.answer(address, "error", { code: 0, enhanced: null, text: "address not safe to send" });
    return false;
  }

  private async command(line: string): Promise<SmtpReply> {
    if (!this.conn) throw new SmtpIoError("closed", "no connection");
    await this.conn.write(line);
    return this.conn.readReply(this.cfg.replyTimeoutMs);
  }

  private end<T extends object>(fields: T, host = this.host) {
    return { ...fields, unanswered: this.pending, rcpts: this.rcpts, answered: this.answered, host };
  }

  private async drop(): Promise<void> {
    const conn = this.conn;
    this.conn = null;
    if (conn) await safeClose(conn);
  }

  /** Ends politely when the connection still works. */
  async close(): Promise<void> {
    const conn = this.conn;
    if (!conn) return;
    this.conn = null;
    try {
      await conn.write("QUIT");
      await conn.readReply(Math.min(this.cfg.replyTimeoutMs, QUIT_TIMEOUT_MS));
    } catch {
      // Already gone: nothing left to be polite to.
    }
    await safeClose(conn);
  }
}

function ioStatus(err: unknown): "timeout" | "unreachable" {
  return err instanceof SmtpIoError && err.kind === "timeout" ? "timeout" : "unreachable";
}
