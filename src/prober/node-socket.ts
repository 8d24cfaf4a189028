// The prober's SMTP transport: node:net, for hosts where port 25 is open.

import { connect as netConnect } from "node:net";
import type { SmtpConnect, SmtpConnection } from "../verify/smtp";
import { ReplyReader, SmtpIoError } from "../verify/smtp-reply";

/** Connects from `localAddress` when given: a host with several IPs runs one prober per egress IP. */
export const nodeSocketConnect =
  (localAddress?: string): SmtpConnect =>
  (ip, port, timeoutMs) =>
    connectFrom(ip, port, timeoutMs, localAddress);

const connectFrom = (ip: string, port: number, timeoutMs: number, localAddress: string | undefined) =>
  new Promise<SmtpConnection>((resolve, reject) => {
    const socket = netConnect({ host: ip, port, ...(localAddress ? { localAddress } : {}) });
    const replies = new ReplyReader();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new SmtpIoError("timeout", `connect timed out after ${timeoutMs} ms`));
    }, timeoutMs);

    socket.on("data", (chunk: Buffer) => replies.push(chunk));
    socket.on("close", () => replies.end());
    socket.on("error", (err) => {
      clearTimeout(timer);
      // Before "connect" this rejects the connect; after it, reads see a close.
      reject(new SmtpIoError("refused", `connect failed: ${err.message}`));
      replies.end(new SmtpIoError("closed", `connection lost: ${err.message}`));
    });
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve({
        write: (line) =>
          new Promise<void>((done, fail) => {
            if (socket.destroyed || !socket.writable) {
              fail(new SmtpIoError("closed", "write failed: socket closed"));
              return;
            }
            socket.write(`${line}\r\n`, "utf8", (err) =>
              err ? fail(new SmtpIoError("closed", `write failed: ${err.message}`)) : done(),
            );
          }),
        readReply: (ms) => replies.read(ms),
        close: async () => {
          socket.destroy();
        },
      });
    });
  });
