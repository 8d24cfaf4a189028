// Turning an SMTP byte stream into replies, shared by the workerd and Node
// transports: bytes go in as they arrive, whole (possibly multi-line) replies
// come out, and every read has a deadline so a silent server cannot hang a probe.

import type { SmtpReply } from "./types";

export type SmtpIoErrorKind = "refused" | "timeout" | "closed" | "protocol";

/** The connection failed, as opposed to the server answering something. */
export class SmtpIoError extends Error {
  override name = "SmtpIoError";
  constructor(
    readonly kind: SmtpIoErrorKind,
    message: string,
  ) {
    super(message);
  }
}

// RFC 5321 allows 512 octets per reply line; real servers stay far below,
// so anything this long is garbage, not SMTP.
const MAX_LINE_CHARS = 4096;
const MAX_REPLY_LINES = 200;
const REPLY_LINE = /^(\d{3})([ -]|$)/;
// RFC 3463: class.subject.detail, and its class must match the reply's.
const ENHANCED = /^([245])\.(\d{1,3})\.(\d{1,3})(?=\s|$)/;

/** Builds a reply from its lines (without CRLF); the enhanced code is lifted out of the text. */
export function parseReplyLines(lines: readonly string[]): SmtpReply {
  const first = lines[0] ?? "";
  const code = Number(first.slice(0, 3));
  const texts = lines.map((line) => line.slice(4));
  const match = ENHANCED.exec(texts[0] ?? "");
  const enhanced = match && match[1] === first[0] ? match[0] : null;
  const text = texts
    .map((t) => (enhanced && t.startsWith(enhanced) ? t.slice(enhanced.length).trimStart() : t))
    .join("\n");
  return { code, enhanced, text };
}

/** Collects bytes from a socket and hands out complete replies. */
export class ReplyReader {
  private readonly decoder = new TextDecoder();
  private partial = "";
  private readonly lines: string[] = [];
  private failure: SmtpIoError | null = null;
  private wake: (() => void) | null = null;

  push(bytes: Uint8Array): void {
    this.partial += this.decoder.decode(bytes, { stream: true });
    for (let nl = this.partial.indexOf("\n"); nl >= 0; nl = this.partial.indexOf("\n")) {
      this.lines.push(this.partial.slice(0, nl).replace(/\r$/, ""));
      this.partial = this.partial.slice(nl + 1);
    }
    if (this.partial.length > MAX_LINE_CHARS) this.end(new SmtpIoError("protocol", "reply line too long"));
    this.notify();
  }

  /** No more bytes will come; `error` says why, when it is not a plain close. */
  end(error?: SmtpIoError): void {
    this.failure ??= error ?? new SmtpIoError("closed", "connection closed by the server");
    this.notify();
  }

  /** The next whole reply; replies that arrived before a close are still returned. */
  async read(timeoutMs: number): Promise<SmtpReply> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const reply = this.takeReply();
      if (reply) return reply;
      if (this.failure) throw this.failure;
      const left = deadline - Date.now();
      if (left <= 0) throw new SmtpIoError("timeout", `no reply within ${timeoutMs} ms`);
      await this.waitForBytes(left);
    }
  }

  private takeReply(): SmtpReply | null {
    for (let i = 0; i < this.lines.length; i++) {
      const match = REPLY_LINE.exec(this.lines[i] ?? "");
      if (!match) {
        this.end(
          new SmtpIoError("protocol", `not an SMTP reply: ${JSON.stringify(this.lines[i]?.slice(0, 80))}`),
        );
        return null;
      }
      if (match[2] !== "-") return parseReplyLines(this.lines.splice(0, i + 1));
      if (i >= MAX_REPLY_LINES) {
        this.end(new SmtpIoError("protocol", "reply has too many lines"));
        return null;
      }
    }
    return null;
  }

  // One read is pending at a time (SMTP is a dialogue), so one waker suffices.
  private waitForBytes(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private notify(): void {
    this.wake?.();
  }
}
