// The prober: a small HTTP service for a host with port 25 open, running the
// same SMTP code as the Worker. Host objects (SMTP_MODE=relay) POST one
// session at a time to /session; direct validation POSTs a batch of domains
// to /probe; both with the shared secret. /health answers a load balancer or
// a container's health check; /metrics is Prometheus text. Politeness per MX
// host is enforced here too, across calls.

import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { bodyLimit } from "hono/body-limit";
import pLimit, { type LimitFunction } from "p-limit";
import { z } from "zod";
import type { RelayResponseBody, RelaySessionResponse } from "../mx/protocol";
import { probeDomain, type SmtpConfig } from "../verify/smtp";
import { runSession } from "../verify/smtp-session";
import { createProberMetrics } from "./metrics";
import { nodeSocketConnect } from "./node-socket";

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
  /** The local address SMTP connections leave from (one of the host's IPs); default: the system's choice. */
  sourceAddress?: string;
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;
const KEEP_ALIVE_MS = 75_000;

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

/** The prober's routes, without a listener: `startProber` serves them over node:http. */
export function proberApp(opts: Pick<ProberOptions, "secret" | "smtp" | "mxConcurrency" | "sourceAddress">) {
  if (!opts.secret) throw new Error("the prober needs a secret");
  const smtp: SmtpConfig = { ...opts.smtp };
  const perMx = keyedLimit(opts.mxConcurrency ?? 4);
  const metrics = createProberMetrics();
  const connect = metrics.instrument(nodeSocketConnect(opts.sourceAddress));
  const unauthorized = { message: { error: "unauthorized" } };
  const authorized = bearerAuth({
    token: opts.secret,
    noAuthenticationHeader: unauthorized,
    invalidToken: unauthorized,
    invalidAuthenticationHeader: { message: { error: "malformed Authorization header" } },
  });
  const limited = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) => c.json({ error: "body too large" }, 413),
  });

  return new Hono()
    .get("/health", (c) => c.json({ ok: true }))
    .get("/metrics", authorized, async (c) =>
      c.body(await metrics.registry.metrics(), 200, { "content-type": metrics.registry.contentType }),
    )
    .post("/probe", authorized, limited, async (c) => {
      const parsed = requestSchema.safeParse(await jsonBody(c.req.raw));
      if (!parsed.success) return c.json({ error: "invalid request", issues: parsed.error?.issues }, 400);
      const results = await Promise.all(
        parsed.data.requests.map((request) => {
          const mxKey =
            [...request.hosts].sort((a, b) => a.preference - b.preference)[0]?.host ?? request.domain;
          return perMx(mxKey, () => probeDomain(request, smtp, connect));
        }),
      );
      return c.json({ results } satisfies RelayResponseBody);
    })
    .post("/session", authorized, limited, async (c) => {
      const parsed = sessionSchema.safeParse(await jsonBody(c.req.raw));
      if (!parsed.success) return c.json({ error: "invalid request", issues: parsed.error?.issues }, 400);
      // One SMTP session for a host object: its recipients in order, over as few
      // transactions as the server allows. A caller that hangs up (a canceled
      // job) stops the session before its next RCPT.
      const { targets, recipients, maxRcpts, maxErrors } = parsed.data;
      const hungUp = c.req.raw.signal;
      const queue = [...recipients];
      const answers: RelaySessionResponse["answers"] = [];
      const end = await perMx(targets[0]!.ip, () =>
        runSession(
          {
            targets,
            maxRcpts,
            maxErrors,
            next: (room) => queue.splice(0, room),
            answer: (address, status, reply) => answers.push({ address, status, reply }),
            live: () => !hungUp.aborted,
          },
          smtp,
          connect,
        ),
      );
      return c.json({
        answers,
        end: { ...end, unanswered: [...end.unanswered, ...queue] },
      } satisfies RelaySessionResponse);
    })
    .on(["GET", "POST", "PUT", "PATCH", "DELETE"], ["/health", "/metrics", "/probe", "/session"], (c) =>
      c.json({ error: "method not allowed" }, 405),
    )
    .notFound((c) => c.json({ error: "not found" }, 404))
    .onError((err, c) => {
      if (err instanceof BadJson) return c.json({ error: "body is not JSON" }, 400);
      if ("getResponse" in err && typeof err.getResponse === "function") return err.getResponse();
      console.error(JSON.stringify({ msg: "prober error", error: String(err) }));
      return c.json({ error: "internal error" }, 500);
    });
}

export async function startProber(opts: ProberOptions): Promise<{ port: number; close(): Promise<void> }> {
  const app = proberApp(opts);
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const listening = serve({ fetch: app.fetch, port: opts.port, hostname: opts.host ?? "127.0.0.1" }, () =>
      resolve(listening),
    );
    listening.once("error", reject);
  });
  // Longer than any caller keeps an idle connection: a caller must never reuse one the prober just closed.
  if ("keepAliveTimeout" in server) {
    server.keepAliveTimeout = KEEP_ALIVE_MS;
    server.headersTimeout = KEEP_ALIVE_MS + 1000;
  }
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : opts.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ("closeAllConnections" in server) server.closeAllConnections();
      }),
  };
}

class BadJson extends Error {}

async function jsonBody(req: Request): Promise<unknown> {
  try {
    return await req.json();
  } catch {
    throw new BadJson();
  }
}
