// One HTTP call with a time limit, timed end to end (request sent → body
// read). Failures come back as values (status 0 and the error), not as
// exceptions, so a load loop can count them and a check can print them.

export interface HttpResult<T = unknown> {
  /** HTTP status, or 0 when no response arrived (refused, reset, timed out). */
  status: number;
  ms: number;
  headers: Headers;
  /** The parsed JSON body, or the text when it is not JSON. */
  body: T;
  text: string;
  /** Why no response arrived, when status is 0. */
  error?: string;
}

export interface HttpOptions {
  headers?: Record<string, string>;
  /** Sent as JSON. */
  json?: unknown;
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

export async function http<T = unknown>(
  method: string,
  url: string,
  opts: HttpOptions = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  let body: string | undefined;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers["content-type"] = "application/json";
  }
  const controller = new AbortController();
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const started = performance.now();
  const failed = (error: string): HttpResult<T> => ({
    status: 0,
    ms: performance.now() - started,
    headers: new Headers(),
    body: null as T,
    text: "",
    error,
  });
  const exchange = (async (): Promise<HttpResult<T>> => {
    try {
      const res = await fetch(url, { method, headers, body, signal: controller.signal });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // Not JSON (an error page, NDJSON): the caller reads `text`.
      }
      return {
        status: res.status,
        ms: performance.now() - started,
        headers: res.headers,
        body: parsed as T,
        text,
      };
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      return failed(cause ? `${String(err)} (${cause})` : String(err));
    }
  })();
  // The time limit settles the call by itself rather than trusting the abort
  // to settle fetch: an abort that lands while a response body is being read
  // has been seen to leave the call pending for good, which would stall a run.
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<HttpResult<T>>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, "TimeoutError"));
      resolve(failed(`TimeoutError: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([exchange, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** A short, printable account of a call, for violation messages. */
export function describe(method: string, path: string, res: HttpResult): string {
  const what = res.status === 0 ? `no response: ${res.error}` : `${res.status} ${res.text.slice(0, 600)}`;
  return `${method} ${path} → ${what}`;
}
