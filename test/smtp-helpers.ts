// Shared by the SMTP tests: the fixture's stats server, hand-built MX hosts
// (DNS is not under test here) and a way to hold a session open.

import { connect } from "cloudflare:sockets";
import { env } from "cloudflare:workers";
import { inject } from "vitest";
import type { SmtpConfig } from "../src/verify/smtp";
import type { MxHost } from "../src/verify/types";

export interface IpStats {
  /** Every accepted connection, tarpitted and refused ones included. */
  connections: number;
  /** Connections greeted with 220. */
  sessions: number;
  /** Connections turned away with 421 at the banner. */
  refused: number;
  open: number;
  maxConcurrent: number;
  rcpts: number;
  dataAttempts: number;
  recipients: string[];
}

const statsUrl = () => `http://127.0.0.1:${inject("smtpStatsPort")}`;

export async function smtpStats(): Promise<Record<string, IpStats>> {
  const res = await fetch(`${statsUrl()}/stats`);
  return (await res.json()) as Record<string, IpStats>;
}

export async function statsOf(ip: string): Promise<IpStats> {
  return (await smtpStats())[ip] as IpStats;
}

/** One connection as a server saw it (see test/fixtures/smtp-server.ts). */
export interface SessionRecord {
  client: string;
  openedAt: number;
  closedAt: number | null;
  /** The greeting's code (220, 421), or null when none was sent. */
  banner: number | null;
  recipients: string[];
}

/** The last connections to one server, oldest first. */
export async function sessionsOf(ip: string): Promise<SessionRecord[]> {
  const res = await fetch(`${statsUrl()}/sessions?ip=${ip}`);
  return ((await res.json()) as { sessions: SessionRecord[] }).sessions;
}

/** RCPTs each server saw for addresses at exactly `domain` (never truncated). */
export async function rcptCounts(domain: string): Promise<Record<string, number>> {
  const res = await fetch(`${statsUrl()}/rcpts?domain=${encodeURIComponent(domain)}`);
  return (await res.json()) as Record<string, number>;
}

/** Resets one server's memory (`state`: greylist, rate limit) or high-water mark (`peak`). */
export async function resetSmtp(ip: string, scope: "state" | "peak"): Promise<void> {
  await fetch(`${statsUrl()}/reset?ip=${ip}&scope=${scope}`, { method: "POST" });
}

/** RCPT TO addresses a server saw for one domain. */
export async function recipientsFor(ip: string, domain: string): Promise<string[]> {
  return (await statsOf(ip)).recipients.filter((r) => r.toLowerCase().endsWith(`@${domain}`));
}

export function mx(host: string, ip: string, preference = 10): MxHost {
  return { host, preference, addresses: [ip] };
}

let serial = 0;
/** A domain name no other test uses: the fixture servers do not care which domain they are asked about. */
export function uniqueDomain(tag: string): string {
  return `${tag}-${Date.now().toString(36)}-${++serial}.test`;
}

export const smtpConfig: SmtpConfig = {
  port: Number(env.SMTP_PORT),
  heloName: "probe.mailvet.test",
  mailFrom: "probe@mailvet.test",
  connectTimeoutMs: Number(env.SMTP_CONNECT_TIMEOUT_MS),
  replyTimeoutMs: Number(env.SMTP_REPLY_TIMEOUT_MS),
};

/** Opens a session and reads its banner, so the server counts it; returns how to close it. */
export async function holdSession(ip: string): Promise<() => Promise<void>> {
  const socket = connect({ hostname: ip, port: Number(env.SMTP_PORT) });
  const reader = socket.readable.getReader();
  const { value } = await reader.read();
  const banner = new TextDecoder().decode(value);
  if (!banner.startsWith("220")) throw new Error(`no session: ${banner}`);
  return async () => {
    reader.releaseLock();
    await socket.close();
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
