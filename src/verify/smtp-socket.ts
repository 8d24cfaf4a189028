// The Worker's SMTP transport: a plain TCP socket from cloudflare:sockets.
// Deployed Workers cannot reach port 25, so this serves `wrangler dev` and
// tests; production goes through the prober (SMTP_MODE=relay).

import { connect } from "cloudflare:sockets";
import { countedSocket } from "../platform/limits";
import type { SmtpConnect, SmtpConnection } from "./smtp";
import { ReplyReader, SmtpIoError } from "./smtp-reply";

const encoder = new TextEncoder();
/** A write the peer does not take (a full window that never drains) fails after this. */
const WRITE_TIMEOUT_MS = 10_000;
/** Closing never waits longer than this: the socket is abandoned, not the session. */
const CLOSE_TIMEOUT_MS = 2000;

/** Rejects with `error` when `work` takes longer than `ms`. */
function bounded<T>(work: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(error()), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

export const connectSocket: SmtpConnect = async (ip, port, timeoutMs) => {
  // An open connection of the invocation from connect until close (PLATFORM_LIMITS).
  const socket = countedSocket(`socket ${ip}:${port}`, () =>
    connect({ hostname: ip, port }, { secureTransport: "off", allowHalfOpen: false }),
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new SmtpIoError("timeout", `connect timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([socket.opened, timedOut]);
  } catch (err) {
    socket.close().catch(() => {});
    throw err instanceof SmtpIoError ? err : new SmtpIoError("refused", `connect failed: ${String(err)}`);
  } finally {
    clearTimeout(timer);
  }

  const replies = new ReplyReader();
  const reader = socket.readable.getReader();
  const writer = socket.writable.getWriter();
  // Feeds the reply reader until the server closes; a broken socket reads as a close.
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        replies.push(value);
      }
      replies.end();
    } catch (err) {
      replies.end(new SmtpIoError("closed", `connection lost: ${String(err)}`));
    }
  })();

  const connection: SmtpConnection = {
    async write(line) {
      try {
        await bounded(
          writer.write(encoder.encode(`${line}\r\n`)),
          WRITE_TIMEOUT_MS,
          () => new SmtpIoError("timeout", `write timed out after ${WRITE_TIMEOUT_MS} ms`),
        );
      } catch (err) {
        if (err instanceof SmtpIoError) throw err;
        throw new SmtpIoError("closed", `write failed: ${String(err)}`);
      }
    },
    readReply: (ms) => replies.read(ms),
    async close() {
      await bounded(socket.close(), CLOSE_TIMEOUT_MS, () => new Error("close timed out")).catch(() => {});
    },
  };
  return connection;
};
