// A thin client for mailvet's canonical API, timing every call end to end
// (request sent → body read), as a client sees it.
import type { Counts } from "../../src/client/index";

export interface Timed<T> {
  status: number;
  ms: number;
  body: T;
  headers: Headers;
}

export interface JobView {
  id: string;
  status: string;
  total?: number;
  counts?: Counts;
  created_at?: string;
  started_at?: string | null;
  finished_at?: string | null;
  results: { email: string; result: string; catch_all: boolean }[];
  _errors?: unknown[];
}

export interface ResultLine {
  email: string;
  result: string;
  catch_all: boolean;
  reason?: string;
  smtp_code?: number | null;
  mx_host?: string | null;
  [field: string]: unknown;
}

const REQUEST_TIMEOUT_MS = 120_000;

export class MailvetApi {
  constructor(
    private readonly baseUrl: string,
    private readonly key: string,
  ) {}

  async call<T>(
    method: string,
    path: string,
    body?: unknown,
    timeoutMs = REQUEST_TIMEOUT_MS,
  ): Promise<Timed<T>> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const started = performance.now();
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.key}`,
        ...(payload ? { "content-type": "application/json" } : {}),
      },
      body: payload,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    const ms = performance.now() - started;
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON (an error page): keep the text for the report
    }
    return { status: res.status, ms, body: parsed as T, headers: res.headers };
  }

  create(emails: string[]): Promise<Timed<JobView>> {
    return this.call<JobView>("POST", "/email-validations", { emails, label: "bench" });
  }

  job(id: string, query = "include=details"): Promise<Timed<JobView>> {
    return this.call<JobView>("GET", `/email-validations/${id}?${query}`);
  }

  cancel(id: string): Promise<Timed<JobView>> {
    return this.call<JobView>("PATCH", `/email-validations/${id}`, { status: "canceled" });
  }

  /** Every result as NDJSON, in input order. */
  async download(id: string): Promise<{ status: number; ms: number; lines: ResultLine[]; error?: string }> {
    const started = performance.now();
    const res = await fetch(`${this.baseUrl}/email-validations/${id}/download?format=ndjson`, {
      headers: { authorization: `Bearer ${this.key}` },
      signal: AbortSignal.timeout(10 * 60_000),
    });
    const text = await res.text();
    const ms = performance.now() - started;
    if (res.status !== 200) return { status: res.status, ms, lines: [], error: text.slice(0, 500) };
    const lines: ResultLine[] = [];
    for (const line of text.split("\n")) if (line) lines.push(JSON.parse(line) as ResultLine);
    return { status: res.status, ms, lines };
  }
}
