// The prober: a small HTTP service for a host with port 25 open, running the
// same SMTP code as the Worker. Host objects (SMTP_MODE=relay) POST one
// session at a time to /session; direct validation POSTs a
// batch of domains to /probe with the shared secret; the answers come back in
// order. Politeness per MX host is enforced here too, across calls.

import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import pLimit, { type LimitFunction } from "p-limit";
import { z } from "zod";
import type { RelayResponseBody, RelaySessionResponse } from "../mx/protocol";
import { probeDomain, type SmtpConfig } from "../verify/smtp";
import { runSession } from "../verify/smtp-session";
import { connectNodeSocket } from "./node-socket";

export interface ProberOptions {
  port: number;
  secret: string;
  smtp: {
    port: number;
    heloName: string;
    mailFrom: string;
    connectTimeoutMs: number;
    replyTimeoutMs: number;
  };
  /** Interface to listen on; default 127.0.0.1 (put a TLS proxy in front to expose it). */
  host?: string;
  /** Concurrent probes per MX host, across calls; default 4. */
  mxConcurrency?: number;
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;

const ipAddress = z.union([z.ipv4(), z.ipv6()]);
const requestSchema = z.object({
  requests: z
    .array(
      z.object({
        domain: z.string().min(1).max(253),
        hosts: z
          .array(
            z.object({
              host: z.string().min(1).max(253),
              preference: z.number().int().min(0).max(65535),
              // IP literals only: the prober never resolves names on a caller's behalf.
              addresses: z.array(ipAddress).max(16),
            }),
          )
          .max(32),
        addresses: z.array(z.string().min(1).max(1024)).max(10_000),
        catchAllKnown: z.boolean().nullable(),
        catchAllProbe: z.boolean().optional(),
      }),
    )
    .min(1)
    .max(1000),
});

const sessionSchema = z.object({
  targets: z
    .array(z.object({ host: z.string().min(1).max(253), ip: ipAddress }))
    .min(1)
    .max(16),
  recipients: z.array(z.string().min(1).max(1024)).min(1).max(1000),
  maxRcpts: z.number().int().min(1).max(1000),
  maxErrors: z.number().int().min(1).max(1000).nullish(),
});

/** At most `limit` tasks at once per key (a mail server), across calls. */
function keyedLimit(limit: number) {
  const byKey = new Map<string, LimitFunction>();
  return <T>(key: string, task: () => Promise<T>): Promise<T> => {
    let run = byKey.get(key);
    if (!run) {
      run = pLimit(limit);
      byKey.set(key, run);
    }
    const limiter = run;
    return limiter(task).finally(() => {
      if (limiter.activeCount === 0 && limiter.pendingCount === 0) byKey.delete(key);
    });
  };
}

export async function startProber(opts: ProberOptions): Promise<{ port: number; close(): Promise<void> }> {
  if (!opts.secret) throw new Error("the prober needs a secret");
  const smtp: SmtpConfig = { ...opts.smtp };
  const perMx = keyedLimit(opts.mxConcurrency ?? 4);
  const expected = digest(`Bearer ${opts.secret}`);

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      console.error(JSON.stringify({ msg: "prober error", error: String(err) }));
      if (!res.headersSent) reply(res, 500, { error: "internal error" });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://prober").pathname;
    if (path === "/health") {
      if (req.method !== "GET" && req.method !== "HEAD")
        return reply(res, 405, { error: "method not allowed" });
      return reply(res, 200, { ok: true });
    }
    if (path !== "/probe" && path !== "/session") return reply(res, 404, { error: "not found" });
    if (req.method !== "POST") return reply(res, 405, { error: "method not allowed" });
    // Compared as fixed-length digests so neither content nor length leaks through timing.
    if (!timingSafeEqual(digest(req.headers.authorization ?? ""), expected)) {
      req.resume();
      return reply(res, 401, { error: "unauthorized" });
    }
    const text = await readBody(req);
    if (text === null) return reply(res, 413, { error: "body too large" });
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return reply(res, 400, { error: "body is not JSON" });
    }
    if (path === "/session") return session(json, res);
    const parsed = requestSchema.safeParse(json);
    if (!parsed.success) return reply(res, 400, { error: "invalid request", issues: parsed.error.issues });

    const results = await Promise.all(
      parsed.data.requests.map((request) => {
        const mxKey =
          [...request.hosts].sort((a, b) => a.preference - b.preference)[0]?.host ?? request.domain;
        return perMx(mxKey, () => probeDomain(request, smtp, connectNodeSocket));
      }),
    );
    const body: RelayResponseBody = { results };
    reply(res, 200, body);
  }

  /**
   * One SMTP session for a host object: its recipients in order, over as few
   * transactions as the server allows. A caller that hangs up (a canceled
   * job) stops the session before its next RCPT.
   */
  async function session(json: unknown, res: ServerResponse): Promise<void> {
    const parsed = sessionSchema.safeParse(json);
    if (!parsed.success) return reply(res, 400, { error: "invalid request", issues: parsed.error.issues });
    const { targets, recipients, maxRcpts, maxErrors } = parsed.data;
    let gone = false;
    res.once("close", () => {
      gone = !res.writableFinished;
    });
    const queue = [...recipients];
    const answers: RelaySessionResponse["answers"] = [];
    const end = await perMx(targets[0]!.ip, () =>
      runSession(
        {
          targets,
          maxRcpts,
          maxErrors,
          next: (room) => queue.splice(0, room),
          answer: (address, status, replyText) => answers.push({ address, status, reply: replyText }),
          live: () => !gone,
        },
        smtp,
        connectNodeSocket,
      ),
    );
    const body: RelaySessionResponse = {
      answers,
      end: { ...end, unanswered: [...end.unanswered, ...queue] },
    };
    reply(res, 200, body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host ?? "127.0.0.1", () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

/** The body as text, or null when it exceeds the limit. */
async function readBody(req: IncomingMessage): Promise<string | null> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req as AsyncIterable<Buffer>) {
    size += part.length;
    if (size > MAX_BODY_BYTES) return null;
    parts.push(part);
  }
  return Buffer.concat(parts).toString("utf8");
}
