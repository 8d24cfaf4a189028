import { proberUrls } from "./mx/prober-pool";

// Typed view of the worker's vars, with the defaults the README documents.
// Vars arrive as strings; a bad number falls back to its default rather than
// breaking every request.

import { parseResolveReserved } from "./verify/reserved";

export type SmtpMode = "direct" | "relay" | "off";

export interface Config {
  dohUrl: string;
  dnsTimeoutMs: number;
  /** How long an address waits for a resolver that cannot be reached before it is unknown (dns_unavailable). */
  dnsRetryDeadlineMs: number;
  smtpMode: SmtpMode;
  batchSize: number;
  greylistDelayMs: number;
  greylistDeadlineMs: number;
  maxBodyBytes: number;
  maxAlarmFailures: number;
  /** First back-off after a failed batch; it doubles with each failure. */
  alarmRetryBaseMs: number;
  rateLimitPerMinute: number;
  maxRunningJobs: number;
  webhookAllowLoopback: boolean;
  webhookTimeoutMs: number;
  /** Reserved names looked up in DNS anyway (src/verify/reserved.ts); empty outside test worlds. */
  resolveReserved: string[];
}

export function int(value: string | undefined, fallback: number, min = 0): number {
  const n = Number(value);
  return Number.isFinite(n) && n >= min ? Math.floor(n) : fallback;
}

export function readConfig(env: Env): Config {
  const mode = env.SMTP_MODE;
  return {
    dohUrl: env.DOH_URL || "https://cloudflare-dns.com/dns-query",
    dnsTimeoutMs: int(env.DNS_TIMEOUT_MS, 5000, 1),
    dnsRetryDeadlineMs: int(env.DNS_RETRY_DEADLINE_SECONDS, 45) * 1000,
    smtpMode: mode === "relay" || mode === "off" ? mode : "direct",
    batchSize: Math.min(int(env.BATCH_SIZE, 250, 1), 1000),
    greylistDelayMs: int(env.GREYLIST_DELAY_SECONDS, 60) * 1000,
    greylistDeadlineMs: int(env.GREYLIST_DEADLINE_SECONDS, 900) * 1000,
    maxBodyBytes: int(env.MAX_BODY_BYTES, 16 * 1024 * 1024, 1024),
    maxAlarmFailures: int(env.MAX_BATCH_FAILURES, 5, 1),
    alarmRetryBaseMs: int(env.BATCH_RETRY_BASE_MS, 1000, 1),
    rateLimitPerMinute: int(env.RATE_LIMIT_PER_MINUTE, 600, 1),
    maxRunningJobs: int(env.MAX_RUNNING_JOBS, 5, 1),
    webhookAllowLoopback: env.WEBHOOK_ALLOW_LOOPBACK === "true",
    webhookTimeoutMs: int(env.WEBHOOK_TIMEOUT_MS, 10_000, 100),
    resolveReserved: parseResolveReserved(env.RESOLVE_RESERVED),
  };
}

/** Largest number of addresses one job accepts. */
export const MAX_JOB_EMAILS = 100_000;

/** The SMTP conversation's settings, shared by host objects and direct validation. */
export function readSmtpConfig(env: Env) {
  return {
    port: int(env.SMTP_PORT, 25, 1),
    heloName: env.SMTP_HELO_NAME,
    mailFrom: env.SMTP_MAIL_FROM,
    connectTimeoutMs: int(env.SMTP_CONNECT_TIMEOUT_MS, 10_000, 1),
    replyTimeoutMs: int(env.SMTP_REPLY_TIMEOUT_MS, 30_000, 1),
  };
}

/** Politeness per mail host. */
export function readHostConfig(env: Env) {
  return {
    /** Sessions at once at most, before what the host teaches us. */
    concurrency: int(env.MX_CONCURRENCY, 4, 1),
    /** The longest a throttling host is left alone before we try again. */
    backoffCeilingMs: int(env.MX_BACKOFF_SECONDS, 60, 1) * 1000,
    /** The longest wait between two re-checks of a greylisted address. */
    greylistCeilingMs: int(env.GREYLIST_DELAY_SECONDS, 60, 1) * 1000,
  };
}

/** The probers of relay mode: PROBER_URLS (comma-separated) or PROBER_URL. */
export function readProberConfig(env: Env) {
  return {
    urls: proberUrls(env),
    secret: env.PROBER_SECRET ?? "",
    /** How long a failed prober rests before a host tries it again. */
    downMs: int(env.PROBER_DOWN_SECONDS, 30, 1) * 1000,
  };
}
