// What the SMTP servers saw of one tool: sessions, recipients, refusals, and
// how full its sessions were against the world's recipient limit. It tells
// where a tool spends its time on the wire.

import type { World } from "../world/generate";
import type { ServerStats } from "../world/smtp";

/** How full one host's sessions were: RCPTs per session against the recipient limit. */
export interface HostFill {
  /** Every name of the server. */
  host: string;
  ip: string;
  /** Why the server exists: provider, hosting, own, or the special behaviour it was made for. */
  role: string;
  /** Recipients a perfect verifier sends there: the list's addresses plus one catch-all probe per domain. */
  needed: number;
  /** Sessions (connections that got a banner) and RCPTs, as the server counted them. */
  sessions: number;
  rcpts: number;
  rcptsPerSession: number | null;
  /** RCPTs per session ÷ the recipient limit. */
  ofLimit: number | null;
  /** The best there: `needed` in the fewest sessions the limit allows, ÷ the limit. */
  bestOfLimit: number;
}

export interface WireSummary {
  connections: number;
  sessions: number;
  rcpts: number;
  rcptsPerSession: number;
  capRejects421: number;
  rateLimit421: number;
  /** 421 from the connection-rate-limited host: more new connections in 1 s than it allows. */
  connRate421: number;
  rcptLimit452: number;
  greylist451: number;
  dataAttempts: number;
  /** Connections to tarpits: each one costs the verifier its whole banner timeout. */
  tarpitConnections: number;
  /** Most concurrent connections any one server saw. */
  peakOpenPerMx: number;
  busiest: { ip: string; rcpts: number; sessions: number; activeMs: number } | null;
  /** RCPTs per session against the recipient limit: overall and on the hosts with the most recipients. */
  fill: {
    rcptLimit: number;
    /** All RCPTs ÷ all sessions ÷ the limit. */
    ofLimit: number | null;
    /** The same for a perfect verifier: every host's recipients in the fewest sessions. */
    bestOfLimit: number | null;
    busiestHosts: HostFill[];
  };
}

/** Hosts listed in the fill table: the ones with the most recipients in the world… */
const BUSIEST_HOSTS = 5;
/** …and the one-server-many-domains hosts that per-host scheduling is about. */
const ALWAYS_LISTED: ReadonlySet<string> = new Set(["hosting_two_names", "conn_rate"]);

export function summarizeWire(stats: Map<string, ServerStats>, world: World): WireSummary {
  const tarpits = new Set(world.servers.filter((x) => x.behaviour === "tarpit").map((x) => x.ip));
  const limit = world.params.rcptLimit;
  const sum: WireSummary = {
    connections: 0,
    sessions: 0,
    rcpts: 0,
    rcptsPerSession: 0,
    capRejects421: 0,
    rateLimit421: 0,
    connRate421: 0,
    rcptLimit452: 0,
    greylist451: 0,
    dataAttempts: 0,
    tarpitConnections: 0,
    peakOpenPerMx: 0,
    busiest: null,
    fill: { rcptLimit: limit, ofLimit: null, bestOfLimit: null, busiestHosts: [] },
  };
  for (const [ip, s] of stats) {
    sum.connections += s.connections;
    sum.sessions += s.sessions;
    sum.rcpts += s.rcpts;
    sum.capRejects421 += s.capRejects;
    sum.rateLimit421 += s.rateRejects;
    sum.connRate421 += s.connRateRejects;
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

  const fewestSessions = (needed: number) => Math.ceil(needed / limit);
  const needed = world.load.reduce((a, l) => a + l.rcpts, 0);
  const best = world.load.reduce((a, l) => a + fewestSessions(l.rcpts), 0);
  sum.fill.ofLimit = sum.sessions ? sum.rcpts / sum.sessions / limit : null;
  sum.fill.bestOfLimit = best ? needed / best / limit : null;
  const byNeed = [...world.load].sort((a, b) => b.rcpts - a.rcpts || a.ip.localeCompare(b.ip));
  sum.fill.busiestHosts = byNeed
    .filter((l, rank) => rank < BUSIEST_HOSTS || ALWAYS_LISTED.has(l.role))
    .map((l) => {
      const s = stats.get(l.ip);
      const perSession = s?.sessions ? s.rcpts / s.sessions : null;
      return {
        host: l.host,
        ip: l.ip,
        role: l.role,
        needed: l.rcpts,
        sessions: s?.sessions ?? 0,
        rcpts: s?.rcpts ?? 0,
        rcptsPerSession: perSession,
        ofLimit: perSession === null ? null : perSession / limit,
        bestOfLimit: l.rcpts / fewestSessions(l.rcpts) / limit,
      };
    });
  return sum;
}
