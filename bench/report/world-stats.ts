// What the SMTP servers saw of one tool: sessions, recipients, refusals.
// It tells where a tool spends its time on the wire.

import type { MxServer } from "../world/generate";
import type { ServerStats } from "../world/smtp";

export interface WireSummary {
  connections: number;
  sessions: number;
  rcpts: number;
  rcptsPerSession: number;
  capRejects421: number;
  rateLimit421: number;
  rcptLimit452: number;
  greylist451: number;
  dataAttempts: number;
  /** Connections to tarpits: each one costs the verifier its whole banner timeout. */
  tarpitConnections: number;
  /** Most concurrent connections any one server saw. */
  peakOpenPerMx: number;
  busiest: { ip: string; rcpts: number; sessions: number; activeMs: number } | null;
}

export function summarizeWire(stats: Map<string, ServerStats>, servers: MxServer[]): WireSummary {
  const tarpits = new Set(servers.filter((x) => x.behaviour === "tarpit").map((x) => x.ip));
  const sum: WireSummary = {
    connections: 0,
    sessions: 0,
    rcpts: 0,
    rcptsPerSession: 0,
    capRejects421: 0,
    rateLimit421: 0,
    rcptLimit452: 0,
    greylist451: 0,
    dataAttempts: 0,
    tarpitConnections: 0,
    peakOpenPerMx: 0,
    busiest: null,
  };
  for (const [ip, s] of stats) {
    sum.connections += s.connections;
    sum.sessions += s.sessions;
    sum.rcpts += s.rcpts;
    sum.capRejects421 += s.capRejects;
    sum.rateLimit421 += s.rateRejects;
    sum.rcptLimit452 += s.rcptLimitRejects;
    sum.greylist451 += s.greylistRejects;
    sum.dataAttempts += s.dataAttempts;
    if (tarpits.has(ip)) sum.tarpitConnections += s.connections;
    sum.peakOpenPerMx = Math.max(sum.peakOpenPerMx, s.peakOpen);
    if (!sum.busiest || s.rcpts > sum.busiest.rcpts) {
      const activeMs = s.firstRcptAt !== null && s.lastRcptAt !== null ? s.lastRcptAt - s.firstRcptAt : 0;
      sum.busiest = { ip, rcpts: s.rcpts, sessions: s.sessions, activeMs };
    }
  }
  sum.rcptsPerSession = sum.sessions ? sum.rcpts / sum.sessions : 0;
  return sum;
}
