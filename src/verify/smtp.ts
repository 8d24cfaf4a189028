// Asks a domain's mail exchanger whether mailboxes exist: EHLO, MAIL FROM, one
// RCPT TO per address, QUIT. DATA is never sent, so no message is ever
// delivered. The socket comes in as an SmtpConnect, so the same code runs in
// the Worker (cloudflare:sockets) and in the Node prober (node:net).

import { SmtpIoError } from "./smtp-reply";
import { assertSafeForSmtp } from "./syntax";
import type { MailboxStatus, MxHost, SmtpReply, SmtpResult } from "./types";

export { SmtpIoError } from "./smtp-reply";

/** One SMTP connection, line in, reply out. Transports throw SmtpIoError. */
export interface SmtpConnection {
  /** Sends one command line; the transport appends CRLF. */
  write(line: string): Promise<void>;
  /** The next whole (possibly multi-line) reply, or SmtpIoError on timeout or close. */
  readReply(timeoutMs: number): Promise<SmtpReply>;
  close(): Promise<void>;
}

/** Opens a TCP connection; rejects with SmtpIoError ("refused" or "timeout"). */
export type SmtpConnect = (ip: string, port: number, timeoutMs: number) => Promise<SmtpConnection>;

export interface SmtpConfig {
  port: number;
  /** Name sent in EHLO: should resolve to, and be the PTR of, the probing IP. */
  heloName: string;
  /** Envelope sender, on a domain the operator owns. */
  mailFrom: string;
  connectTimeoutMs: number;
  /** Limit for the banner and for every reply. */
  replyTimeoutMs: number;
  /** RCPTs per session before starting a new one (default 100, the minimum RFC 5321 servers accept). */
  maxRcptPerSession?: number;
}

export interface ProbeDomainRequest {
  domain: string;
  hosts: MxHost[];
  addresses: string[];
  /** Catch-all status already known (cached): no random probe is sent. */
  catchAllKnown: boolean | null;
  /** false: never send the random probe (another session of this domain does it). Default true. */
  catchAllProbe?: boolean;
}

export interface ProbeDomainResult {
  /** One result per distinct address; each carries the final `catchAll`. */
  results: Record<string, SmtpResult>;
  catchAll: boolean | null;
}

/** Local-part prefix of the random address that tests whether a domain accepts everything. */
export const CATCH_ALL_PROBE_PREFIX = "mailvet-probe-";

// ---------------------------------------------------------------------------
// Reading RCPT replies

/**
 * What a reply to RCPT TO says: a mailbox status, or "new_session" when the
 * server will take no more recipients in this session (452 4.5.3), which is
 * about the session, not the mailbox.
 */
export type RcptClass = MailboxStatus | "new_session";

const TOO_MANY_RECIPIENTS = /too many (recipients|rcpt)/i;
// Postfix's smtpd_hard_error_limit: "421 4.7.0 host Error: too many errors".
// Unknown recipients count as errors, so a fresh session is the cure, not a back-off.
const TOO_MANY_ERRORS = /too many errors/i;
const BLOCK_LIST =
  /spamhaus|spamcop|barracuda|sorbs|dnsbl|\brbl\b|block ?list|black ?list|\bblocked\b|\bbanned\b|client host rejected|reputation|listed (at|on|in|by)\b/i;
// The envelope sender was refused: says nothing of the mailbox.
const SENDER_REFUSED = /sender (verify|verification) failed|sender address rejected|bad sender/i;
const DISABLED = /\b(disabled|inactive|suspended|deactivated|not active)\b/i;
const FULL =
  /mailbox (is )?full|(over|exceeded|exceeds) (its |the |their )?(quota|storage)|quota exceeded|exceeded storage allocation|insufficient storage/i;
const NOT_FOUND =
  /user unknown|unknown (user|recipient|local part|mailbox|address)|recipient unknown|no such (user|mailbox|recipient|address|account|person)|(does not|doesn'?t|not) exist|(user|recipient|mailbox|address|account) not found|invalid (recipient|mailbox|address|user)|unrouteable address|no mailbox|mailbox unavailable|doesn'?t have an? .{1,40}account|not a valid (mailbox|recipient|user|address)/i;
const RATE_LIMIT = /rate.?limit|too many (connections|messages|sessions)|unexpected volume|throttl/i;

/** Postfix's "421 … Error: too many errors": the session's errors, not the mailbox or a throttle. */
export function isTooManyErrors(reply: SmtpReply): boolean {
  return reply.code === 421 && TOO_MANY_ERRORS.test(reply.text);
}

/** Reads a reply to RCPT TO: basic code first, then the enhanced code, then the text. */
export function classifyRcptReply(reply: SmtpReply): RcptClass {
  const { code, enhanced, text } = reply;
  if (code >= 200 && code < 300) return "exists";
  if (code < 400 || code >= 600) return "error";
  if (enhanced === "4.5.3" || enhanced === "5.5.3" || TOO_MANY_RECIPIENTS.test(text)) return "new_session";
  if (code === 421) return TOO_MANY_ERRORS.test(text) ? "new_session" : "rate_limited";
  return code < 500 ? classifyTemporary(enhanced, text) : classifyPermanent(code, enhanced, text);
}

function classifyTemporary(enhanced: string | null, text: string): MailboxStatus {
  if (enhanced === "4.2.2" || FULL.test(text)) return "full";
  if (BLOCK_LIST.test(text) || SENDER_REFUSED.test(text)) return "blocked";
  if (RATE_LIMIT.test(text)) return "rate_limited";
  // Greylisting (450/451, 4.7.x) and every other "try again later".
  return "greylisted";
}

function classifyPermanent(code: number, enhanced: string | null, text: string): MailboxStatus {
  const byEnhanced = enhanced ? classifyEnhanced(code, enhanced) : null;
  if (byEnhanced) return byEnhanced;
  if (BLOCK_LIST.test(text) || SENDER_REFUSED.test(text)) return "blocked";
  if (DISABLED.test(text)) return "disabled";
  if (code === 552 || FULL.test(text)) return "full";
  if (NOT_FOUND.test(text)) return "not_found";
  return "error";
}

function classifyEnhanced(code: number, enhanced: string): MailboxStatus | null {
  const [, subject, detail] = enhanced.split(".");
  // X.1.7 and X.1.8 are about the sender's address, the rest of X.1 about the recipient's.
  if (subject === "1") return detail === "7" || detail === "8" ? "blocked" : "not_found";
  if (enhanced === "5.2.1") return "disabled";
  if (enhanced === "5.2.2") return "full";
  // Microsoft 365 answers unknown recipients "550 5.4.1 Recipient address rejected: Access denied".
  if (enhanced === "5.4.1" && code === 550) return "not_found";
  if (subject === "7") return "blocked";
  return null;
}

// ---------------------------------------------------------------------------
// The conversation

const DEFAULT_MAX_RCPT_PER_SESSION = 100;
// QUIT is a courtesy: never wait long for its answer.
const QUIT_TIMEOUT_MS = 2000;
const HELO_NAME = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: any non-ASCII character
const NON_ASCII = /[^\u0000-\u007f]/;

/**
 * Probes `addresses` on one domain: real addresses first, over as few
 * sessions as the server allows, then (when one was accepted and the
 * catch-all status is unknown) one random address. Never throws for what a
 * server does; every address gets a result.
 */
export async function probeDomain(
  req: ProbeDomainRequest,
  cfg: SmtpConfig,
  connect: SmtpConnect,
): Promise<ProbeDomainResult> {
  assertSafeForSmtp(cfg.mailFrom);
  if (!HELO_NAME.test(cfg.heloName)) throw new Error(`invalid HELO name ${JSON.stringify(cfg.heloName)}`);
  return new DomainProbe(req, cfg, connect).run();
}

interface Target {
  host: string;
  ip: string;
}

interface Session {
  conn: SmtpConnection;
  host: string;
  greeted: boolean;
  smtpUtf8: boolean;
  transactions: number;
  /** RCPT commands sent, answered or not. */
  rcpts: number;
  /** RCPTs that got a mailbox answer. */
  answered: number;
}

/** The answer given to addresses as a group, when the session (not the mailbox) decided. */
interface Outcome {
  status: MailboxStatus;
  reply: SmtpReply | null;
  mxHost: string | null;
}

type TransactionEnd =
  | { end: "done" }
  | { end: "new_session"; reply: SmtpReply; unanswered: string[] }
  | { end: "refused"; outcome: Outcome; unanswered: string[] }
  | { end: "io"; error: SmtpIoError; unanswered: string[] };

class DomainProbe {
  private readonly results: Record<string, SmtpResult> = {};
  private readonly queue: string[] = [];
  private readonly targets: Target[];
  private catchAll: boolean | null;
  private catchAllProbe: string | null = null;
  private session: Session | null = null;
  /** Index in `targets` of the host that last talked: new sessions start there. */
  private preferred = 0;
  private rcptLimit: number;
  private dropRetries = 1;

  constructor(
    private readonly req: ProbeDomainRequest,
    private readonly cfg: SmtpConfig,
    private readonly connect: SmtpConnect,
  ) {
    this.catchAll = req.catchAllKnown;
    this.rcptLimit = Math.max(1, cfg.maxRcptPerSession ?? DEFAULT_MAX_RCPT_PER_SESSION);
    this.targets = [...req.hosts]
      .sort((a, b) => a.preference - b.preference)
      .flatMap((mx) => mx.addresses.map((ip) => ({ host: mx.host, ip })));
    for (const address of new Set(req.addresses)) {
      if (isSafeForSmtp(address)) this.queue.push(address);
      // Never reaches a socket: it could end the command line and smuggle another.
      else this.results[address] = { status: "error", reply: null, mxHost: null, catchAll: null };
    }
  }

  async run(): Promise<ProbeDomainResult> {
    try {
      await this.converse();
    } finally {
      await this.endSession(true);
    }
    for (const result of Object.values(this.results)) result.catchAll = this.catchAll;
    return { results: this.results, catchAll: this.catchAll };
  }

  private async converse(): Promise<void> {
    for (;;) {
      if (this.queue.length === 0 && !this.queueCatchAllProbe()) return;
      const session = this.session ?? (await this.open());
      if (!session) return; // no host would talk; open() answered everything
      if (session.rcpts >= this.rcptLimit) {
        await this.endSession(true);
        continue;
      }
      const outcome = await this.transaction(session, this.nextBatch(session));
      if (outcome.end === "done") continue;

      this.queue.unshift(...outcome.unanswered);
      if (outcome.end === "refused") {
        this.settleQueue(outcome.outcome);
        return;
      }
      if (outcome.end === "new_session") {
        await this.endSession(true);
        if (session.answered === 0) {
          // Not one recipient taken: starting over would loop. Try again later.
          this.settleQueue({ status: "greylisted", reply: oneLine(outcome.reply), mxHost: session.host });
          return;
        }
        this.rcptLimit = Math.max(1, session.rcpts - 1);
        continue;
      }
      // The connection broke or went silent mid-dialogue.
      await this.endSession(false);
      if (session.answered > 0) this.dropRetries = 1;
      else if (this.dropRetries-- <= 0) {
        const status = outcome.error.kind === "timeout" ? "timeout" : "error";
        this.settleQueue({ status, reply: null, mxHost: session.host });
        return;
      }
    }
  }

  /** Connects to the first host that answers with a 220 banner, in preference order. */
  private async open(): Promise<Session | null> {
    let failure: Outcome = { status: "unreachable", reply: null, mxHost: this.targets[0]?.host ?? null };
    const order = [...this.targets.keys()].map((i) => (i + this.preferred) % this.targets.length);
    for (const index of order) {
      const target = this.targets[index] as Target;
      let conn: SmtpConnection;
      try {
        conn = await this.connect(target.ip, this.cfg.port, this.cfg.connectTimeoutMs);
      } catch (err) {
        failure = { status: ioStatus(err, "unreachable"), reply: null, mxHost: target.host };
        continue;
      }
      try {
        const banner = await conn.readReply(this.cfg.replyTimeoutMs);
        if (banner.code === 220) {
          this.preferred = index;
          this.session = newSession(conn, target.host);
          return this.session;
        }
        failure = { status: refusalStatus(banner), reply: oneLine(banner), mxHost: target.host };
      } catch (err) {
        failure = { status: ioStatus(err, "unreachable"), reply: null, mxHost: target.host };
      }
      await safeClose(conn);
      // 421 says "come back later", not "try elsewhere": backups often accept anything.
      if (failure.status === "rate_limited") break;
    }
    this.settleQueue(failure);
    return null;
  }

  /** One MAIL transaction: the real addresses, or the catch-all probe alone. */
  private nextBatch(session: Session): string[] {
    if (this.queue[0] === this.catchAllProbe) return this.queue.splice(0, 1);
    const room = this.rcptLimit - session.rcpts;
    const end = this.queue.findIndex((address, i) => i >= room || address === this.catchAllProbe);
    return this.queue.splice(0, end < 0 ? this.queue.length : end);
  }

  private async transaction(session: Session, batch: string[]): Promise<TransactionEnd> {
    let done = 0;
    const refused = (reply: SmtpReply, status = refusalStatus(reply)): TransactionEnd => ({
      end: "refused",
      outcome: { status, reply: oneLine(reply), mxHost: session.host },
      unanswered: batch.slice(done),
    });
    try {
      if (!session.greeted) {
        const hello = await this.greet(session);
        if (hello.code >= 300) return refused(hello);
      }
      if (session.transactions > 0) {
        const reset = await this.command(session, "RSET");
        if (reset.code === 421) return refused(reset);
        if (reset.code >= 300) return { end: "new_session", reply: reset, unanswered: batch };
      }
      session.transactions++;
      const utf8 = session.smtpUtf8 && batch.some((address) => NON_ASCII.test(address));
      const mail = await this.command(session, `MAIL FROM:<${this.cfg.mailFrom}>${utf8 ? " SMTPUTF8" : ""}`);
      if (mail.code >= 300) return refused(mail);

      for (const address of batch) {
        assertSafeForSmtp(address);
        const reply = await this.command(session, `RCPT TO:<${address}>`);
        session.rcpts++;
        const verdict = classifyRcptReply(reply);
        if (verdict === "new_session") return { end: "new_session", reply, unanswered: batch.slice(done) };
        // Throttled: every further RCPT would get the same. The caller backs off.
        if (verdict === "rate_limited") return refused(reply, verdict);
        this.answer(address, { status: verdict, reply: oneLine(reply), mxHost: session.host });
        session.answered++;
        done++;
      }
      return { end: "done" };
    } catch (err) {
      if (!(err instanceof SmtpIoError)) throw err;
      return { end: "io", error: err, unanswered: batch.slice(done) };
    }
  }

  /** EHLO, or HELO for servers that do not know EHLO; returns the deciding reply. */
  private async greet(session: Session): Promise<SmtpReply> {
    let reply = await this.command(session, `EHLO ${this.cfg.heloName}`);
    if (reply.code >= 500) reply = await this.command(session, `HELO ${this.cfg.heloName}`);
    else if (reply.code < 300) session.smtpUtf8 = hasExtension(reply, "SMTPUTF8");
    session.greeted = reply.code < 300;
    return reply;
  }

  private async command(session: Session, line: string): Promise<SmtpReply> {
    await session.conn.write(line);
    return session.conn.readReply(this.cfg.replyTimeoutMs);
  }

  /** Queues one random address once a real one was accepted and the domain's status is unknown. */
  private queueCatchAllProbe(): boolean {
    if (this.catchAll !== null || this.catchAllProbe !== null || this.req.catchAllProbe === false)
      return false;
    if (!Object.values(this.results).some((r) => r.status === "exists")) return false;
    const probe = catchAllProbeAddress(this.req.domain);
    if (!isSafeForSmtp(probe)) return false;
    this.catchAllProbe = probe;
    this.queue.push(probe);
    return true;
  }

  private answer(address: string, outcome: Outcome): void {
    if (address === this.catchAllProbe) {
      // Accepted: the domain takes anything. Inconclusive answers leave it unknown.
      this.catchAll = outcome.status === "exists" ? true : outcome.status === "not_found" ? false : null;
      return;
    }
    this.results[address] = { ...outcome, catchAll: null };
  }

  private settleQueue(outcome: Outcome): void {
    for (const address of this.queue.splice(0)) this.answer(address, outcome);
  }

  private async endSession(polite: boolean): Promise<void> {
    const session = this.session;
    if (!session) return;
    this.session = null;
    if (polite) {
      try {
        await session.conn.write("QUIT");
        await session.conn.readReply(Math.min(this.cfg.replyTimeoutMs, QUIT_TIMEOUT_MS));
      } catch {
        // Already gone: nothing left to be polite to.
      }
    }
    await safeClose(session.conn);
  }
}

function newSession(conn: SmtpConnection, host: string): Session {
  return { conn, host, greeted: false, smtpUtf8: false, transactions: 0, rcpts: 0, answered: 0 };
}

/** A session-level "no" (banner, EHLO, MAIL FROM): says nothing of any mailbox. */
export function refusalStatus(reply: SmtpReply): MailboxStatus {
  if (reply.code === 421) return "rate_limited";
  if (reply.code >= 400 && reply.code < 500) return "greylisted";
  return "blocked";
}

function ioStatus(err: unknown, otherwise: MailboxStatus): MailboxStatus {
  return err instanceof SmtpIoError && err.kind === "timeout" ? "timeout" : otherwise;
}

export function hasExtension(ehlo: SmtpReply, keyword: string): boolean {
  // The first line is the greeting; each further line is one extension.
  return ehlo.text
    .split("\n")
    .slice(1)
    .some((line) => line.trim().split(/\s+/)[0]?.toUpperCase() === keyword);
}

export function oneLine(reply: SmtpReply): SmtpReply {
  return { ...reply, text: reply.text.replace(/\s*\n\s*/g, " ").trim() };
}

export function isSafeForSmtp(address: string): boolean {
  try {
    assertSafeForSmtp(address);
    return true;
  } catch {
    return false;
  }
}

export async function safeClose(conn: SmtpConnection): Promise<void> {
  try {
    await conn.close();
  } catch {
    // Closing a broken socket may fail; it is closed either way.
  }
}

/** A random address on `domain` that no one would have: the catch-all question. */
export function catchAllProbeAddress(domain: string): string {
  return `${CATCH_ALL_PROBE_PREFIX}${randomHex(8)}@${domain}`;
}

function randomHex(bytes: number): string {
  const buf = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(buf, (b) => b.toString(16).padStart(2, "0")).join("");
}
