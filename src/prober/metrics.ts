// The prober's Prometheus metrics (prom-client), one registry per prober.
// SMTP is observed at the socket: an instrumented SmtpConnect counts what
// crosses it, so the session code stays unaware of metrics. Destination
// hosts are labelled by the address connected to, the key host objects use.

import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import type { SmtpConnect } from "../verify/smtp";
import { SmtpIoError } from "../verify/smtp-reply";

export interface ProberMetrics {
  registry: Registry;
  /** Wraps a transport so every connection through it is counted. */
  instrument(connect: SmtpConnect): SmtpConnect;
}

export function createProberMetrics(): ProberMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "mailvet_prober_" });
  const hostLabel = ["host"] as const;
  const sessionsOpen = new Gauge({
    name: "mailvet_prober_smtp_sessions_open",
    help: "SMTP connections open right now.",
    registers: [registry],
  });
  const rcpts = new Counter({
    name: "mailvet_prober_smtp_rcpts_total",
    help: "RCPT TO commands sent, per destination host.",
    labelNames: hostLabel,
    registers: [registry],
  });
  const replies = new Counter({
    name: "mailvet_prober_smtp_replies_total",
    help: "SMTP replies read, per destination host and class (2xx, 3xx, 4xx, 5xx).",
    labelNames: ["host", "class"] as const,
    registers: [registry],
  });
  const serviceNotAvailable = new Counter({
    name: "mailvet_prober_smtp_421_total",
    help: "421 replies (the server closes or throttles us), per destination host.",
    labelNames: hostLabel,
    registers: [registry],
  });
  const timeouts = new Counter({
    name: "mailvet_prober_smtp_timeouts_total",
    help: "Connects and replies that timed out, per destination host.",
    labelNames: hostLabel,
    registers: [registry],
  });
  const connectFailures = new Counter({
    name: "mailvet_prober_smtp_connect_failures_total",
    help: "Connects that failed (refused, unreachable or timed out), per destination host.",
    labelNames: hostLabel,
    registers: [registry],
  });

  const timedOut = (err: unknown) => err instanceof SmtpIoError && err.kind === "timeout";

  const instrument =
    (connect: SmtpConnect): SmtpConnect =>
    async (ip, port, timeoutMs) => {
      const host = { host: ip };
      let conn: Awaited<ReturnType<SmtpConnect>>;
      try {
        conn = await connect(ip, port, timeoutMs);
      } catch (err) {
        connectFailures.inc(host);
        if (timedOut(err)) timeouts.inc(host);
        throw err;
      }
      sessionsOpen.inc();
      let open = true;
      return {
        write: (line) => {
          if (/^RCPT TO:/i.test(line)) rcpts.inc(host);
          return conn.write(line);
        },
        readReply: async (ms) => {
          try {
            const reply = await conn.readReply(ms);
            replies.inc({ ...host, class: `${Math.floor(reply.code / 100)}xx` });
            if (reply.code === 421) serviceNotAvailable.inc(host);
            return reply;
          } catch (err) {
            if (timedOut(err)) timeouts.inc(host);
            throw err;
          }
        },
        close: () => {
          if (open) sessionsOpen.dec();
          open = false;
          return conn.close();
        },
      };
    };

  return { registry, instrument };
}
