// A small typed client for mailvet's /email-validations API. It only needs a
// global `fetch`, so the same code runs in Node, browsers and Workers.

import { retryAfterMs } from "../lib/retry-after";

export { retryAfterMs };

// ── API objects ─────────────────────────────────────────────────────────

export type JobStatus = "queued" | "processing" | "completed" | "canceled" | "error";
export type ResultClass = "deliverable" | "risky" | "undeliverable" | "unknown";
export type DownloadFormat = "csv" | "ndjson";

export const RESULT_CLASSES: readonly ResultClass[] = ["deliverable", "risky", "undeliverable", "unknown"];
export const TERMINAL_STATUSES: readonly JobStatus[] = ["completed", "canceled", "error"];

export interface Link {
  href: string;
}

export interface Links {
  self: Link;
  next?: Link;
  prev?: Link;
}

export interface ApiErrorItem {
  code: string;
  title: string;
  detail: string;
  source?: { pointer?: string };
}

export interface Counts {
  processed: number;
  deliverable: number;
  undeliverable: number;
  risky: number;
  unknown: number;
}

export interface EmailValidationResult {
  object: "email_validation_result";
  email: string;
  result: ResultClass;
  catch_all: boolean;
  // Present with `details: true`.
  reason?: string;
  score?: number;
  smtp_code?: number | null;
  smtp_text?: string | null;
  mx_host?: string | null;
  disposable?: boolean;
  role?: boolean;
  free?: boolean;
  did_you_mean?: string | null;
}

export interface EmailValidation {
  id: string;
  object: "email_validation";
  /** A paused job reports `processing`; `paused` (with details) tells them apart. */
  status: JobStatus;
  results: EmailValidationResult[];
  _errors?: ApiErrorItem[];
  _links: Links;
  // Present with `details: true`.
  label?: string | null;
  source?: string;
  paused?: boolean;
  total?: number;
  counts?: Counts;
  created_at?: string | null;
  started_at?: string | null;
  finished_at?: string | null;
  start_at?: string | null;
}

export interface EmailValidationList {
  object: "list";
  email_validations: EmailValidation[];
  _links: Links;
}

/** One address to validate: a bare string, or an object whose other fields come back in downloads. */
export type EmailEntry = string | { email: string; [column: string]: string | number | boolean | null };

// ── Client options ──────────────────────────────────────────────────────

/** The part of `fetch` the client uses; the global `fetch` fits. */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface MailvetClientOptions {
  /** The service's root, e.g. `https://mailvet.example.com` (a path prefix is kept). */
  baseUrl: string;
  apiKey: string;
  fetch?: FetchLike;
  /** Retries of a 429 or 503 answer before giving up. Default 5. */
  maxRetries?: number;
  /** How the client waits between polls and retries; tests replace it. */
  sleep?: (ms: number) => Promise<void>;
}

export interface CreateOptions {
  label?: string;
  /** Start later (at most 30 days ahead); the job stays `queued` until then. */
  startAt?: Date | string;
  /** Where the service posts this job's events. */
  webhookUrl?: string;
  /**
   * Makes the create safe to repeat: the same key and request give back the
   * same job for 24 hours. Worth setting when a 503 could be retried.
   */
  idempotencyKey?: string;
}

export interface GetJobOptions {
  pageSize?: number;
  /** Email of the last result of the previous page. */
  after?: string;
  /** Email of the first result of the next page. */
  before?: string;
  details?: boolean;
}

export interface WaitOptions {
  /** Called with every polled job, the final one included. */
  onProgress?: (job: EmailValidation) => void;
  signal?: AbortSignal;
}

export interface DownloadOptions {
  result?: ResultClass[] | string[];
  format?: DownloadFormat;
}

// ── Errors ──────────────────────────────────────────────────────────────

/** An error answer from the API, with the items of its `_errors` envelope. */
export class MailvetError extends Error {
  readonly status: number;
  readonly errors: ApiErrorItem[];

  constructor(status: number, errors: ApiErrorItem[]) {
    super(describeErrors(status, errors));
    this.name = "MailvetError";
    this.status = status;
    this.errors = errors;
  }

  /** The first item's code, e.g. `not_found`. */
  get code(): string | undefined {
    return this.errors[0]?.code;
  }
}

function describeErrors(status: number, errors: ApiErrorItem[]): string {
  if (!errors.length) return `HTTP ${status}`;
  const parts = errors.map((e) => {
    const where = e.source?.pointer ? ` (at ${e.source.pointer})` : "";
    return `${e.detail || e.title}${where}`;
  });
  return `${errors[0]?.code ?? "error"} (HTTP ${status}): ${parts.join("; ")}`;
}

/** Reads an error body: the canonical envelope, or whatever else a proxy may have sent. */
async function errorFrom(res: Response): Promise<MailvetError> {
  const text = await res.text().catch(() => "");
  try {
    const body = JSON.parse(text) as { _errors?: unknown; error?: unknown };
    if (Array.isArray(body._errors)) return new MailvetError(res.status, body._errors as ApiErrorItem[]);
    if (typeof body.error === "string") {
      return new MailvetError(res.status, [
        { code: `http_${res.status}`, title: res.statusText, detail: body.error },
      ]);
    }
  } catch {
    // not JSON: fall through
  }
  const detail = text.trim().slice(0, 200) || res.statusText || `HTTP ${res.status}`;
  return new MailvetError(res.status, [{ code: `http_${res.status}`, title: res.statusText, detail }]);
}

// ── Retry-After and backoff ─────────────────────────────────────────────

const RETRYABLE = new Set([429, 503]);
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 30_000;
/** Used when a job is still running but the answer carried no Retry-After. */
const DEFAULT_POLL_MS = 2_000;

function backoffMs(attempt: number): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The operation was aborted.", "AbortError");
}

// ── The client ──────────────────────────────────────────────────────────

interface RequestOptions {
  method?: string;
  body?: BodyInit;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

const BASE = "/email-validations";

export class MailvetClient {
  private readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly fetchFn: FetchLike;
  private readonly maxRetries: number;
  private readonly sleepFn: (ms: number) => Promise<void>;

  constructor(opts: MailvetClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, "");
    this.apiKey = opts.apiKey;
    // Always call fetch as a plain function: Workers reject a `fetch` invoked as a method of another object.
    const custom = opts.fetch;
    this.fetchFn = custom ? (input, init) => custom(input, init) : (input, init) => fetch(input, init);
    this.maxRetries = opts.maxRetries ?? 5;
    this.sleepFn = opts.sleep ?? realSleep;
  }

  /** Starts a job from a list of addresses (at most 100,000). */
  createJob(emails: EmailEntry[], opts: CreateOptions = {}): Promise<EmailValidation> {
    const body = { emails, label: opts.label, start_at: isoOf(opts.startAt), webhook_url: opts.webhookUrl };
    return this.json<EmailValidation>(BASE, {
      method: "POST",
      body: JSON.stringify(body), // undefined fields drop out
      headers: { "content-type": "application/json", ...idempotencyHeader(opts) },
    });
  }

  /** Starts a job from a CSV or XLSX file; the server tells the formats apart by their bytes. */
  uploadFile(file: Blob | Uint8Array, filename: string, opts: CreateOptions = {}): Promise<EmailValidation> {
    const form = new FormData();
    const blob =
      file instanceof Uint8Array
        ? new Blob([file as Uint8Array<ArrayBuffer>], { type: mimeFor(filename) })
        : file;
    form.append("file", blob, filename);
    const fields = { label: opts.label, start_at: isoOf(opts.startAt), webhook_url: opts.webhookUrl };
    for (const [name, value] of Object.entries(fields)) if (value !== undefined) form.append(name, value);
    return this.json<EmailValidation>(BASE, { method: "POST", body: form, headers: idempotencyHeader(opts) });
  }

  /** One page of a job: its status, and results from `after`/`before` on. */
  getJob(id: string, opts: GetJobOptions = {}): Promise<EmailValidation> {
    return this.json<EmailValidation>(jobPath(id, opts));
  }

  /**
   * Polls a job until it is completed, canceled or failed, waiting as long as
   * each answer's Retry-After asks. Resolves with the final job (with
   * details; its `results` holds at most one result: read them with
   * `results()` or `download()`). A job that ends in `error` resolves too:
   * check `status` and `_errors`.
   */
  async waitForJob(id: string, opts: WaitOptions = {}): Promise<EmailValidation> {
    const path = jobPath(id, { pageSize: 1, details: true });
    for (;;) {
      const res = await this.send(path, { signal: opts.signal });
      const job = (await res.json()) as EmailValidation;
      opts.onProgress?.(job);
      if (TERMINAL_STATUSES.includes(job.status)) return job;
      await this.sleep(retryAfterMs(res.headers.get("retry-after")) ?? DEFAULT_POLL_MS, opts.signal);
    }
  }

  /** Every result of a job in input order (so far, if it still runs), page by page along `_links.next`. */
  async *results(
    id: string,
    opts: { pageSize?: number; details?: boolean } = {},
  ): AsyncGenerator<EmailValidationResult, void, undefined> {
    let path: string | undefined = jobPath(id, { pageSize: opts.pageSize ?? 100, details: opts.details });
    while (path) {
      const page: EmailValidation = await this.json<EmailValidation>(path);
      yield* page.results;
      path = page._links.next?.href;
    }
  }

  /** The account's jobs, newest first, page by page along `_links.next`. */
  async *listJobs(
    opts: { pageSize?: number; details?: boolean } = {},
  ): AsyncGenerator<EmailValidation, void, undefined> {
    let path: string | undefined = withQuery(BASE, {
      "page[size]": opts.pageSize,
      include: opts.details ? "details" : undefined,
    });
    while (path) {
      const page: EmailValidationList = await this.json<EmailValidationList>(path);
      yield* page.email_validations;
      path = page._links.next?.href;
    }
  }

  /** Stops a job for good; results so far are kept. */
  cancel(id: string): Promise<EmailValidation> {
    return this.setStatus(id, "canceled");
  }

  /** Holds a job; it then reports `processing` with `paused: true`. */
  pause(id: string): Promise<EmailValidation> {
    return this.setStatus(id, "paused");
  }

  /** Resumes a paused job where it stopped. */
  resume(id: string): Promise<EmailValidation> {
    return this.setStatus(id, "processing");
  }

  /** Streams a job's results as CSV (default) or NDJSON, optionally only some result classes. */
  async download(id: string, opts: DownloadOptions = {}): Promise<ReadableStream<Uint8Array>> {
    const path = withQuery(`${BASE}/${encodeURIComponent(id)}/download`, {
      result: opts.result?.length ? opts.result.join(",") : undefined,
      format: opts.format,
    });
    const res = await this.send(path);
    return res.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() });
  }

  /** Deletes a job and its results. */
  async deleteJob(id: string): Promise<void> {
    const res = await this.send(`${BASE}/${encodeURIComponent(id)}`, { method: "DELETE" });
    await res.body?.cancel();
  }

  // ── plumbing ──

  private setStatus(id: string, status: "canceled" | "paused" | "processing"): Promise<EmailValidation> {
    return this.json<EmailValidation>(jobPath(id, { details: true }), {
      method: "PATCH",
      body: JSON.stringify({ status }),
      headers: { "content-type": "application/json" },
    });
  }

  private async json<T>(path: string, init: RequestOptions = {}): Promise<T> {
    const res = await this.send(path, init);
    return (await res.json()) as T;
  }

  /** Sends a request, retrying 429 and 503 answers; any other error answer throws MailvetError. */
  private async send(path: string, init: RequestOptions = {}): Promise<Response> {
    const url = this.urlFor(path);
    const headers = { accept: "application/json", ...init.headers, authorization: `Bearer ${this.apiKey}` };
    for (let attempt = 0; ; attempt++) {
      init.signal?.throwIfAborted();
      const res = await this.fetchFn(url, {
        method: init.method ?? "GET",
        headers,
        body: init.body,
        signal: init.signal,
      });
      if (res.ok) return res;
      if (RETRYABLE.has(res.status) && attempt < this.maxRetries) {
        const wait = retryAfterMs(res.headers.get("retry-after")) ?? backoffMs(attempt);
        await res.body?.cancel();
        await this.sleep(wait, init.signal);
        continue;
      }
      throw await errorFrom(res);
    }
  }

  /** The API's links are paths from the service root; keep any prefix of baseUrl. */
  private urlFor(path: string): string {
    return /^https?:\/\//i.test(path) ? path : `${this.baseUrl}${path.startsWith("/") ? "" : "/"}${path}`;
  }

  private sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (!signal) return this.sleepFn(ms);
    signal.throwIfAborted();
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(abortReason(signal));
      signal.addEventListener("abort", onAbort, { once: true });
      this.sleepFn(ms).then(
        () => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        },
        (err) => {
          signal.removeEventListener("abort", onAbort);
          reject(err);
        },
      );
    });
  }
}

// ── URLs ────────────────────────────────────────────────────────────────

/** Builds a query by hand: the API's keys (`page[size]`) read best unescaped. */
function withQuery(path: string, params: Record<string, string | number | undefined>): string {
  const pairs = Object.entries(params)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v)).replace(/%2C/gi, ",")}`);
  return pairs.length ? `${path}?${pairs.join("&")}` : path;
}

function jobPath(id: string, opts: GetJobOptions): string {
  return withQuery(`${BASE}/${encodeURIComponent(id)}`, {
    "page[size]": opts.pageSize,
    "page[after]": opts.after,
    "page[before]": opts.before,
    include: opts.details ? "details" : undefined,
  });
}

function isoOf(when: Date | string | undefined): string | undefined {
  return when instanceof Date ? when.toISOString() : when;
}

function idempotencyHeader(opts: CreateOptions): Record<string, string> {
  return opts.idempotencyKey === undefined ? {} : { "idempotency-key": opts.idempotencyKey };
}

function mimeFor(filename: string): string {
  const ext = filename.toLowerCase().split(".").pop();
  if (ext === "csv") return "text/csv";
  if (ext === "xlsx") return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
  if (ext === "xls") return "application/vnd.ms-excel";
  return "application/octet-stream";
}
