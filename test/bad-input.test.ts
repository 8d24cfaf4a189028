import { env } from "cloudflare:workers";
import * as XLSX from "@e965/xlsx";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { jobStub } from "../src/job/stub";
import { ADMIN, api, expectConforms, getJob, json, newAccount, waitForJob } from "./helpers";

// Malformed requests against every endpoint of both families, table-driven.
// Every row says what it sends and the exact 4xx it expects; for every row the
// runner also checks the envelope of the row's family, that nothing answered
// 5xx, and that nothing changed: the account's job count in D1, each prepared
// job (read again with include=details), its result rows, the account's
// webhook endpoints, its job secret and its stored idempotency keys.

type Auth = Record<string, string>;
type BodyValue = string | Uint8Array | FormData | ReadableStream<Uint8Array>;

interface Case {
  name: string;
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** May name a prepared job ({completed}, {canceled}, {queued}, {paused}, {errored}), {unknown}, {endpoint}, {key}, {admin}. */
  path: string;
  /** Sent as they are after placeholder substitution; without `authorization` the row's key goes as a Bearer token. */
  headers?: Record<string, string>;
  /** No Authorization header at all (the path may still carry ?apiKey=). */
  anonymous?: boolean;
  /** A JSON body, sent with content-type application/json. */
  json?: unknown;
  /** Any other body; a function builds it afresh for the request. */
  body?: BodyValue | (() => BodyValue);
  status: number;
  /** Canonical family: the first error's code. Compat family (/v1/…): leave out; the body must be {"error": string}. */
  code?: string;
  pointer?: string;
  /** Compat family: the exact error text, when it is part of the contract. */
  error?: string;
  /** Admin rows: an account that must still have no keys afterwards. */
  noKeysFor?: string;
}

interface Fixtures {
  account: string;
  auth: Auth;
  jobs: Record<"completed" | "canceled" | "queued" | "paused" | "errored", string>;
  endpoint: string;
}

let fx: Fixtures;

const UNKNOWN_ID = "019e8e97-214c-782c-bf1a-5f04ef81ddd1";
const receiver = `http://127.0.0.1:${inject("webhookPort")}`;
const bearer = (key: string): Auth => ({ authorization: `Bearer ${key}` });

async function newKey(account: string): Promise<string> {
  const res = await api(`/admin/accounts/${account}/keys`, { method: "POST", headers: ADMIN });
  expect(res.status).toBe(201);
  return ((await res.json()) as { key: string }).key;
}

function fill(text: string, key: string): string {
  return text
    .replaceAll("{completed}", fx.jobs.completed)
    .replaceAll("{canceled}", fx.jobs.canceled)
    .replaceAll("{queued}", fx.jobs.queued)
    .replaceAll("{paused}", fx.jobs.paused)
    .replaceAll("{errored}", fx.jobs.errored)
    .replaceAll("{unknown}", UNKNOWN_ID)
    .replaceAll("{endpoint}", fx.endpoint)
    .replaceAll("{key}", key)
    .replaceAll("{admin}", String(env.ADMIN_TOKEN));
}

async function count(sql: string, ...args: string[]): Promise<number> {
  const row = await env.DB.prepare(sql)
    .bind(...args)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** Everything a malformed request must leave as it was, read through the API and from D1. */
async function observe(auth: Auth) {
  const ids = Object.values(fx.jobs);
  const [jobs, endpoints, resultRows, secret, jobCount, idempotencyKeys] = await Promise.all([
    Promise.all(
      ids.map(async (id) => {
        const { res, body } = await getJob(auth, `/email-validations/${id}?include=details&page[size]=1000`);
        expect(res.status).toBe(200);
        return body;
      }),
    ),
    api("/webhook-endpoints", { headers: auth }).then((r) => r.json()),
    Promise.all(ids.map((id) => count("SELECT COUNT(*) AS n FROM results WHERE job_id = ?", id))),
    env.DB.prepare("SELECT secret FROM account_webhook_secrets WHERE account_id = ?")
      .bind(fx.account)
      .first<{ secret: string }>(),
    count("SELECT COUNT(*) AS n FROM jobs WHERE account_id = ?", fx.account),
    count("SELECT COUNT(*) AS n FROM idempotency_keys WHERE account_id = ?", fx.account),
  ]);
  return { jobCount, jobs, resultRows, endpoints, jobSecret: secret?.secret ?? null, idempotencyKeys };
}

// ── Bodies ───────────────────────────────────────────────────────────────

const OK_EMAILS = { emails: ["alice@normal.test"] };
const TEN_KB_EMAIL = `${"a".repeat(10_000)}@normal.test`;
const SOON_NO_ZONE = () => new Date(Date.now() + 86_400_000).toISOString().slice(0, 19);
const TOO_FAR = () => new Date(Date.now() + 40 * 86_400_000).toISOString();
const OVER_CAP = () => "x".repeat(Number(env.MAX_BODY_BYTES) + 10);

let manyEmails: string | undefined;
/** 100,001 addresses: about 2 MB, under the body cap, over the job cap. */
const hundredThousandAndOne = () =>
  (manyEmails ??= JSON.stringify({
    emails: Array.from({ length: 100_001 }, (_, i) => `u${i}@normal.test`),
  }));

let manyRows: string | undefined;
const csvOf100001 = () =>
  (manyRows ??= `email\n${Array.from({ length: 100_001 }, (_, i) => `u${i}@normal.test`).join("\n")}\n`);

function form(fields: Record<string, string | Blob>, filename = "list.csv"): () => FormData {
  return () => {
    const f = new FormData();
    for (const [k, v] of Object.entries(fields)) {
      if (typeof v === "string") f.append(k, v);
      else f.append(k, v, filename);
    }
    return f;
  };
}

const bytes = (...b: number[]) => new Uint8Array(b);
const GARBAGE = bytes(0, 1, 2, 255, 0, 7, 0, 0, 0xfe, 0x80);
const BROKEN_ZIP = bytes(0x50, 0x4b, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8);
const BROKEN_OLE2 = bytes(0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0, 0);
const csv = (text: string) => new Blob([text], { type: "text/csv" });
const noContentType = (text: string) => new TextEncoder().encode(text);
/** A body over the cap without a Content-Length: the limit must hold while streaming too. */
const streamOverCap = (prefix: string) => () =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(`${prefix}${OVER_CAP()}`));
      controller.close();
    },
  });
function xlsxOf(rows: unknown[][]): Blob {
  const wb = XLSX.utils.book_new();
  XLSX.utils.book_append_sheet(wb, XLSX.utils.aoa_to_sheet(rows), "List");
  return new Blob([new Uint8Array(XLSX.write(wb, { type: "array", bookType: "xlsx" }))]);
}

// ── The matrix ───────────────────────────────────────────────────────────

const EV = "/email-validations";
const V1 = "/v1/email/validate";

// biome-ignore format: one row per line
const createCases: Case[] = [
  // malformed and truncated JSON
  { name: "truncated JSON", method: "POST", path: EV, body: '{"emails": [', headers: { "content-type": "application/json" }, status: 400, code: "invalid_json", pointer: "" },
  { name: "malformed JSON (single quotes)", method: "POST", path: EV, body: "{'emails': ['a@normal.test']}", headers: { "content-type": "application/json" }, status: 400, code: "invalid_json" },
  { name: "empty JSON body", method: "POST", path: EV, body: "", headers: { "content-type": "application/json" }, status: 400, code: "invalid_json" },
  { name: "JSON body cut after a string", method: "POST", path: EV, body: '{"emails": ["alice@normal.test"', headers: { "content-type": "application/json" }, status: 400, code: "invalid_json" },
  { name: "JSON null body", method: "POST", path: EV, json: null, status: 400, code: "invalid_type", pointer: "" },
  { name: "JSON array body", method: "POST", path: EV, json: ["alice@normal.test"], status: 400, code: "invalid_type", pointer: "" },
  { name: "deeply nested JSON", method: "POST", path: EV, body: `${"[".repeat(50_000)}${"]".repeat(50_000)}`, headers: { "content-type": "application/json" }, status: 400 , code: "invalid_type" },
  // wrong content types
  { name: "text/plain body", method: "POST", path: EV, body: JSON.stringify(OK_EMAILS), headers: { "content-type": "text/plain" }, status: 415, code: "unsupported_media_type" },
  { name: "form-urlencoded body", method: "POST", path: EV, body: "emails=alice%40normal.test", headers: { "content-type": "application/x-www-form-urlencoded" }, status: 415, code: "unsupported_media_type" },
  { name: "no content type", method: "POST", path: EV, body: () => noContentType(JSON.stringify(OK_EMAILS)), status: 415, code: "unsupported_media_type" },
  { name: "application/xml body", method: "POST", path: EV, body: "<emails/>", headers: { "content-type": "application/xml" }, status: 415, code: "unsupported_media_type" },
  { name: "application/jsonx body", method: "POST", path: EV, body: JSON.stringify(OK_EMAILS), headers: { "content-type": "application/jsonx" }, status: 415, code: "unsupported_media_type" },
  { name: "multipart without a boundary", method: "POST", path: EV, body: "--x\r\n", headers: { "content-type": "multipart/form-data" }, status: 400, code: "invalid_value" },
  // wrong types
  { name: "emails as an object", method: "POST", path: EV, json: { emails: { 0: "alice@normal.test" } }, status: 400, code: "invalid_type", pointer: "/emails" },
  { name: "emails as a number", method: "POST", path: EV, json: { emails: 42 }, status: 400, code: "invalid_type", pointer: "/emails" },
  { name: "emails null", method: "POST", path: EV, json: { emails: null }, status: 400, code: "invalid_type", pointer: "/emails" },
  { name: "emails missing", method: "POST", path: EV, json: { label: "x" }, status: 400, code: "missing_field", pointer: "/emails" },
  { name: "emails empty", method: "POST", path: EV, json: { emails: [] }, status: 400, code: "invalid_value", pointer: "/emails" },
  { name: "an entry that is null", method: "POST", path: EV, json: { emails: [null] }, status: 400, code: "invalid_value", pointer: "/emails/0" },
  { name: "an entry object with a nested value", method: "POST", path: EV, json: { emails: [{ email: "alice@normal.test", meta: { a: 1 } }] }, status: 400, code: "invalid_value", pointer: "/emails/0" },
  { name: "an entry object without email", method: "POST", path: EV, json: { emails: [{ Email: "alice@normal.test" }] }, status: 400, code: "invalid_value", pointer: "/emails/0" },
  { name: "an entry object with an extra value over 1000 characters", method: "POST", path: EV, json: { emails: [{ email: "alice@normal.test", note: "n".repeat(1001) }] }, status: 400, code: "invalid_value", pointer: "/emails/0/note" },
  { name: "label as a number", method: "POST", path: EV, json: { ...OK_EMAILS, label: 7 }, status: 400, code: "invalid_type", pointer: "/label" },
  { name: "label over 200 characters", method: "POST", path: EV, json: { ...OK_EMAILS, label: "l".repeat(201) }, status: 400, code: "invalid_value", pointer: "/label" },
  { name: "100,001 addresses", method: "POST", path: EV, body: hundredThousandAndOne, headers: { "content-type": "application/json" }, status: 400, code: "too_many_entries", pointer: "/emails" },
  { name: "a body over the 4 MiB cap", method: "POST", path: EV, body: () => JSON.stringify({ emails: [OVER_CAP()] }), headers: { "content-type": "application/json" }, status: 413, code: "body_too_large" },
  { name: "a streamed body over the cap (no Content-Length)", method: "POST", path: EV, body: streamOverCap('{"emails":["'), headers: { "content-type": "application/json" }, status: 413, code: "body_too_large" },
  // dangerous addresses
  { name: "an email with CR", method: "POST", path: EV, json: { emails: ["alice@normal.test\r"] }, status: 400, code: "invalid_value", pointer: "/emails/0" },
  { name: "an email with LF", method: "POST", path: EV, json: { emails: ["alice\n@normal.test"] }, status: 400, code: "invalid_value", pointer: "/emails/0" },
  { name: "an email with CRLF and an SMTP command", method: "POST", path: EV, json: { emails: ["alice@normal.test", "a@normal.test>\r\nRCPT TO:<victim@normal.test"] }, status: 400, code: "invalid_value", pointer: "/emails/1" },
  { name: "an email with NUL", method: "POST", path: EV, json: { emails: ["alice\u0000@normal.test"] }, status: 400, code: "invalid_value", pointer: "/emails/0" },
  { name: "an entry object whose email has CRLF", method: "POST", path: EV, json: { emails: [{ email: "a@normal.test\r\nQUIT" }] }, status: 400, code: "invalid_value", pointer: "/emails/0/email" },
  // A lone surrogate cannot be stored as UTF-8: refused like control characters, not mangled into U+FFFD.
  { name: "an email with a lone surrogate", method: "POST", path: EV, json: { emails: ["alice@normal.test", "\ud800@normal.test"] }, status: 400, code: "invalid_value", pointer: "/emails/1" },
  { name: "an entry object whose email has a lone surrogate", method: "POST", path: EV, json: { emails: [{ email: "bob\udfff@normal.test" }] }, status: 400, code: "invalid_value", pointer: "/emails/0/email" },
  { name: "a 10 KB email", method: "POST", path: EV, json: { emails: [TEN_KB_EMAIL] }, status: 400, code: "invalid_value", pointer: "/emails/0" },
  { name: "an empty email", method: "POST", path: EV, json: { emails: [""] }, status: 400, code: "invalid_value", pointer: "/emails/0" },
  // unknown fields
  { name: "an unknown top-level field", method: "POST", path: EV, json: { ...OK_EMAILS, priority: "high" }, status: 400, code: "unknown_field", pointer: "/priority" },
  { name: "a __proto__ top-level field", method: "POST", path: EV, body: '{"emails":["alice@normal.test"],"__proto__":{"admin":true}}', headers: { "content-type": "application/json" }, status: 400, code: "unknown_field" },
  // start_at and webhook_url
  { name: "start_at not a date", method: "POST", path: EV, json: { ...OK_EMAILS, start_at: "tomorrow" }, status: 400, code: "invalid_value", pointer: "/start_at" },
  { name: "start_at an impossible date", method: "POST", path: EV, json: { ...OK_EMAILS, start_at: "2026-13-45T00:00:00Z" }, status: 400, code: "invalid_value", pointer: "/start_at" },
  { name: "start_at without a time zone", method: "POST", path: EV, json: { ...OK_EMAILS, start_at: "{soon-no-zone}" }, status: 400, code: "invalid_value", pointer: "/start_at" },
  { name: "start_at 40 days ahead", method: "POST", path: EV, json: { ...OK_EMAILS, start_at: "{too-far}" }, status: 400, code: "invalid_value", pointer: "/start_at" },
  { name: "start_at as a number", method: "POST", path: EV, json: { ...OK_EMAILS, start_at: 1_900_000_000 }, status: 400, code: "invalid_type", pointer: "/start_at" },
  { name: "webhook_url not a URL", method: "POST", path: EV, json: { ...OK_EMAILS, webhook_url: "not a url" }, status: 400, code: "invalid_value", pointer: "/webhook_url" },
  { name: "webhook_url to a private address", method: "POST", path: EV, json: { ...OK_EMAILS, webhook_url: "http://10.0.0.1/hook" }, status: 400, code: "invalid_value", pointer: "/webhook_url" },
  { name: "webhook_url to cloud metadata", method: "POST", path: EV, json: { ...OK_EMAILS, webhook_url: "http://169.254.169.254/latest/meta-data" }, status: 400, code: "invalid_value", pointer: "/webhook_url" },
  { name: "webhook_url with an ftp scheme", method: "POST", path: EV, json: { ...OK_EMAILS, webhook_url: "ftp://127.0.0.1/hook" }, status: 400, code: "invalid_value", pointer: "/webhook_url" },
  { name: "webhook_url to an IPv4-mapped private address", method: "POST", path: EV, json: { ...OK_EMAILS, webhook_url: "http://[::ffff:10.0.0.1]/x" }, status: 400, code: "invalid_value", pointer: "/webhook_url" },
  { name: "webhook_url to a hex-encoded private address", method: "POST", path: EV, json: { ...OK_EMAILS, webhook_url: "http://0x0a000001/x" }, status: 400, code: "invalid_value", pointer: "/webhook_url" },
  { name: "webhook_url to a unique-local IPv6 address", method: "POST", path: EV, json: { ...OK_EMAILS, webhook_url: "http://[fd00::1]/x" }, status: 400, code: "invalid_value", pointer: "/webhook_url" },
  { name: "webhook_url to 0.0.0.0", method: "POST", path: EV, json: { ...OK_EMAILS, webhook_url: "http://0.0.0.0/x" }, status: 400, code: "invalid_value", pointer: "/webhook_url" },
  { name: "webhook_url to a name that does not resolve", method: "POST", path: EV, json: { ...OK_EMAILS, webhook_url: "https://nxdomain.test/x" }, status: 400, code: "invalid_value", pointer: "/webhook_url" },
  { name: "webhook_url with credentials", method: "POST", path: EV, json: { ...OK_EMAILS, webhook_url: `${receiver.replace("//", "//user:pw@")}/ok/x` }, status: 400, code: "invalid_value", pointer: "/webhook_url" },
  { name: "webhook_url over 2048 characters", method: "POST", path: EV, json: { ...OK_EMAILS, webhook_url: `${receiver}/ok/${"p".repeat(2100)}` }, status: 400, code: "invalid_value", pointer: "/webhook_url" },
  { name: "webhook_url null", method: "POST", path: EV, json: { ...OK_EMAILS, webhook_url: null }, status: 400, code: "invalid_type", pointer: "/webhook_url" },
  // idempotency keys
  { name: "an Idempotency-Key over 255 characters", method: "POST", path: EV, json: OK_EMAILS, headers: { "idempotency-key": "k".repeat(256) }, status: 400, code: "invalid_parameter", pointer: "/Idempotency-Key" },
  { name: "an empty Idempotency-Key", method: "POST", path: EV, json: OK_EMAILS, headers: { "idempotency-key": "" }, status: 400, code: "invalid_parameter", pointer: "/Idempotency-Key" },
  { name: "an Idempotency-Key with a space", method: "POST", path: EV, json: OK_EMAILS, headers: { "idempotency-key": "order 42" }, status: 400, code: "invalid_parameter", pointer: "/Idempotency-Key" },
  { name: "an Idempotency-Key with a tab", method: "POST", path: EV, json: OK_EMAILS, headers: { "idempotency-key": "order\t42" }, status: 400, code: "invalid_parameter", pointer: "/Idempotency-Key" },
  { name: "an Idempotency-Key with a Latin-1 letter", method: "POST", path: EV, json: OK_EMAILS, headers: { "idempotency-key": "caf\u00e9" }, status: 400, code: "invalid_parameter", pointer: "/Idempotency-Key" },
  { name: "a fresh Idempotency-Key on a body with a bad webhook_url", method: "POST", path: EV, json: { ...OK_EMAILS, webhook_url: "http://10.0.0.1/x" }, headers: { "idempotency-key": "fresh-1" }, status: 400, code: "invalid_value", pointer: "/webhook_url" },
  { name: "a fresh Idempotency-Key on 100,001 addresses", method: "POST", path: EV, body: hundredThousandAndOne, headers: { "content-type": "application/json", "idempotency-key": "fresh-2" }, status: 400, code: "too_many_entries", pointer: "/emails" },
  { name: "a fresh Idempotency-Key on a corrupt upload", method: "POST", path: EV, body: form({ file: new Blob([BROKEN_ZIP]) }, "list.xlsx"), headers: { "idempotency-key": "fresh-3" }, status: 400, code: "corrupt_file", pointer: "/file" },
  { name: "an Idempotency-Key reused with another body", method: "POST", path: EV, json: { emails: ["carol@normal.test"] }, headers: { "idempotency-key": "fixture-order-1" }, status: 422, code: "idempotency_key_reused", pointer: "/Idempotency-Key" },
  // multipart uploads on the canonical create
  { name: "multipart: no file field", method: "POST", path: EV, body: form({ label: "x" }), status: 400, code: "missing_field", pointer: "/file" },
  { name: "multipart: binary garbage as CSV", method: "POST", path: EV, body: form({ file: new Blob([GARBAGE]) }), status: 400, code: "corrupt_file", pointer: "/file" },
  { name: "multipart: a corrupt XLSX", method: "POST", path: EV, body: form({ file: new Blob([BROKEN_ZIP]) }, "list.xlsx"), status: 400, code: "corrupt_file", pointer: "/file" },
  { name: "multipart: a corrupt XLS", method: "POST", path: EV, body: form({ file: new Blob([BROKEN_OLE2]) }, "list.xls"), status: 400, code: "corrupt_file", pointer: "/file" },
  { name: "multipart: an empty CSV", method: "POST", path: EV, body: form({ file: csv("") }), status: 400, code: "empty_file", pointer: "/file" },
  { name: "multipart: a CSV without an email column", method: "POST", path: EV, body: form({ file: csv("name,city\nBob,Paris\n") }), status: 400, code: "no_email_column", pointer: "/file" },
  { name: "multipart: a CSV with only a header", method: "POST", path: EV, body: form({ file: csv("email\n") }), status: 400, code: "empty_file", pointer: "/file" },
  { name: "multipart: an XLSX without an email column", method: "POST", path: EV, body: form({ file: xlsxOf([["name", "city"], ["Bob", "Paris"]]) }, "list.xlsx"), status: 400, code: "no_email_column", pointer: "/file" },
  { name: "multipart: a CSV with a NUL in an email", method: "POST", path: EV, body: form({ file: csv("email\nalice\u0000@normal.test\n") }), status: 400, code: "corrupt_file", pointer: "/file" },
  { name: "multipart: a CSV with a 10 KB email", method: "POST", path: EV, body: form({ file: csv(`email\n${TEN_KB_EMAIL}\n`) }), status: 400, code: "invalid_value", pointer: "/file" },
  { name: "multipart: a CSV of 100,001 rows", method: "POST", path: EV, body: () => form({ file: csv(csvOf100001()) })(), status: 400, code: "too_many_entries", pointer: "/file" },
  { name: "multipart: a bad start_at", method: "POST", path: EV, body: form({ file: csv("email\nalice@normal.test\n"), start_at: "next week" }), status: 400, code: "invalid_value", pointer: "/start_at" },
  { name: "multipart: a private webhook_url", method: "POST", path: EV, body: form({ file: csv("email\nalice@normal.test\n"), webhook_url: "http://192.168.1.1/x" }), status: 400, code: "invalid_value", pointer: "/webhook_url" },
  { name: "multipart: a file over the 4 MiB cap", method: "POST", path: EV, body: () => form({ file: csv(`email\n${OVER_CAP()}@normal.test\n`) })(), status: 413, code: "body_too_large" },
];

// biome-ignore format: one row per line
const listCases: Case[] = [
  { name: "list: page[size]=0", method: "GET", path: `${EV}?page[size]=0`, status: 400, code: "invalid_parameter", pointer: "/page[size]" },
  { name: "list: page[size]=-1", method: "GET", path: `${EV}?page[size]=-1`, status: 400, code: "invalid_parameter", pointer: "/page[size]" },
  { name: "list: page[size]=1001", method: "GET", path: `${EV}?page[size]=1001`, status: 400, code: "invalid_parameter", pointer: "/page[size]" },
  { name: "list: page[size]=1.5", method: "GET", path: `${EV}?page[size]=1.5`, status: 400, code: "invalid_parameter", pointer: "/page[size]" },
  { name: "list: page[size]=abc", method: "GET", path: `${EV}?page[size]=abc`, status: 400, code: "invalid_parameter", pointer: "/page[size]" },
  { name: "list: page[size] empty", method: "GET", path: `${EV}?page[size]=`, status: 400, code: "invalid_parameter", pointer: "/page[size]" },
  { name: "list: page[size] a 400-digit number", method: "GET", path: `${EV}?page[size]=${"9".repeat(400)}`, status: 400, code: "invalid_parameter", pointer: "/page[size]" },
  { name: "list: page[size]=1e2", method: "GET", path: `${EV}?page[size]=1e2`, status: 400, code: "invalid_parameter", pointer: "/page[size]" },
  { name: "list: page[size] bad percent-encoding", method: "GET", path: `${EV}?page[size]=%FF`, status: 400, code: "invalid_parameter", pointer: "/page[size]" },
  { name: "list: page[after] not a job id", method: "GET", path: `${EV}?page[after]=alice%40normal.test`, status: 400, code: "invalid_parameter", pointer: "/page[after]" },
  { name: "list: page[after] empty", method: "GET", path: `${EV}?page[after]=`, status: 400, code: "invalid_parameter", pointer: "/page[after]" },
];

// biome-ignore format: one row per line
const jobReadCases: Case[] = [
  { name: "get: page[after] an unknown email", method: "GET", path: `${EV}/{completed}?page[after]=ghost%40normal.test`, status: 400, code: "invalid_parameter", pointer: "/page[after]" },
  { name: "get: page[before] an unknown email", method: "GET", path: `${EV}/{completed}?page[before]=ghost%40normal.test`, status: 400, code: "invalid_parameter", pointer: "/page[before]" },
  { name: "get: both page[after] and page[before]", method: "GET", path: `${EV}/{completed}?page[after]=alice%40normal.test&page[before]=nobody%40normal.test`, status: 400, code: "invalid_parameter", pointer: "/page[before]" },
  { name: "get: page[after] empty", method: "GET", path: `${EV}/{completed}?page[after]=`, status: 400, code: "invalid_parameter", pointer: "/page[after]" },
  { name: "get: page[before] empty", method: "GET", path: `${EV}/{completed}?page[before]=`, status: 400, code: "invalid_parameter", pointer: "/page[before]" },
  { name: "get: page[after] an email of another job", method: "GET", path: `${EV}/{canceled}?page[after]=alice%40normal.test`, status: 400, code: "invalid_parameter", pointer: "/page[after]" },
  { name: "get: page[size]=0", method: "GET", path: `${EV}/{completed}?page[size]=0`, status: 400, code: "invalid_parameter", pointer: "/page[size]" },
  { name: "get: page[size]=-1", method: "GET", path: `${EV}/{completed}?page[size]=-1`, status: 400, code: "invalid_parameter", pointer: "/page[size]" },
  { name: "get: page[size]=1001", method: "GET", path: `${EV}/{completed}?page[size]=1001`, status: 400, code: "invalid_parameter", pointer: "/page[size]" },
  { name: "get: page[size]=1.5", method: "GET", path: `${EV}/{completed}?page[size]=1.5`, status: 400, code: "invalid_parameter", pointer: "/page[size]" },
  { name: "get: page[size]=abc", method: "GET", path: `${EV}/{completed}?page[size]=abc`, status: 400, code: "invalid_parameter", pointer: "/page[size]" },
  { name: "get: page[size] empty", method: "GET", path: `${EV}/{completed}?page[size]=`, status: 400, code: "invalid_parameter", pointer: "/page[size]" },
  { name: "get: page[size] a 400-digit number", method: "GET", path: `${EV}/{completed}?page[size]=${"9".repeat(400)}`, status: 400, code: "invalid_parameter", pointer: "/page[size]" },
  { name: "download: format=xml", method: "GET", path: `${EV}/{completed}/download?format=xml`, status: 400, code: "invalid_parameter", pointer: "/format" },
  { name: "download: format empty", method: "GET", path: `${EV}/{completed}/download?format=`, status: 400, code: "invalid_parameter", pointer: "/format" },
  { name: "download: format=CSV (case)", method: "GET", path: `${EV}/{completed}/download?format=CSV`, status: 400, code: "invalid_parameter", pointer: "/format" },
  { name: "download: result=great", method: "GET", path: `${EV}/{completed}/download?result=great`, status: 400, code: "invalid_parameter", pointer: "/result" },
  { name: "download: result with one bad class", method: "GET", path: `${EV}/{completed}/download?result=deliverable,bogus`, status: 400, code: "invalid_parameter", pointer: "/result" },
  { name: "download: result=DELIVERABLE (case)", method: "GET", path: `${EV}/{completed}/download?result=DELIVERABLE`, status: 400, code: "invalid_parameter", pointer: "/result" },
  { name: "get: page[after] percent-encoding a lone surrogate", method: "GET", path: `${EV}/{completed}?page[after]=%ED%A0%80`, status: 400, code: "invalid_parameter", pointer: "/page[after]" },
  { name: "get: page[after] bad percent-encoding", method: "GET", path: `${EV}/{completed}?page[after]=%zz`, status: 400, code: "invalid_parameter", pointer: "/page[after]" },
  { name: "get: page[after] an SQL fragment", method: "GET", path: `${EV}/{completed}?page[after]=%27%20OR%201%3D1%20--`, status: 400, code: "invalid_parameter", pointer: "/page[after]" },
  { name: "webhook retry: a delivery id that is an SQL fragment", method: "POST", path: `${EV}/{completed}/webhook-deliveries/%27%20OR%201%3D1%20--/retry`, status: 404, code: "not_found" },
  { name: "webhook retry: an unknown delivery", method: "POST", path: `${EV}/{completed}/webhook-deliveries/dlv_nope/retry`, status: 404, code: "not_found" },
];

const patch = (path: string, body: unknown): Pick<Case, "method" | "path" | "json"> => ({
  method: "PATCH",
  path,
  json: body,
});

// biome-ignore format: one row per line
const controlCases: Case[] = [
  // bad status values
  { name: "PATCH status 'done'", ...patch(`${EV}/{queued}`, { status: "done" }), status: 400, code: "unsupported_value", pointer: "/status" },
  { name: "PATCH status 'CANCELED'", ...patch(`${EV}/{queued}`, { status: "CANCELED" }), status: 400, code: "unsupported_value", pointer: "/status" },
  { name: "PATCH status ''", ...patch(`${EV}/{queued}`, { status: "" }), status: 400, code: "unsupported_value", pointer: "/status" },
  { name: "PATCH status 123", ...patch(`${EV}/{queued}`, { status: 123 }), status: 400, code: "unsupported_value", pointer: "/status" },
  { name: "PATCH status null", ...patch(`${EV}/{queued}`, { status: null }), status: 400, code: "unsupported_value", pointer: "/status" },
  { name: "PATCH status an array", ...patch(`${EV}/{queued}`, { status: ["canceled"] }), status: 400, code: "unsupported_value", pointer: "/status" },
  { name: "PATCH status 'queued'", ...patch(`${EV}/{queued}`, { status: "queued" }), status: 400, code: "unsupported_value", pointer: "/status" },
  { name: "PATCH without status", ...patch(`${EV}/{queued}`, { state: "canceled" }), status: 400, code: "missing_field", pointer: "/status" },
  { name: "PATCH with an array body", ...patch(`${EV}/{queued}`, [{ status: "canceled" }]), status: 400, code: "invalid_type", pointer: "" },
  { name: "PATCH with a string body", ...patch(`${EV}/{queued}`, "canceled"), status: 400, code: "invalid_type", pointer: "" },
  { name: "PATCH with truncated JSON", method: "PATCH", path: `${EV}/{queued}`, body: '{"status": "canc', headers: { "content-type": "application/json" }, status: 400, code: "invalid_json" },
  { name: "PATCH with text/plain", method: "PATCH", path: `${EV}/{queued}`, body: '{"status":"canceled"}', headers: { "content-type": "text/plain" }, status: 415, code: "unsupported_media_type" },
  { name: "PATCH with no content type", method: "PATCH", path: `${EV}/{queued}`, body: () => noContentType('{"status":"canceled"}'), status: 415, code: "unsupported_media_type" },
  { name: "PATCH with form-urlencoded", method: "PATCH", path: `${EV}/{queued}`, body: "status=canceled", headers: { "content-type": "application/x-www-form-urlencoded" }, status: 415, code: "unsupported_media_type" },
  { name: "PATCH with a streamed body over the cap", method: "PATCH", path: `${EV}/{queued}`, body: streamOverCap('{"status":"'), headers: { "content-type": "application/json" }, status: 413, code: "body_too_large" },
  { name: "PATCH with a body over the cap", method: "PATCH", path: `${EV}/{queued}`, body: () => JSON.stringify({ status: "canceled", pad: OVER_CAP() }), headers: { "content-type": "application/json" }, status: 413, code: "body_too_large" },
  // transitions the state machine refuses
  { name: "PATCH cancel a completed job", ...patch(`${EV}/{completed}`, { status: "canceled" }), status: 400, code: "already_terminal", pointer: "/status" },
  { name: "PATCH pause a completed job", ...patch(`${EV}/{completed}`, { status: "paused" }), status: 400, code: "already_terminal", pointer: "/status" },
  { name: "PATCH resume a completed job", ...patch(`${EV}/{completed}`, { status: "processing" }), status: 400, code: "already_terminal", pointer: "/status" },
  { name: "PATCH cancel a canceled job", ...patch(`${EV}/{canceled}`, { status: "canceled" }), status: 400, code: "already_terminal", pointer: "/status" },
  { name: "PATCH pause a canceled job", ...patch(`${EV}/{canceled}`, { status: "paused" }), status: 400, code: "already_terminal", pointer: "/status" },
  { name: "PATCH resume a canceled job", ...patch(`${EV}/{canceled}`, { status: "processing" }), status: 400, code: "already_terminal", pointer: "/status" },
  { name: "PATCH cancel an errored job", ...patch(`${EV}/{errored}`, { status: "canceled" }), status: 400, code: "already_terminal", pointer: "/status" },
  { name: "PATCH pause an errored job", ...patch(`${EV}/{errored}`, { status: "paused" }), status: 400, code: "already_terminal", pointer: "/status" },
  { name: "PATCH resume an errored job", ...patch(`${EV}/{errored}`, { status: "processing" }), status: 400, code: "already_terminal", pointer: "/status" },
  { name: "PATCH resume a queued job", ...patch(`${EV}/{queued}`, { status: "processing" }), status: 400, code: "invalid_transition", pointer: "/status" },
  { name: "PATCH pause a paused job", ...patch(`${EV}/{paused}`, { status: "paused" }), status: 400, code: "invalid_transition", pointer: "/status" },
  { name: "PATCH /cancel a completed job", method: "PATCH", path: `${EV}/{completed}/cancel`, status: 400, code: "already_terminal" },
  { name: "PATCH /cancel a canceled job", method: "PATCH", path: `${EV}/{canceled}/cancel`, status: 400, code: "already_terminal" },
  { name: "PATCH /cancel an errored job", method: "PATCH", path: `${EV}/{errored}/cancel`, status: 400, code: "already_terminal" },
  // the compatible family's controls
  ...(["pause", "resume", "cancel"] as const).flatMap((verb) =>
    (["completed", "canceled", "errored"] as const).map(
      (state): Case => ({
        name: `compat ${verb} a ${state} job`,
        method: "POST",
        path: `${V1}/job/{${state}}/${verb}`,
        status: 400,
        error: `Cannot ${verb} job in '${state === "errored" ? "error" : state}' status`,
      }),
    ),
  ),
  { name: "compat resume a queued job", method: "POST", path: `${V1}/job/{queued}/resume`, status: 400, error: "Cannot resume job in 'queued' status" },
  { name: "compat pause a paused job", method: "POST", path: `${V1}/job/{paused}/pause`, status: 400, error: "Cannot pause job in 'paused' status" },
];

// biome-ignore format: one row per line
const compatCases: Case[] = [
  // direct validation
  { name: "validate: truncated JSON", method: "POST", path: V1, body: '{"emails": ["a@', headers: { "content-type": "application/json" }, status: 400 },
  { name: "validate: empty body", method: "POST", path: V1, body: "", headers: { "content-type": "application/json" }, status: 400 },
  { name: "validate: text/plain", method: "POST", path: V1, body: JSON.stringify(OK_EMAILS), headers: { "content-type": "text/plain" }, status: 415 },
  { name: "validate: form-urlencoded", method: "POST", path: V1, body: "email=alice%40normal.test", headers: { "content-type": "application/x-www-form-urlencoded" }, status: 415 },
  { name: "validate: no content type", method: "POST", path: V1, body: () => noContentType(JSON.stringify(OK_EMAILS)), status: 415 },
  { name: "validate: emails as an object", method: "POST", path: V1, json: { emails: { a: "alice@normal.test" } }, status: 400 },
  { name: "validate: emails as a number", method: "POST", path: V1, json: { emails: 1 }, status: 400 },
  { name: "validate: emails null", method: "POST", path: V1, json: { emails: null }, status: 400 },
  { name: "validate: email as a number", method: "POST", path: V1, json: { email: 5 }, status: 400 },
  { name: "validate: empty object", method: "POST", path: V1, json: {}, status: 400 },
  { name: "validate: 101 addresses", method: "POST", path: V1, json: { emails: Array.from({ length: 101 }, (_, i) => `u${i}@normal.test`) }, status: 400 },
  { name: "validate: 100,001 addresses", method: "POST", path: V1, body: hundredThousandAndOne, headers: { "content-type": "application/json" }, status: 400 },
  { name: "validate: an email with CRLF and an SMTP command", method: "POST", path: V1, json: { email: "a@normal.test>\r\nRCPT TO:<victim@normal.test" }, status: 400 },
  { name: "validate: an email with NUL", method: "POST", path: V1, json: { emails: ["alice\u0000@normal.test"] }, status: 400 },
  { name: "validate: an email with LF", method: "POST", path: V1, json: { emails: ["alice@normal.test\n"] }, status: 400 },
  { name: "validate: a 10 KB email", method: "POST", path: V1, json: { email: TEN_KB_EMAIL }, status: 400 },
  { name: "validate: a body over the cap", method: "POST", path: V1, body: () => JSON.stringify({ email: OVER_CAP() }), headers: { "content-type": "application/json" }, status: 413 },
  { name: "validate: a streamed body over the cap", method: "POST", path: V1, body: streamOverCap('{"email":"'), headers: { "content-type": "application/json" }, status: 413 },
  // job creation from a form
  { name: "job: JSON instead of multipart", method: "POST", path: `${V1}/job`, json: { source: "input", input: "alice@normal.test" }, status: 415 },
  { name: "job: form-urlencoded", method: "POST", path: `${V1}/job`, body: "source=input&input=alice%40normal.test", headers: { "content-type": "application/x-www-form-urlencoded" }, status: 415 },
  { name: "job: no content type", method: "POST", path: `${V1}/job`, body: () => noContentType("source=input"), status: 415 },
  { name: "job: a broken multipart body", method: "POST", path: `${V1}/job`, body: "--b\r\ngarbage", headers: { "content-type": "multipart/form-data; boundary=zzz" }, status: 400 },
  { name: "job: no source", method: "POST", path: `${V1}/job`, body: form({ input: "alice@normal.test" }), status: 400, error: "Invalid source type: use file, input, excel." },
  { name: "job: an unknown source", method: "POST", path: `${V1}/job`, body: form({ source: "hubspot", input: "alice@normal.test" }), status: 400, error: "Invalid source type: use file, input, excel." },
  { name: "job: source=input without input", method: "POST", path: `${V1}/job`, body: form({ source: "input" }), status: 400 },
  { name: "job: source=input with only separators", method: "POST", path: `${V1}/job`, body: form({ source: "input", input: " ,;\n, ;" }), status: 400 },
  { name: "job: source=file without a file", method: "POST", path: `${V1}/job`, body: form({ source: "file" }), status: 400 },
  { name: "job: binary garbage as CSV", method: "POST", path: `${V1}/job`, body: form({ source: "file", file: new Blob([GARBAGE]) }), status: 400 },
  { name: "job: a CSV as excel", method: "POST", path: `${V1}/job`, body: form({ source: "excel", file: csv("email\nalice@normal.test\n") }, "list.xlsx"), status: 400 },
  { name: "job: a corrupt XLSX", method: "POST", path: `${V1}/job`, body: form({ source: "excel", file: new Blob([BROKEN_ZIP]) }, "list.xlsx"), status: 400 },
  { name: "job: a corrupt XLS", method: "POST", path: `${V1}/job`, body: form({ source: "excel", file: new Blob([BROKEN_OLE2]) }, "list.xls"), status: 400 },
  { name: "job: a CSV with a 10 KB email", method: "POST", path: `${V1}/job`, body: form({ source: "file", file: csv(`email\n${TEN_KB_EMAIL}\n`) }), status: 400 },
  { name: "job: a CSV of 100,001 rows", method: "POST", path: `${V1}/job`, body: () => form({ source: "file", file: csv(csvOf100001()) })(), status: 400 },
  { name: "job: a bad start_at", method: "POST", path: `${V1}/job`, body: form({ source: "input", input: "alice@normal.test", start_at: "2026-02-30" }), status: 400 },
  { name: "job: start_at 40 days ahead", method: "POST", path: `${V1}/job`, body: () => form({ source: "input", input: "alice@normal.test", start_at: TOO_FAR() })(), status: 400 },
  { name: "job: a private webhook_url", method: "POST", path: `${V1}/job`, body: form({ source: "input", input: "alice@normal.test", webhook_url: "http://10.1.2.3/hook" }), status: 400 },
  { name: "job: a webhook_url that is not a URL", method: "POST", path: `${V1}/job`, body: form({ source: "input", input: "alice@normal.test", webhook_url: "hook" }), status: 400 },
  { name: "job: an Idempotency-Key over 255 characters", method: "POST", path: `${V1}/job`, body: form({ source: "input", input: "alice@normal.test" }), headers: { "idempotency-key": "k".repeat(300) }, status: 400 },
  { name: "job: an Idempotency-Key reused with another body", method: "POST", path: `${V1}/job`, body: form({ source: "input", input: "bob@normal.test" }), headers: { "idempotency-key": "fixture-order-1" }, status: 422 },
  { name: "job: a file over the cap", method: "POST", path: `${V1}/job`, body: () => form({ source: "file", file: csv(`email\n${OVER_CAP()}@normal.test\n`) })(), status: 413 },
  { name: "job: a streamed file over the cap", method: "POST", path: `${V1}/job`, body: streamOverCap("--zz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\nemail\n"), headers: { "content-type": "multipart/form-data; boundary=zz" }, status: 413 },
  // results and downloads
  { name: "result: pos=-1", method: "GET", path: `${V1}/job/{completed}/result?pos=-1`, status: 400 },
  { name: "result: pos=abc", method: "GET", path: `${V1}/job/{completed}/result?pos=abc`, status: 400 },
  { name: "result: pos=1.5", method: "GET", path: `${V1}/job/{completed}/result?pos=1.5`, status: 400 },
  { name: "result: pos empty", method: "GET", path: `${V1}/job/{completed}/result?pos=`, status: 400 },
  { name: "result: pos bad percent-encoding", method: "GET", path: `${V1}/job/{completed}/result?pos=%FF`, status: 400 },
  { name: "download: filters=bogus", method: "GET", path: `${V1}/job/{completed}/download?filters=bogus`, status: 400 },
  { name: "download: filters empty", method: "GET", path: `${V1}/job/{completed}/download?filters=`, status: 400 },
  { name: "download: filters=VALID (case)", method: "GET", path: `${V1}/job/{completed}/download?filters=VALID`, status: 400 },
  { name: "download: one bad filter among good ones", method: "GET", path: `${V1}/job/{completed}/download?filters=valid&filters=deliverable`, status: 400 },
  { name: "an unknown route under the family", method: "GET", path: `${V1}/jobs`, status: 404 },
];

// Unknown ids, well-formed and not, on every route that takes one.
// biome-ignore format: one row per line
const ID_ROUTES: [Case["method"], string, unknown?][] = [
  ["GET", `${EV}/:id`],
  ["PATCH", `${EV}/:id`, { status: "canceled" }],
  ["DELETE", `${EV}/:id`],
  ["PATCH", `${EV}/:id/cancel`],
  ["GET", `${EV}/:id/download`],
  ["GET", `${EV}/:id/webhook-deliveries`],
  ["POST", `${EV}/:id/webhook-deliveries/dlv_x/retry`],
  ["GET", `${V1}/job/:id`],
  ["DELETE", `${V1}/job/:id`],
  ["GET", `${V1}/job/:id/result`],
  ["GET", `${V1}/job/:id/download`],
  ["POST", `${V1}/job/:id/pause`],
  ["POST", `${V1}/job/:id/resume`],
  ["POST", `${V1}/job/:id/cancel`],
];
const unknownIdCases: Case[] = ID_ROUTES.flatMap(([method, path, body]) =>
  [
    ["a well-formed unknown id", UNKNOWN_ID],
    ["an id of the wrong format", "not-a-uuid"],
    ["an id 10,000 characters long", "f".repeat(10_000)],
    ["an id with bad percent-encoding", "%FF%zz"],
  ].map(
    ([what, id]): Case => ({
      name: `${method} ${path} with ${what}`,
      method,
      path: path.replace(":id", id!),
      ...(body !== undefined ? { json: body } : {}),
      status: 404,
      ...(path.startsWith(V1) ? { error: "Job not found" } : { code: "not_found" }),
    }),
  ),
);

// biome-ignore format: one row per line
const endpointCases: Case[] = [
  { name: "endpoints: truncated JSON", method: "POST", path: "/webhook-endpoints", body: '{"url": "http', headers: { "content-type": "application/json" }, status: 400, code: "invalid_json" },
  { name: "endpoints: text/plain", method: "POST", path: "/webhook-endpoints", body: `{"url":"${receiver}/ok/a"}`, headers: { "content-type": "text/plain" }, status: 415, code: "unsupported_media_type" },
  { name: "endpoints: no content type", method: "POST", path: "/webhook-endpoints", body: () => noContentType(`{"url":"${receiver}/ok/a"}`), status: 415, code: "unsupported_media_type" },
  { name: "endpoints: url missing", method: "POST", path: "/webhook-endpoints", json: {}, status: 400, code: "missing_field", pointer: "/url" },
  { name: "endpoints: url a number", method: "POST", path: "/webhook-endpoints", json: { url: 8080 }, status: 400, code: "invalid_type", pointer: "/url" },
  { name: "endpoints: url not a URL", method: "POST", path: "/webhook-endpoints", json: { url: "example" }, status: 400, code: "invalid_value", pointer: "/url" },
  { name: "endpoints: url to a private address", method: "POST", path: "/webhook-endpoints", json: { url: "http://10.0.0.1/hook" }, status: 400, code: "invalid_value", pointer: "/url" },
  { name: "endpoints: url with an ftp scheme", method: "POST", path: "/webhook-endpoints", json: { url: "ftp://127.0.0.1/hook" }, status: 400, code: "invalid_value", pointer: "/url" },
  { name: "endpoints: url over 2048 characters", method: "POST", path: "/webhook-endpoints", json: { url: `${receiver}/ok/${"p".repeat(2100)}` }, status: 400, code: "invalid_value", pointer: "/url" },
  { name: "endpoints: events empty", method: "POST", path: "/webhook-endpoints", json: { url: `${receiver}/ok/a`, events: [] }, status: 400, code: "invalid_value", pointer: "/events" },
  { name: "endpoints: an unknown event", method: "POST", path: "/webhook-endpoints", json: { url: `${receiver}/ok/a`, events: ["email_validation.exploded"] }, status: 400, code: "invalid_value", pointer: "/events/0" },
  { name: "endpoints: events a string", method: "POST", path: "/webhook-endpoints", json: { url: `${receiver}/ok/a`, events: "email_validation.completed" }, status: 400, code: "invalid_type", pointer: "/events" },
  { name: "endpoints: an unknown field", method: "POST", path: "/webhook-endpoints", json: { url: `${receiver}/ok/a`, secret: "mine" }, status: 400, code: "unknown_field", pointer: "/secret" },
  { name: "endpoints: a body over the cap", method: "POST", path: "/webhook-endpoints", body: () => JSON.stringify({ url: OVER_CAP() }), headers: { "content-type": "application/json" }, status: 413, code: "body_too_large" },
  { name: "endpoints: a streamed body over the cap", method: "POST", path: "/webhook-endpoints", body: streamOverCap('{"url":"'), headers: { "content-type": "application/json" }, status: 413, code: "body_too_large" },
  { name: "endpoints: url with credentials", method: "POST", path: "/webhook-endpoints", json: { url: `${receiver.replace("//", "//user:pw@")}/ok/a` }, status: 400, code: "invalid_value", pointer: "/url" },
  { name: "endpoints: delete with an id that is an SQL fragment", method: "DELETE", path: "/webhook-endpoints/%27%20OR%20%271%27%3D%271", status: 404, code: "not_found" },
  { name: "endpoints: delete an unknown endpoint", method: "DELETE", path: "/webhook-endpoints/we_nope", status: 404, code: "not_found" },
  { name: "endpoints: delete without an id", method: "DELETE", path: "/webhook-endpoints", status: 404, code: "not_found" },
];

// biome-ignore format: one row per line
const adminCases: Case[] = [
  { name: "admin: no Authorization", method: "POST", path: "/admin/accounts/bi-victim-1/keys", anonymous: true, status: 401, code: "unauthorized", noKeysFor: "bi-victim-1" },
  { name: "admin: an account API key", method: "POST", path: "/admin/accounts/bi-victim-2/keys", status: 401, code: "unauthorized", noKeysFor: "bi-victim-2" },
  { name: "admin: an account API key as ?apiKey", method: "POST", path: "/admin/accounts/bi-victim-3/keys?apiKey={key}", anonymous: true, status: 401, code: "unauthorized", noKeysFor: "bi-victim-3" },
  { name: "admin: the admin token as ?apiKey", method: "POST", path: "/admin/accounts/bi-victim-4/keys?apiKey={admin}", anonymous: true, status: 401, code: "unauthorized", noKeysFor: "bi-victim-4" },
  { name: "admin: a wrong token", method: "POST", path: "/admin/accounts/bi-victim-5/keys", headers: { authorization: "Bearer not-the-admin-token" }, status: 401, code: "unauthorized", noKeysFor: "bi-victim-5" },
  { name: "admin: the admin token with the Basic scheme", method: "POST", path: "/admin/accounts/bi-victim-6/keys", headers: { authorization: "Basic {admin}" }, status: 401, code: "unauthorized", noKeysFor: "bi-victim-6" },
  { name: "admin: the admin token with a suffix", method: "POST", path: "/admin/accounts/bi-victim-7/keys", headers: { authorization: "Bearer {admin}x" }, status: 401, code: "unauthorized", noKeysFor: "bi-victim-7" },
  ...(
    [
      ["a leading dash", "-acme", "-acme"],
      ["a leading underscore", "_acme", "_acme"],
      ["65 characters", "a".repeat(65), "a".repeat(65)],
      ["a space", "acme%20corp", "acme corp"],
      ["an encoded slash", "acme%2Fcorp", "acme/corp"],
      ["a NUL", "acme%00", "acme\u0000"],
      ["non-ASCII letters", "%C3%BCber", "über"],
      ["a newline", "acme%0A", "acme\n"],
    ] as const
  ).map(
    ([what, raw, decoded]): Case => ({
      name: `admin: an account name with ${what}`,
      method: "POST",
      path: `/admin/accounts/${raw}/keys`,
      headers: { authorization: "Bearer {admin}" },
      status: 400,
      code: "invalid_value",
      pointer: "/account",
      noKeysFor: decoded,
    }),
  ),
];

// Missing and invalid credentials on every route. A valid body goes with each,
// so that the credentials are the only thing wrong.
// biome-ignore format: one row per line
const AUTH_ROUTES: [Case["method"], string, Pick<Case, "json" | "body">?][] = [
  ["POST", EV, { json: OK_EMAILS }],
  ["GET", EV],
  ["GET", `${EV}/{queued}`],
  ["PATCH", `${EV}/{queued}`, { json: { status: "canceled" } }],
  ["DELETE", `${EV}/{queued}`],
  ["PATCH", `${EV}/{queued}/cancel`],
  ["GET", `${EV}/{completed}/download`],
  ["GET", `${EV}/{completed}/webhook-deliveries`],
  ["POST", `${EV}/{completed}/webhook-deliveries/dlv_x/retry`],
  ["POST", V1, { json: OK_EMAILS }],
  ["POST", `${V1}/job`, { body: form({ source: "input", input: "alice@normal.test" }) }],
  ["GET", `${V1}/job`],
  ["GET", `${V1}/job/{queued}`],
  ["DELETE", `${V1}/job/{queued}`],
  ["GET", `${V1}/job/{completed}/result`],
  ["GET", `${V1}/job/{completed}/download`],
  ["POST", `${V1}/job/{queued}/pause`],
  ["POST", `${V1}/job/{paused}/resume`],
  ["POST", `${V1}/job/{queued}/cancel`],
  ["POST", "/webhook-endpoints", { json: { url: `${receiver}/ok/unauth` } }],
  ["GET", "/webhook-endpoints"],
  ["DELETE", "/webhook-endpoints/{endpoint}"],
  ["POST", "/webhook-endpoints/job-secret"],
];
// biome-ignore format: one row per line
const BAD_CREDENTIALS: [string, Pick<Case, "headers" | "anonymous">, string][] = [
  ["no credentials", { anonymous: true }, ""],
  ["a wrong Bearer key", { headers: { authorization: "Bearer mv_0000000000000000000000000000000000000000000" } }, ""],
  ["a wrong ?apiKey", { anonymous: true }, "apiKey=mv_wrong"],
  ["the right key with the Basic scheme", { headers: { authorization: "Basic {key}" } }, ""],
];
// biome-ignore format: one row per line
const EXTRA_CREDENTIALS: [string, Pick<Case, "headers" | "anonymous">, string][] = [
  ["the admin token as a Bearer key", { headers: { authorization: "Bearer {admin}" } }, ""],
  ["an empty Bearer", { headers: { authorization: "Bearer " } }, ""],
  ["an empty ?apiKey", { anonymous: true }, "apiKey="],
  ["a wrong Bearer key beside the right ?apiKey", { headers: { authorization: "Bearer mv_wrong" } }, "apiKey={key}"],
  ["the right key with a token scheme", { headers: { authorization: "Token {key}" } }, ""],
];
const authCases: Case[] = AUTH_ROUTES.flatMap(([method, path, body], i) =>
  [...BAD_CREDENTIALS, ...(i < 3 || path === `${V1}/job` ? EXTRA_CREDENTIALS : [])].map(
    ([what, creds, query]): Case => ({
      name: `${method} ${path} with ${what}`,
      method,
      path: query ? `${path}${path.includes("?") ? "&" : "?"}${query}` : path,
      ...creds,
      ...(body ?? {}),
      status: 401,
      ...(path.startsWith(V1) ? {} : { code: "unauthorized" }),
    }),
  ),
);

// ── Runner ───────────────────────────────────────────────────────────────

function requestFor(c: Case, key: string): RequestInit {
  const headers: Record<string, string> = {};
  if (!c.anonymous) headers.authorization = `Bearer ${key}`;
  for (const [k, v] of Object.entries(c.headers ?? {})) headers[k] = fill(v, key);
  let body: BodyInit | undefined;
  if (c.json !== undefined) {
    headers["content-type"] ??= "application/json";
    body = fill(JSON.stringify(c.json), key)
      .replaceAll("{soon-no-zone}", SOON_NO_ZONE())
      .replaceAll("{too-far}", TOO_FAR());
  } else if (c.body !== undefined) {
    body = typeof c.body === "function" ? c.body() : c.body;
  }
  return { method: c.method, headers, ...(body !== undefined ? { body } : {}) };
}

let current: Awaited<ReturnType<typeof observe>>;
/** Each row makes at most 7 requests with its key (itself and 6 reads): 25 rows stay far below 300 a minute. */
const ROWS_PER_KEY = 25;
let rowKey = "";
let rowsOnKey = 0;

async function run(c: Case) {
  // A fresh key every few rows: the per-key rate limit never gets in the way of the matrix.
  if (rowsOnKey++ % ROWS_PER_KEY === 0) rowKey = await newKey(fx.account);
  const key = rowKey;
  const observer = bearer(key);
  const path = fill(c.path, key);
  const res = await api(path, requestFor(c, key));
  const text = await res.text();
  // Read the state first, so that a row that changes something fails alone:
  // the next row compares with the state this one left.
  const before = current;
  const after = await observe(observer);
  current = after;
  const compat = new URL(path, "http://x").pathname.startsWith("/v1/");
  expect(res.status, `5xx: ${text.slice(0, 300)}`).toBeLessThan(500);
  expect(res.status, text.slice(0, 300)).toBe(c.status);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body = JSON.parse(text) as Record<string, unknown>;
  if (compat) {
    expect(c.code, "compat rows name no code").toBeUndefined();
    expect(Object.keys(body)).toEqual(["error"]);
    expect(typeof body.error).toBe("string");
    expect((body.error as string).length).toBeGreaterThan(3);
    if (c.error !== undefined) expect(body.error).toBe(c.error);
  } else {
    expect(c.code, "canonical rows name their code").toBeDefined();
    expectConforms(body, "error");
    const first = (body._errors as { code: string; source?: { pointer: string } }[])[0];
    expect(first?.code).toBe(c.code);
    if (c.pointer !== undefined) expect(first?.source?.pointer).toBe(c.pointer);
  }
  // Nothing changed.
  expect(after).toEqual(before);
  if (c.noKeysFor !== undefined) {
    expect(await count("SELECT COUNT(*) AS n FROM api_keys WHERE account_id = ?", c.noKeysFor)).toBe(0);
  }
}

describe("bad input: every endpoint refuses malformed requests and changes nothing", () => {
  beforeAll(async () => {
    const { account, key, auth } = await newAccount("badinput");
    const later = new Date(Date.now() + 60 * 60_000).toISOString();
    const res = await api(
      "/webhook-endpoints",
      json({ url: `${receiver}/ok/bad-input-${crypto.randomUUID()}` }, auth),
    );
    expect(res.status).toBe(201);
    const endpoint = ((await res.json()) as { id: string }).id;
    const create = async (body: object, headers: Auth = {}) => {
      const r = await api("/email-validations", json(body, { ...auth, ...headers }));
      expect(r.status).toBe(202);
      return ((await r.json()) as { id: string }).id;
    };
    const [completed, canceled, queued, paused, errored] = await Promise.all([
      create(
        { emails: ["alice@normal.test", "nobody@normal.test", "x@nullmx.test"] },
        { "idempotency-key": "fixture-order-1" },
      ),
      create({ emails: ["alice@normal.test"], start_at: later }),
      // Queued for an hour: the stand-in for a job that is not terminal yet.
      create({ emails: ["bob@normal.test", "carol@normal.test"], start_at: later }),
      create({ emails: ["carol@normal.test"], start_at: later }),
      create({
        emails: ["f1@normal.test", "f2@normal.test"],
        // Armed below, before this start: every batch then fails until the job ends in error.
        start_at: new Date(Date.now() + 2000).toISOString(),
      }),
    ]);
    expect(await jobStub(env, errored!).injectFault("before_verify", 1000)).toBe(true);
    const cancel = await api(`/email-validations/${canceled}/cancel`, { method: "PATCH", headers: auth });
    expect(cancel.status).toBe(200);
    const pause = await api(`${V1}/job/${paused}/pause`, { method: "POST", headers: auth });
    expect(pause.status).toBe(200);
    const [done, failed] = await Promise.all([waitForJob(auth, completed!), waitForJob(auth, errored!)]);
    expect(done.status).toBe("completed");
    expect(failed.status).toBe("error");
    fx = {
      account,
      auth,
      jobs: {
        completed: completed!,
        canceled: canceled!,
        queued: queued!,
        paused: paused!,
        errored: errored!,
      },
      endpoint,
    };
    current = await observe(bearer(key));
    expect(current.jobCount).toBe(5);
    expect(current.jobs.map((j) => j.status)).toEqual([
      "completed",
      "canceled",
      "queued",
      "processing",
      "error",
    ]);
    expect(current.resultRows[0]).toBe(3);
  });

  afterAll(async () => {
    // The queued and paused jobs would otherwise keep an alarm armed for an hour.
    for (const id of [fx?.jobs.queued, fx?.jobs.paused]) {
      if (id) await api(`/email-validations/${id}`, { method: "DELETE", headers: fx.auth });
    }
  });

  const all = [
    ...createCases,
    ...listCases,
    ...jobReadCases,
    ...controlCases,
    ...compatCases,
    ...unknownIdCases,
    ...endpointCases,
    ...adminCases,
    ...authCases,
  ];

  it("has a large, unambiguous matrix", () => {
    expect(all.length).toBeGreaterThanOrEqual(60);
    expect(new Set(all.map((c) => c.name)).size).toBe(all.length);
  });

  it.each(all.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    await run(c);
  });
});
