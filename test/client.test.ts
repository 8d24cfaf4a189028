import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  type EmailValidation,
  type FetchLike,
  MailvetClient,
  MailvetError,
  retryAfterMs,
} from "../src/client/index";
import { newAccount } from "./helpers";

// The client against the real worker: its fetch goes to exports.default.

const BASE_URL = "http://mailvet.test";

interface Call {
  method: string;
  url: string;
  status: number;
  retryAfter: string | null;
}

/** A fetch that reaches the worker under test and records every exchange. */
function recordingFetch(intercept?: (call: number) => Response | undefined) {
  const calls: Call[] = [];
  const fetch: FetchLike = async (input, init) => {
    const method = init?.method ?? "GET";
    const res =
      intercept?.(calls.length) ?? (await exports.default.fetch(new Request(new URL(input, BASE_URL), init)));
    calls.push({ method, url: input, status: res.status, retryAfter: res.headers.get("retry-after") });
    return res;
  };
  return { fetch, calls };
}

/** A sleep that notes what was asked and waits only briefly, so tests never sit out a Retry-After. */
function recordingSleep() {
  const delays: number[] = [];
  const sleep = async (ms: number) => {
    delays.push(ms);
    await new Promise((r) => setTimeout(r, 25));
  };
  return { sleep, delays };
}

async function setup(intercept?: (call: number) => Response | undefined) {
  const { key } = await newAccount("client");
  const recorder = recordingFetch(intercept);
  const sleeper = recordingSleep();
  const client = new MailvetClient({
    baseUrl: BASE_URL,
    apiKey: key,
    fetch: recorder.fetch,
    sleep: sleeper.sleep,
  });
  return { key, client, calls: recorder.calls, delays: sleeper.delays };
}

async function rejection(promise: Promise<unknown>): Promise<MailvetError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MailvetError);
  return err as MailvetError;
}

async function text(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

const MAILBOXES = ["alice", "bob", "carol", "info", "admin", "sales"];

describe("jobs from a list", () => {
  it("creates, waits as Retry-After asks, and pages every result once in input order", async () => {
    const { client, calls, delays } = await setup();
    // 23 distinct addresses: the six real mailboxes spread among unknown ones (550).
    const emails = Array.from({ length: 23 }, (_, i) => MAILBOXES[i / 4] ?? `u${i}@normal.test`).map((e) =>
      e.includes("@") ? e : `${e}@normal.test`,
    );
    const created = await client.createJob(emails, { label: "client test" });
    expect(created).toMatchObject({ object: "email_validation", status: "queued" });

    const seen: EmailValidation[] = [];
    const done = await client.waitForJob(created.id, { onProgress: (job) => seen.push(job) });
    expect(done.status).toBe("completed");
    expect(done).toMatchObject({ label: "client test", total: 23 });
    expect(done.counts).toMatchObject({ processed: 23, undeliverable: 17 });
    expect(seen.length).toBeGreaterThanOrEqual(1);
    expect(seen[seen.length - 1]).toEqual(done);
    for (const job of seen) expect(job.counts).toBeDefined();

    // Each poll that was not the last waited exactly what its Retry-After said.
    const polls = calls.filter((c) => c.method === "GET");
    expect(polls).toHaveLength(seen.length);
    expect(delays.length).toBeGreaterThanOrEqual(1);
    expect(delays).toEqual(polls.slice(0, -1).map((c) => Number(c.retryAfter) * 1000));
    expect(polls[polls.length - 1]!.retryAfter).toBeNull();
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(1000);

    const before = calls.length;
    const results = [];
    for await (const r of client.results(created.id, { pageSize: 5 })) results.push(r);
    expect(results.map((r) => r.email)).toEqual(emails);
    expect(calls.length - before).toBe(5);
    expect(calls[before]!.url).toContain("page[size]=5");
    const refused = results.filter((r) => r.result === "undeliverable").map((r) => r.email);
    expect(refused).toEqual(emails.filter((e) => e.startsWith("u")));
    for (const r of results)
      expect(Object.keys(r).sort()).toEqual(["catch_all", "email", "object", "result"]);
  });

  it("reads one page with a cursor and details", async () => {
    const { client } = await setup();
    const job = await client.createJob([
      "alice@normal.test",
      { email: "bob@normal.test", name: "Bob" },
      "u9@normal.test",
    ]);
    await client.waitForJob(job.id);
    const page = await client.getJob(job.id, { pageSize: 1, after: "alice@normal.test", details: true });
    expect(page.results.map((r) => [r.email, r.result, r.reason])).toEqual([
      ["bob@normal.test", "deliverable", "accepted"],
    ]);
    expect(page._links.next?.href).toContain("page[after]=bob%40normal.test");
    expect(page._links.prev?.href).toContain("page[before]=bob%40normal.test");
    const back = await client.getJob(job.id, { pageSize: 1, before: "bob@normal.test" });
    expect(back.results.map((r) => r.email)).toEqual(["alice@normal.test"]);
  });

  it("schedules a start and creates once per Idempotency-Key", async () => {
    const { client } = await setup();
    const startAt = new Date(Date.now() + 3_600_000);
    startAt.setMilliseconds(0);
    const opts = { startAt, idempotencyKey: `client-${crypto.randomUUID()}` };
    const first = await client.createJob(["alice@normal.test"], opts);
    const again = await client.createJob(["alice@normal.test"], opts);
    expect(again.id).toBe(first.id);
    const job = await client.getJob(first.id, { details: true });
    expect(job).toMatchObject({ status: "queued", start_at: startAt.toISOString() });
    const reused = await rejection(client.createJob(["bob@normal.test"], opts));
    expect(reused).toMatchObject({ status: 422, code: "idempotency_key_reused" });
    await client.cancel(first.id);
  });

  it("reports a refused request with the envelope's words and pointer", async () => {
    const { client } = await setup();
    const err = await rejection(client.createJob([]));
    expect(err.status).toBe(400);
    expect(err.errors[0]?.source?.pointer).toBe("/emails");
    expect(err.message).toContain("Send at least one email.");
    expect(err.message).toContain("(HTTP 400)");
  });
});

describe("uploads and downloads", () => {
  const CSV = "email,name\nalice@normal.test,Alice\nzed@normal.test,Zed\ncarol@normal.test,Carol\n";

  it("uploads a CSV file and downloads filtered CSV and NDJSON", async () => {
    const { client } = await setup();
    const job = await client.uploadFile(new TextEncoder().encode(CSV), "people.csv", { label: "upload" });
    const done = await client.waitForJob(job.id);
    expect(done).toMatchObject({ status: "completed", label: "upload", source: "file", total: 3 });

    const csv = await text(await client.download(job.id, { result: ["deliverable"], format: "csv" }));
    const lines = csv.trim().split(/\r?\n/);
    expect(lines[0]).toMatch(/^email,result,catch_all,.*,name$/);
    expect(lines.slice(1).map((l) => l.split(",")[0])).toEqual(["alice@normal.test", "carol@normal.test"]);
    expect(lines[1]).toMatch(/,Alice$/);

    const ndjson = await text(
      await client.download(job.id, { result: ["undeliverable", "risky"], format: "ndjson" }),
    );
    const rows = ndjson
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { email: string; result: string; input: { name: string } });
    expect(rows.map((r) => [r.email, r.result, r.input.name])).toEqual([
      ["zed@normal.test", "undeliverable", "Zed"],
    ]);
  });

  it("uploads a Blob as well", async () => {
    const { client } = await setup();
    const job = await client.uploadFile(new Blob([CSV], { type: "text/csv" }), "people.csv");
    const done = await client.waitForJob(job.id);
    expect(done).toMatchObject({ status: "completed", total: 3, label: null });
  });

  it("refuses an unknown result class", async () => {
    const { client } = await setup();
    const job = await client.createJob(["alice@normal.test"]);
    const err = await rejection(client.download(job.id, { result: ["good"] }));
    expect(err).toMatchObject({ status: 400, code: "invalid_parameter" });
    expect(err.errors[0]?.source?.pointer).toBe("/result");
  });
});

describe("the account's jobs", () => {
  it("lists every job, newest first, across pages", async () => {
    const { client, calls } = await setup();
    const ids: string[] = [];
    for (const e of ["alice", "bob", "carol"]) ids.push((await client.createJob([`${e}@normal.test`])).id);
    const before = calls.length;
    const listed: EmailValidation[] = [];
    for await (const job of client.listJobs({ pageSize: 2, details: true })) listed.push(job);
    expect(listed.map((j) => j.id)).toEqual([...ids].reverse());
    expect(calls.length - before).toBe(2);
    for (const job of listed) expect(job.total).toBe(1);

    const plain: EmailValidation[] = [];
    for await (const job of client.listJobs()) plain.push(job);
    expect(plain.map((j) => j.id)).toEqual([...ids].reverse());
    expect(plain[0]).not.toHaveProperty("total");
  });

  it("pauses, resumes and cancels a job, then refuses to cancel it twice", async () => {
    const { client } = await setup();
    const job = await client.createJob(["g1@greylist.test", "g2@greylist.test"]);
    const paused = await client.pause(job.id);
    expect(paused).toMatchObject({ id: job.id, status: "processing", paused: true });
    const resumed = await client.resume(job.id);
    // Paused before it started, the job resumes into the queue.
    expect(resumed.paused).toBe(false);
    expect(["queued", "processing"]).toContain(resumed.status);
    const canceled = await client.cancel(job.id);
    expect(canceled.status).toBe("canceled");
    const again = await rejection(client.cancel(job.id));
    expect(again).toMatchObject({ status: 400, code: "already_terminal" });
    expect(again.message).toContain("Cannot cancel job in 'canceled' status");
  });

  it("deletes a job, which then is not found", async () => {
    const { client } = await setup();
    const job = await client.createJob(["alice@normal.test"]);
    await client.waitForJob(job.id);
    await client.deleteJob(job.id);
    const err = await rejection(client.getJob(job.id));
    expect(err).toMatchObject({ status: 404, code: "not_found" });
    expect(err.message).toContain("Could not find email validation.");
  });

  it("stops waiting when the signal aborts", async () => {
    const { client } = await setup();
    const job = await client.createJob(["g3@greylist.test"]);
    const stop = new AbortController();
    const waiting = client.waitForJob(job.id, { signal: stop.signal, onProgress: () => stop.abort() });
    await expect(waiting).rejects.toMatchObject({ name: "AbortError" });
    await client.cancel(job.id);
  });
});

describe("auth and retries", () => {
  it("throws a 401 MailvetError for a bad key", async () => {
    const client = new MailvetClient({
      baseUrl: BASE_URL,
      apiKey: "mv_not-a-key",
      fetch: recordingFetch().fetch,
    });
    const err = await rejection(client.listJobs().next());
    expect(err).toMatchObject({ status: 401, code: "unauthorized" });
    expect(err.message).toContain("Invalid API key.");
  });

  const tooMany = () =>
    new Response(
      JSON.stringify({
        _errors: [{ code: "rate_limited", title: "Too Many Requests", detail: "Slow down." }],
        object: "error",
      }),
      { status: 429, headers: { "content-type": "application/json", "retry-after": "1" } },
    );

  it("retries a 429 after the Retry-After it carries", async () => {
    const { client, calls, delays } = await setup((n) => (n === 0 ? tooMany() : undefined));
    const job = await client.createJob(["alice@normal.test"]);
    expect(job.status).toBe("queued");
    expect(calls.map((c) => [c.method, c.status])).toEqual([
      ["POST", 429],
      ["POST", 202],
    ]);
    expect(delays).toEqual([1000]);
  });

  it("gives up after maxRetries and reports the 429", async () => {
    const { key } = await newAccount("client");
    const recorder = recordingFetch(() => tooMany());
    const sleeper = recordingSleep();
    const client = new MailvetClient({
      baseUrl: BASE_URL,
      apiKey: key,
      fetch: recorder.fetch,
      sleep: sleeper.sleep,
      maxRetries: 2,
    });
    const err = await rejection(client.getJob("whatever"));
    expect(err).toMatchObject({ status: 429, code: "rate_limited" });
    expect(recorder.calls).toHaveLength(3);
    expect(sleeper.delays).toEqual([1000, 1000]);
  });

  it("backs off on a 503 without Retry-After", async () => {
    const unavailable = () => new Response("busy", { status: 503 });
    const { client, delays } = await setup((n) => (n < 2 ? unavailable() : undefined));
    await client.createJob(["alice@normal.test"]);
    expect(delays).toHaveLength(2);
    expect(delays[0]).toBeGreaterThanOrEqual(250);
    expect(delays[0]).toBeLessThanOrEqual(500);
    expect(delays[1]).toBeGreaterThanOrEqual(500);
    expect(delays[1]).toBeLessThanOrEqual(1000);
  });

  it("reads Retry-After as seconds or as a date", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(retryAfterMs("3", now)).toBe(3000);
    expect(retryAfterMs("Thu, 01 Jan 2026 00:00:05 GMT", now)).toBe(5000);
    expect(retryAfterMs("Wed, 31 Dec 2025 23:59:00 GMT", now)).toBe(0);
    expect(retryAfterMs(null)).toBeNull();
    expect(retryAfterMs("soon")).toBeNull();
  });
});
