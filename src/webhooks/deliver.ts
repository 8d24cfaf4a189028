// One delivery attempt of one webhook message. It reports what happened and
// never throws: the caller records the attempt and asks schedule.ts when to
// try again. The URL must have passed checkWebhookUrl just before.

import { classifyResponse } from "./schedule";
import { signWebhook } from "./sign";

export const WEBHOOK_USER_AGENT = "mailvet-webhooks/1";
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;

export interface DeliveryOptions {
  url: string;
  secret: string;
  /** The same for every attempt of one message, so receivers can deduplicate. */
  msgId: string;
  body: string;
  timeoutMs: number;
  fetcher?: typeof fetch;
  /** Clock in ms, for the signed timestamp and the duration. */
  now?: () => number;
}

export interface DeliveryOutcome {
  /** HTTP status, or null when no response came (network error, timeout). */
  status: number | null;
  /** A 2xx answer: the message is delivered. */
  ok: boolean;
  /** 410 Gone: the receiver asks us to stop; disable the endpoint. */
  disable: boolean;
  /** Retry-After of a 429 or 503, for nextAttemptDelayMs. */
  retryAfter: string | null;
  error: string | null;
  durationMs: number;
}

/** Statuses whose Retry-After asks us to come back later (RFC 9110 §10.2.3, RFC 6585). */
const RETRY_AFTER_STATUSES = new Set([429, 503]);

export async function attemptDelivery(opts: DeliveryOptions): Promise<DeliveryOutcome> {
  const now = opts.now ?? Date.now;
  // Bound to globalThis: workerd rejects a detached fetch with "Illegal invocation".
  const fetcher = opts.fetcher ?? ((input, init) => fetch(input, init));
  const started = now();
  const done = (outcome: Omit<DeliveryOutcome, "durationMs">): DeliveryOutcome => ({
    ...outcome,
    durationMs: Math.max(0, now() - started),
  });

  // A fresh timestamp per attempt: receivers reject signatures older than a few minutes.
  const timestamp = Math.floor(started / 1000);
  let signature: string;
  try {
    signature = await signWebhook(opts.secret, opts.msgId, timestamp, opts.body);
  } catch (err) {
    return done({
      status: null,
      ok: false,
      disable: false,
      retryAfter: null,
      error: `cannot sign: ${message(err)}`,
    });
  }

  const signal = AbortSignal.timeout(opts.timeoutMs);
  try {
    const response = await fetcher(opts.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": WEBHOOK_USER_AGENT,
        "webhook-id": opts.msgId,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": signature,
      },
      body: opts.body,
      // A redirect is a failure: following it would bypass the SSRF check of the URL.
      redirect: "manual",
      signal,
    });
    // Only the status matters; release the connection.
    await response.body?.cancel().catch(() => {});
    const verdict = classifyResponse(response.status);
    const ok = verdict === "success";
    return done({
      status: response.status,
      ok,
      disable: verdict === "disable",
      retryAfter: RETRY_AFTER_STATUSES.has(response.status) ? response.headers.get("retry-after") : null,
      error: ok ? null : `receiver answered HTTP ${response.status}`,
    });
  } catch (err) {
    const error = signal.aborted
      ? `no answer within ${opts.timeoutMs} ms`
      : `request failed: ${message(err)}`;
    return done({ status: null, ok: false, disable: false, retryAfter: null, error });
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
