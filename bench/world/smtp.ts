// The world's SMTP servers: one per MX address (127.x.y.z), all on the same
// port, as real MX hosts all listen on 25. Every server obeys the world's
// rules (reply latency, banner delay, a per-client connection cap, a
// per-session recipient limit) and adds its own behaviour (catch-all,
// greylisting, greylisting catch-all, rate limit, connection-rate limit,
// block, tarpit). Replies use real servers' wording. A server with two names
// is one listener on one address: its cap and counters cover both names.

import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { domainToASCII } from "node:url";
import type { MxServer } from "./generate";
import type { MailboxState } from "./params";

export interface SmtpRules {
  replyLatencyMs: number;
  bannerDelayMs: number;
  connCap: number;
  greylistSeconds: number;
  rateLimitSeconds: number;
  connRatePerSecond: number;
  rcptLimit: number;
}

export interface ServerStats {
  connections: number;
  /** Connections that got a 220 banner. */
  sessions: number;
  /** 421 because the client already held `connCap` connections. */
  capRejects: number;
  /** 421 during the rate-limit cool-down. */
  rateRejects: number;
  /** 421 because the client opened more than `connRatePerSecond` connections within 1 s. */
  connRateRejects: number;
  rcpts: number;
  /** 452 4.5.3 because the session passed the recipient limit. */
  rcptLimitRejects: number;
  greylistRejects: number;
  peakOpen: number;
  /** DATA or BDAT: a verifier must never send one. */
  dataAttempts: number;
  quits: number;
  firstRcptAt: number | null;
  lastRcptAt: number | null;
}

/** One connection's life on the wire, for the activity profile: [start ms, end ms]. */
export interface Activity {
  start: number;
  end: number;
  /** A tarpit connection: the client is only waiting for its own timeout. */
  tarpit: boolean;
}

export interface SmtpWorld {
  port: number;
  /** Connections that held a slot (tarpits included), since the last reset; open ones end "now". */
  activity(): Activity[];
  /** Counters by server address since the last reset. */
  stats(): Map<string, ServerStats>;
  /** Forgets greylist and rate-limit memory and zeroes the counters: the next tool meets a fresh world. */
  reset(): void;
  close(): Promise<void>;
}

interface ServerState {
  spec: MxServer;
  /** Shared by all servers of the world. */
  activity: Activity[];
  stats: ServerStats;
  /** Open connections by client address. */
  open: Map<string, number>;
  /** Greylist: "client|recipient" → first try (ms). */
  firstTry: Map<string, number>;
  /** Rate limit: client → first connection (ms). */
  firstConnection: Map<string, number>;
  /** Connection-rate limit: client → its connection attempts (ms) in the last second. */
  recentConnections: Map<string, number[]>;
}

const MAX_LINE_BYTES = 4096;

export async function startSmtpWorld(opts: {
  servers: MxServer[];
  mailboxes: Map<string, MailboxState>;
  port: number;
  rules: SmtpRules;
}): Promise<SmtpWorld> {
  let activity: Activity[] = [];
  const states = opts.servers.map((spec) => newState(spec, activity));
  const sockets = new Set<Socket>();
  const servers: Server[] = [];
  let port = opts.port;
  try {
    for (const state of states) {
      const server = createServer((socket) => {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
        session(socket, state, opts.rules, opts.mailboxes);
      });
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once("error", (err: NodeJS.ErrnoException) =>
          reject(
            err.code === "EADDRINUSE"
              ? new Error(`SMTP port ${port} on ${state.spec.ip} is taken by another process`)
              : err,
          ),
        );
        server.listen(port, state.spec.ip, () => resolve());
      });
      port = (server.address() as AddressInfo).port;
    }
  } catch (err) {
    await closeAll(servers, sockets);
    throw err;
  }
  return {
    port,
    stats: () => new Map(states.map((s) => [s.spec.ip, s.stats])),
    activity: () => activity.map((a) => ({ ...a, end: Number.isFinite(a.end) ? a.end : Date.now() })),
    reset() {
      activity = [];
      for (const state of states) {
        state.activity = activity;
        state.firstTry.clear();
        state.firstConnection.clear();
        state.recentConnections.clear();
        state.stats = emptyStats();
      }
    },
    close: () => closeAll(servers, sockets),
  };
}

async function closeAll(servers: Server[], sockets: Set<Socket>): Promise<void> {
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
}

function emptyStats(): ServerStats {
  return {
    connections: 0,
    sessions: 0,
    capRejects: 0,
    rateRejects: 0,
    connRateRejects: 0,
    rcpts: 0,
    rcptLimitRejects: 0,
    greylistRejects: 0,
    peakOpen: 0,
    dataAttempts: 0,
    quits: 0,
    firstRcptAt: null,
    lastRcptAt: null,
  };
}

function newState(spec: MxServer, activity: Activity[]): ServerState {
  return {
    spec,
    activity,
    stats: emptyStats(),
    open: new Map(),
    firstTry: new Map(),
    firstConnection: new Map(),
    recentConnections: new Map(),
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function session(
  socket: Socket,
  state: ServerState,
  rules: SmtpRules,
  mailboxes: Map<string, MailboxState>,
): void {
  const { spec } = state;
  const client = socket.remoteAddress ?? "?";
  const name = `mx-${spec.ip.replaceAll(".", "-")}.world.test`;
  const now = Date.now();
  // Through `state` every time: reset() swaps the stats object.
  state.stats.connections++;
  socket.on("error", () => {});
  // One write per reply, without Nagle: a multi-line reply must not wait for the client's delayed ACK.
  socket.setNoDelay(true);
  const write = (...lines: string[]) => {
    if (!socket.destroyed) socket.write(lines.map((line) => `${line}\r\n`).join(""));
  };

  // A tarpit takes the connection and never says a word.
  if (spec.behaviour === "tarpit") {
    const life: Activity = { start: now, end: Number.POSITIVE_INFINITY, tarpit: true };
    state.activity.push(life);
    socket.on("close", () => {
      life.end = Date.now();
    });
    socket.resume();
    return;
  }
  if (spec.behaviour === "rate_limit") {
    const first = state.firstConnection.get(client) ?? now;
    state.firstConnection.set(client, first);
    if (now - first < rules.rateLimitSeconds * 1000) {
      state.stats.rateRejects++;
      write(`421 4.7.0 ${name} Error: too many connections from ${client}, try again later`);
      socket.end();
      return;
    }
  }
  if (spec.behaviour === "conn_rate") {
    // Every attempt counts, refused ones too (as Postfix's anvil counts them): a client that
    // hammers stays refused until it slows down.
    const recent = (state.recentConnections.get(client) ?? []).filter((t) => t > now - 1000);
    recent.push(now);
    state.recentConnections.set(client, recent);
    if (recent.length > rules.connRatePerSecond) {
      state.stats.connRateRejects++;
      write(`421 4.7.0 ${name} Too many connections, slow down`);
      socket.end();
      return;
    }
  }
  if ((state.open.get(client) ?? 0) >= rules.connCap) {
    state.stats.capRejects++;
    write(`421 4.7.0 ${name} Error: too many concurrent connections from ${client}`);
    socket.end();
    return;
  }

  // The connection holds a slot until QUIT or close, whichever comes first.
  state.open.set(client, (state.open.get(client) ?? 0) + 1);
  const openNow = [...state.open.values()].reduce((a, b) => a + b, 0);
  state.stats.peakOpen = Math.max(state.stats.peakOpen, openNow);
  const life: Activity = { start: now, end: Number.POSITIVE_INFINITY, tarpit: false };
  state.activity.push(life);
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    life.end = Date.now();
    state.open.set(client, (state.open.get(client) ?? 1) - 1);
  };
  socket.on("close", release);

  // Replies go out in order, each after the reply latency, like a server thinking.
  let replies: Promise<void> = sleep(rules.bannerDelayMs).then(() => {
    if (socket.destroyed) return;
    state.stats.sessions++;
    write(`220 ${name} ESMTP Postfix`);
  });
  const reply = (answer: () => string[] | null) => {
    replies = replies.then(async () => {
      await sleep(rules.replyLatencyMs);
      if (socket.destroyed) return;
      const lines = answer();
      if (lines?.length) write(...lines);
    });
  };

  let greeted = false;
  let mail: { smtpUtf8: boolean } | null = null;
  let rcptsThisSession = 0;

  const command = (line: string): string[] | null => {
    const verb = line.split(" ", 1)[0]?.toUpperCase() ?? "";
    switch (verb) {
      case "EHLO":
        greeted = true;
        return [
          `250-${name}`,
          "250-PIPELINING",
          "250-SIZE 10240000",
          "250-ENHANCEDSTATUSCODES",
          "250-8BITMIME",
          "250 SMTPUTF8",
        ];
      case "HELO":
        greeted = true;
        return [`250 ${name}`];
      case "MAIL":
        if (!greeted) return ["503 5.5.1 Error: send HELO/EHLO first"];
        if (mail) return ["503 5.5.1 Error: nested MAIL command"];
        if (!/^MAIL FROM:\s*<[^>]*>/i.test(line)) return ["501 5.5.4 Syntax: MAIL FROM:<address>"];
        mail = { smtpUtf8: /\sSMTPUTF8\b/i.test(line) };
        return ["250 2.1.0 Ok"];
      case "RCPT": {
        if (!mail) return ["503 5.5.1 Error: need MAIL command"];
        const match = /^RCPT TO:\s*<([^>]*)>/i.exec(line);
        if (!match) return ["501 5.5.4 Syntax: RCPT TO:<address>"];
        if (rcptsThisSession >= rules.rcptLimit) {
          state.stats.rcptLimitRejects++;
          return ["452 4.5.3 Error: too many recipients"];
        }
        rcptsThisSession++;
        const at = Date.now();
        state.stats.rcpts++;
        state.stats.firstRcptAt ??= at;
        state.stats.lastRcptAt = at;
        return [rcptReply(state, client, match[1] as string, mail.smtpUtf8, rules, mailboxes)];
      }
      case "DATA":
      case "BDAT":
        state.stats.dataAttempts++;
        return ["503 5.5.1 Error: DATA is a protocol violation in this world"];
      case "RSET":
        mail = null;
        return ["250 2.0.0 Ok"];
      case "NOOP":
        return ["250 2.0.0 Ok"];
      case "QUIT":
        state.stats.quits++;
        release();
        return ["221 2.0.0 Bye"];
      default:
        return ["502 5.5.2 Error: command not recognized"];
    }
  };

  let buffered = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    for (let nl = buffered.indexOf(0x0a); nl >= 0; nl = buffered.indexOf(0x0a)) {
      const line = buffered.subarray(0, nl).toString("utf8").replace(/\r$/, "");
      buffered = buffered.subarray(nl + 1);
      const isQuit = /^QUIT\b/i.test(line);
      reply(() => command(line));
      if (isQuit) {
        replies = replies.then(() => void socket.end());
        return;
      }
    }
    if (buffered.length > MAX_LINE_BYTES) {
      reply(() => ["500 5.5.0 Error: line too long"]);
      replies = replies.then(() => void socket.end());
    }
  });
}

function rcptReply(
  state: ServerState,
  client: string,
  rcpt: string,
  smtpUtf8: boolean,
  rules: SmtpRules,
  mailboxes: Map<string, MailboxState>,
): string {
  // RFC 6531: a UTF-8 address only inside a transaction that declared SMTPUTF8.
  if (/[^\x20-\x7e]/.test(rcpt) && !smtpUtf8)
    return "553 5.6.7 Must declare SMTPUTF8 to send unicode address";
  const at = rcpt.lastIndexOf("@");
  const local = at < 0 ? rcpt : rcpt.slice(0, at);
  const domain = at < 0 ? "" : rcpt.slice(at + 1);

  switch (state.spec.behaviour) {
    case "catch_all":
      return "250 2.1.5 Ok";
    case "blocked":
      return "550 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/127.0.0.1";
    case "greylist":
    case "greylist_catch_all": {
      const key = `${client}|${rcpt.toLowerCase()}`;
      const now = Date.now();
      const first = state.firstTry.get(key) ?? now;
      state.firstTry.set(key, first);
      if (now - first < rules.greylistSeconds * 1000) {
        state.stats.greylistRejects++;
        return `451 4.7.1 <${rcpt}>: Recipient address rejected: Greylisted, see https://postgrey.schweikert.ch/help/${domain}.html`;
      }
      if (state.spec.behaviour === "greylist_catch_all") return "250 2.1.5 Ok";
      break;
    }
  }

  const key = `${local}@${domainToASCII(domain) || domain}`.toLowerCase();
  switch (mailboxes.get(key)) {
    case "exists":
      return "250 2.1.5 Ok";
    case "full":
      return `552 5.2.2 <${rcpt}>: Recipient address rejected: Mailbox full`;
    case "disabled":
      return `550 5.2.1 <${rcpt}>: Recipient address rejected: Account disabled`;
    default:
      return `550 5.1.1 <${rcpt}>: Recipient address rejected: User unknown in virtual mailbox table`;
  }
}
