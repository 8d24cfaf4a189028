// Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP date. One reading
// for every place that honours it (the API client, webhook retries).

/** Retry-After as a delay in ms from `now`; null when absent or unreadable. */
export function retryAfterMs(header: string | null | undefined, now: number = Date.now()): number | null {
  const value = header?.trim();
  if (!value) return null;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // All three HTTP date formats start with a weekday name; this keeps "-5" or "1.5" out of Date.parse.
  if (!/^[a-z]/i.test(value)) return null;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now);
}
