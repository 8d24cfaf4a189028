import { env, exports } from "cloudflare:workers";
import { Validator } from "@cfworker/json-schema";
import { expect } from "vitest";
import { emailValidationSchema, errorsSchema } from "./fixtures/contract";

export const ADMIN = { authorization: `Bearer ${env.ADMIN_TOKEN}` };

/** Calls the worker under test, as a client would. */
export function api(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(`http://mailvet.test${path}`, init));
}

let accounts = 0;

/** A fresh account and its key, so tests never share state. */
export async function newAccount(
  prefix = "acct",
): Promise<{ account: string; key: string; auth: Record<string, string> }> {
  const account = `${prefix}-${Date.now().toString(36)}-${++accounts}`;
  const res = await api(`/admin/accounts/${account}/keys`, { method: "POST", headers: ADMIN });
  expect(res.status).toBe(201);
  const { key } = (await res.json()) as { key: string };
  return { account, key, auth: { authorization: `Bearer ${key}` } };
}

export function json(body: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  };
}

export interface Job {
  id: string;
  object: string;
  status: string;
  results: { email: string; result: string; catch_all: boolean; reason?: string; [k: string]: unknown }[];
  _links: { self: { href: string }; next?: { href: string }; prev?: { href: string } };
  _errors?: unknown[];
  counts?: { processed: number; deliverable: number; undeliverable: number; risky: number; unknown: number };
  total?: number;
}

export async function createJob(
  auth: Record<string, string>,
  emails: unknown[],
  extra: object = {},
): Promise<Job> {
  const res = await api("/email-validations", json({ emails, ...extra }, auth));
  expect(res.status).toBe(202);
  return (await res.json()) as Job;
}

export async function getJob(
  auth: Record<string, string>,
  href: string,
): Promise<{ res: Response; body: Job }> {
  const res = await api(href, { headers: auth });
  return { res, body: (await res.json()) as Job };
}

const TERMINAL = ["completed", "canceled", "error"];

/** Polls a job until it ends, honouring nothing but a short sleep (tests must not wait on Retry-After). */
export async function waitForJob(auth: Record<string, string>, id: string, timeoutMs = 45_000): Promise<Job> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await getJob(auth, `/email-validations/${id}?include=details&page[size]=1000`);
    if (TERMINAL.includes(body.status)) return body;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${body.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Walks every page by following _links.next from the first page. */
export async function allResults(
  auth: Record<string, string>,
  id: string,
  size = 100,
): Promise<Job["results"]> {
  const out: Job["results"] = [];
  let href: string | undefined = `/email-validations/${id}?page[size]=${size}&include=details`;
  while (href) {
    const { body }: { body: Job } = await getJob(auth, href);
    out.push(...body.results);
    href = body._links.next?.href;
  }
  return out;
}

const jobValidator = new Validator(emailValidationSchema as never, "2019-09", false);
const errorValidator = new Validator(errorsSchema as never, "2019-09", false);

export function expectConforms(body: unknown, kind: "job" | "error") {
  const out = (kind === "job" ? jobValidator : errorValidator).validate(body);
  expect(out.errors, JSON.stringify(out.errors.slice(0, 3))).toEqual([]);
}
