// The few calls of mailvet's canonical API the scripts make, with an API key.

import type { Counts } from "../../src/client/index";
import { describe, type HttpResult, http } from "./http";

export const DEFAULT_ADMIN_TOKEN = "dev-admin-token";

export type ResultClass = "deliverable" | "risky" | "undeliverable" | "unknown";
export const RESULT_CLASSES: readonly ResultClass[] = ["deliverable", "risky", "undeliverable", "unknown"];

export type { Counts };

export interface JobView {
  id: string;
  status: string;
  total?: number;
  counts?: Counts;
  paused?: boolean;
  created_at?: string;
  started_at?: string | null;
  finished_at?: string | null;
  results: { email: string; result: ResultClass }[];
  _errors?: unknown[];
}

export interface ResultLine {
  email: string;
  result: ResultClass;
  reason?: string;
  [field: string]: unknown;
}

/** Creates an API key for `account` through the admin route. */
export async function createApiKey(baseUrl: string, account: string, adminToken = DEFAULT_ADMIN_TOKEN) {
  const path = `/admin/accounts/${account}/keys`;
  const res = await http<{ key?: string }>("POST", `${baseUrl}${path}`, {
    headers: { authorization: `Bearer ${adminToken}` },
  });
  if (res.status !== 201 || typeof res.body?.key !== "string")
    throw new Error(`creating an API key: ${describe("POST", path, res)}`);
  return res.body.key;
}

export class MailvetApi {
  constructor(
    public baseUrl: string,
    readonly key: string,
  ) {}

  private call<T>(method: string, path: string, json?: unknown, timeoutMs?: number): Promise<HttpResult<T>> {
    return http<T>(method, `${this.baseUrl}${path}`, {
      headers: { authorization: `Bearer ${this.key}` },
      json,
      timeoutMs,
    });
  }

  createJob(emails: string[], extra: { webhook_url?: string; label?: string } = {}, timeoutMs = 120_000) {
    return this.call<JobView>("POST", "/email-validations?include=details", { emails, ...extra }, timeoutMs);
  }

  getJob(id: string, query = "include=details", timeoutMs?: number) {
    return this.call<JobView>(
      "GET",
      `/email-validations/${id}${query ? `?${query}` : ""}`,
      undefined,
      timeoutMs,
    );
  }

  /** The account's newest jobs as the D1 list holds them (a copy of each job object's state). */
  listJobs(size = 100) {
    return this.call<{ email_validations: { id: string; status: string; counts?: Counts }[] }>(
      "GET",
      `/email-validations?include=details&page[size]=${size}`,
    );
  }

  cancelJob(id: string) {
    return this.call<JobView>("PATCH", `/email-validations/${id}?include=details`, { status: "canceled" });
  }

  /** Every result, parsed from the NDJSON download. */
  async download(id: string): Promise<{ res: HttpResult; lines: ResultLine[] }> {
    const res = await this.call("GET", `/email-validations/${id}/download?format=ndjson`, undefined, 300_000);
    const lines: ResultLine[] = [];
    if (res.status === 200) for (const line of res.text.split("\n")) if (line) lines.push(JSON.parse(line));
    return { res, lines };
  }
}
