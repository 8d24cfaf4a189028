// The Worker's SMTP transport: a plain TCP socket from cloudflare:sockets.
// Deployed Workers cannot reach port 25, so this serves `wrangler dev` and
// tests; production goes through the prober (SMTP_MODE=relay).

import { connect } from "cloudflare:sockets";
import { countedSocket } from "../platform/limits";
import type { SmtpConnect, SmtpConnection } from "./smtp";
import { ReplyReader, SmtpIoError } from "./smtp-reply";

const encoder = new TextEncoder();

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
        await writer.write(encoder.encode(`${line}\r\n`));
      } catch (err) {
        throw new SmtpIoError("closed", `write failed: ${String(err)}`);
      }
    },
    readReply: (ms) => replies.read(ms),
    async close() {
      await socket.close().catch(() => {});
    },
  };
  return connection;
};
