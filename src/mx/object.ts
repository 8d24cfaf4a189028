// One Durable Object per MX host (named after the host): the only place that
// talks SMTP to it, so it is where politeness lives. It caps concurrent
// sessions, backs off after a 421, and remembers for each domain whether the
// host accepts any recipient, so the random probe is sent once a day at most.

import { DurableObject } from "cloudflare:workers";
import { int, readConfig, type SmtpMode } from "../config";
import {
  type ProbeDomainRequest,
  type ProbeDomainResult,
  probeDomain,
  type SmtpConfig,
} from "../verify/smtp";
import { connectSocket } from "../verify/smtp-socket";
import type { MxHost, SmtpReply, SmtpResult } from "../verify/types";
import type { MxProbeRequest, MxProbeResult } from "./protocol";
import { RelayClient } from "./relay";
import { Semaphore } from "./semaphore";

const CATCH_ALL_TTL_MS = 24 * 60 * 60_000;
const BACKOFF_MAX_MS = 15 * 60_000;
// A connection costs the server a banner and an EHLO: fewer addresses than this share one.
const MIN_CHUNK = 10;
// A Worker invocation may hold 6 outgoing connections at once; more would queue and time out.
const MAX_DIRECT_SESSIONS = 6;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS catch_all (
    domain TEXT PRIMARY KEY,
    catch_all INTEGER NOT NULL,
    checked_at INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS backoff (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    until_ms INTEGER NOT NULL,
    strikes INTEGER NOT NULL,
    reply TEXT
  );
`;

interface MxConfig {
  mode: SmtpMode;
  concurrency: number;
  smtp: SmtpConfig;
  proberUrl: string;
  proberSecret: string;
  backoffFirstMs: number;
}

interface Backoff {
  untilMs: number;
  strikes: number;
  reply: SmtpReply | null;
}

export class MxObject extends DurableObject<Env> {
  private sessions: Semaphore | null = null;
  private relay: RelayClient | null = null;
  /** Domains whose catch-all status a call is finding out right now, so others wait for it. */
  private readonly discovering = new Map<string, Promise<void>>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(SCHEMA);
  }

  async probe(req: MxProbeRequest): Promise<MxProbeResult> {
    const cfg = readMxConfig(this.env);
    const addresses = [...new Set(req.addresses)];
    const mxHost = primaryHost(req.hosts);
    if (cfg.mode === "off") return { results: settled(addresses, { status: "error", reply: null, mxHost }) };
    const backoff = this.activeBackoff();
    if (backoff) {
      return { results: settled(addresses, { status: "rate_limited", reply: backoff.reply, mxHost }) };
    }

    const chunks = chunked(addresses, Math.max(MIN_CHUNK, Math.ceil(addresses.length / cfg.concurrency)));
    const results: Record<string, SmtpResult> = {};
    let catchAll = await this.knownCatchAll(req.domain);
    if (catchAll === null) catchAll = await this.discoverCatchAll(req, chunks, results, cfg);
    // The rest in parallel, under the session cap; none sends another random probe.
    const rest = await Promise.all(
      chunks.map((chunk) =>
        this.runChunk({ ...req, addresses: chunk, catchAllKnown: catchAll, catchAllProbe: false }, cfg),
      ),
    );
    for (const out of rest) Object.assign(results, out.results);
    for (const result of Object.values(results)) result.catchAll = catchAll;
    return { results };
  }

  /**
   * Runs chunks one at a time (taking them off `chunks`) until one had an
   * address accepted, which sends the domain's one random probe, or until the
   * server stops answering about mailboxes (greylisting, blocks, timeouts).
   */
  private async discoverCatchAll(
    req: MxProbeRequest,
    chunks: string[][],
    results: Record<string, SmtpResult>,
    cfg: MxConfig,
  ): Promise<boolean | null> {
    let finished = () => {};
    this.discovering.set(req.domain, new Promise((resolve) => (finished = resolve)));
    let catchAll: boolean | null = null;
    try {
      for (let chunk = chunks.shift(); chunk; chunk = chunks.shift()) {
        const out = await this.runChunk({ ...req, addresses: chunk, catchAllKnown: null }, cfg);
        Object.assign(results, out.results);
        catchAll = out.catchAll;
        if (catchAll !== null) this.rememberCatchAll(req.domain, catchAll);
        const statuses = Object.values(out.results).map((r) => r.status);
        const probed = statuses.includes("exists");
        const mailboxAnswers = statuses.some((s) => s === "not_found" || s === "disabled" || s === "full");
        if (probed || !mailboxAnswers) break;
      }
    } finally {
      this.discovering.delete(req.domain);
      finished();
    }
    return catchAll;
  }

  /** One chunk in one session slot: directly over a socket, or through the prober. */
  private runChunk(req: ProbeDomainRequest, cfg: MxConfig): Promise<ProbeDomainResult> {
    this.sessions ??= new Semaphore(cfg.concurrency);
    return this.sessions.run(async () => {
      // Another chunk may have met a 421 while this one waited for a slot.
      const backoff = this.activeBackoff();
      if (backoff) {
        const outcome = {
          status: "rate_limited" as const,
          reply: backoff.reply,
          mxHost: primaryHost(req.hosts),
        };
        return { results: settled(req.addresses, outcome), catchAll: req.catchAllKnown };
      }
      const out =
        cfg.mode === "relay"
          ? await this.relayClient(cfg).probe(req)
          : await probeDomain(req, cfg.smtp, connectSocket);
      this.noteRateLimit(out);
      return out;
    });
  }

  private relayClient(cfg: MxConfig): RelayClient {
    this.relay ??= new RelayClient({ url: cfg.proberUrl, secret: cfg.proberSecret, smtp: cfg.smtp });
    return this.relay;
  }

  private async knownCatchAll(domain: string): Promise<boolean | null> {
    for (;;) {
      const row = this.ctx.storage.sql
        .exec<{ catch_all: number }>(
          "SELECT catch_all FROM catch_all WHERE domain = ? AND checked_at > ?",
          domain,
          Date.now() - CATCH_ALL_TTL_MS,
        )
        .toArray()[0];
      if (row) return row.catch_all === 1;
      const pending = this.discovering.get(domain);
      if (!pending) return null;
      await pending;
    }
  }

  private rememberCatchAll(domain: string, catchAll: boolean): void {
    const now = Date.now();
    this.ctx.storage.sql.exec("DELETE FROM catch_all WHERE checked_at <= ?", now - CATCH_ALL_TTL_MS);
    this.ctx.storage.sql.exec(
      "INSERT OR REPLACE INTO catch_all (domain, catch_all, checked_at) VALUES (?, ?, ?)",
      domain,
      catchAll ? 1 : 0,
      now,
    );
  }

  private readBackoff(): Backoff | null {
    const row = this.ctx.storage.sql
      .exec<{ until_ms: number; strikes: number; reply: string | null }>(
        "SELECT until_ms, strikes, reply FROM backoff WHERE id = 1",
      )
      .toArray()[0];
    if (!row) return null;
    return { untilMs: row.until_ms, strikes: row.strikes, reply: row.reply ? JSON.parse(row.reply) : null };
  }

  private activeBackoff(): Backoff | null {
    const backoff = this.readBackoff();
    return backoff && backoff.untilMs > Date.now() ? backoff : null;
  }

  /** A 421 starts a back-off window; each one after a window ends doubles the next. */
  private noteRateLimit(out: ProbeDomainResult): void {
    const now = Date.now();
    const limited = Object.values(out.results).find((r) => r.status === "rate_limited" && r.reply);
    const current = this.readBackoff();
    if (!limited) {
      // A session went through: the host has forgiven us once the window is over.
      if (current && current.untilMs <= now) this.ctx.storage.sql.exec("DELETE FROM backoff");
      return;
    }
    if (current && current.untilMs > now) return; // already backing off: same episode
    const strikes = (current?.strikes ?? 0) + 1;
    const untilMs =
      now + Math.min(BACKOFF_MAX_MS, readMxConfig(this.env).backoffFirstMs * 2 ** (strikes - 1));
    this.ctx.storage.sql.exec(
      "INSERT OR REPLACE INTO backoff (id, until_ms, strikes, reply) VALUES (1, ?, ?, ?)",
      untilMs,
      strikes,
      JSON.stringify(limited.reply),
    );
  }
}

function readMxConfig(env: Env): MxConfig {
  const mode = readConfig(env).smtpMode;
  return {
    mode,
    concurrency: Math.min(
      positiveInt(env.MX_CONCURRENCY, 4),
      mode === "direct" ? MAX_DIRECT_SESSIONS : Infinity,
    ),
    smtp: {
      port: positiveInt(env.SMTP_PORT, 25),
      heloName: env.SMTP_HELO_NAME,
      mailFrom: env.SMTP_MAIL_FROM,
      connectTimeoutMs: positiveInt(env.SMTP_CONNECT_TIMEOUT_MS, 10_000),
      replyTimeoutMs: positiveInt(env.SMTP_REPLY_TIMEOUT_MS, 30_000),
    },
    proberUrl: env.PROBER_URL,
    proberSecret: env.PROBER_SECRET ?? "",
    // A 421 first backs the host off for this long, doubling per episode up to 15 min.
    backoffFirstMs: positiveInt(env.MX_BACKOFF_SECONDS, 60) * 1000,
  };
}

const positiveInt = (value: string | undefined, fallback: number) => int(value, fallback, 1);

function primaryHost(hosts: MxHost[]): string | null {
  return [...hosts].sort((a, b) => a.preference - b.preference)[0]?.host ?? null;
}

function settled(addresses: string[], outcome: Omit<SmtpResult, "catchAll">): Record<string, SmtpResult> {
  return Object.fromEntries(addresses.map((address) => [address, { ...outcome, catchAll: null }]));
}

function chunked<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}
