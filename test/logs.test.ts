import { env } from "cloudflare:workers";
import { afterEach, describe, expect, inject, it, type MockInstance, vi } from "vitest";
import { jobStub } from "../src/job/stub";
import { ADMIN, api, json, waitForJob } from "./helpers";

// Structured logs. Under the Workers vitest pool the worker, its Durable
// Objects and the tests share one isolate, so spying on the console here
// sees every line the app writes: access lines from the request middleware
// and the job object's error lines from its alarms.

const receiver = `http://127.0.0.1:${inject("webhookPort")}`;

let spies: MockInstance[] = [];

const LEVELS = ["log", "error", "warn", "info", "debug"] as const;

interface Line {
  level: (typeof LEVELS)[number];
  raw: unknown[];
  text: string;
  parsed: Record<string, unknown> | null;
}

function parse(raw: unknown[]): Record<string, unknown> | null {
  if (raw.length !== 1 || typeof raw[0] !== "string") return null;
  try {
    const value: unknown = JSON.parse(raw[0]);
    return value && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** Silences and records every console method the app could write with. */
function capture(): () => Line[] {
  const spied = LEVELS.map(
    (level) => [level, vi.spyOn(console, level).mockImplementation(() => {})] as const,
  );
  spies = spied.map(([, spy]) => spy);
  return () =>
    spied.flatMap(([level, spy]) =>
      spy.mock.calls.map(
        (raw): Line => ({
          level,
          raw,
          text: raw.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "),
          parsed: parse(raw),
        }),
      ),
    );
}

afterEach(() => {
  for (const spy of spies) spy.mockRestore();
  spies = [];
});

describe("structured logs", () => {
  it("writes one JSON object per line, with the account and never a secret", async () => {
    const lines = capture();

    // Admin token: a new account and its key.
    const account = `logs-${Date.now().toString(36)}`;
    const created = await api(`/admin/accounts/${account}/keys`, { method: "POST", headers: ADMIN });
    expect(created.status).toBe(201);
    const { key } = (await created.json()) as { key: string };
    const bearer = { authorization: `Bearer ${key}` };
    const q = `apiKey=${encodeURIComponent(key)}`;

    // Webhook secrets: an endpoint's and the account's job secret, both shown once.
    const ep = await api("/webhook-endpoints", json({ url: `${receiver}/ok/logs-${account}` }, bearer));
    expect(ep.status).toBe(201);
    const endpointSecret = ((await ep.json()) as { secret: string }).secret;
    const js = await api(`/webhook-endpoints/job-secret?${q}`, { method: "POST" });
    expect(js.status).toBe(201);
    const jobSecret = ((await js.json()) as { secret: string }).secret;

    // ?apiKey=: create, list, read, a 404 and a 400.
    const res = await api(
      `/email-validations?${q}`,
      json({ emails: ["alice@normal.test", "nobody@normal.test"], webhook_url: `${receiver}/ok/logs-job` }),
    );
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    expect((await api(`/email-validations?${q}`)).status).toBe(200);
    expect((await api(`/email-validations/${id}?${q}&include=details`)).status).toBe(200);
    expect((await api(`/email-validations/019e8e97-214c-782c-bf1a-5f04ef81ddd1?${q}`)).status).toBe(404);
    expect((await api(`/email-validations/${id}?${q}&page[size]=0`)).status).toBe(400);

    // Bearer: read, bad PATCH, compat family, download.
    await waitForJob(bearer, id);
    const patch = await api(`/email-validations/${id}`, {
      method: "PATCH",
      headers: { ...bearer, "content-type": "application/json" },
      body: JSON.stringify({ status: "done" }),
    });
    expect(patch.status).toBe(400);
    expect((await api(`/v1/email/validate/job/${id}`, { headers: bearer })).status).toBe(200);
    expect((await api(`/v1/email/validate/job/${id}/result?pos=abc`, { headers: bearer })).status).toBe(400);
    const dl = await api(`/email-validations/${id}/download?${q}`);
    expect(dl.status).toBe(200);
    await dl.text();

    // Wrong credentials, which must not be logged either.
    const wrongKey = `mv_${"W".repeat(43)}`;
    expect((await api(`/email-validations?apiKey=${wrongKey}`)).status).toBe(401);
    expect(
      (await api("/email-validations", { headers: { authorization: `Bearer ${wrongKey}` } })).status,
    ).toBe(401);
    const wrongAdmin = "not-the-admin-token-but-close";
    expect(
      (
        await api(`/admin/accounts/${account}/keys`, {
          method: "POST",
          headers: { authorization: `Bearer ${wrongAdmin}` },
        })
      ).status,
    ).toBe(401);
    // The admin token sent where an API key goes.
    expect((await api(`/email-validations?apiKey=${env.ADMIN_TOKEN}`)).status).toBe(401);

    // A job whose batches keep failing: the job object logs each failure from its alarm.
    const failing = await api(
      "/email-validations",
      json({ emails: ["f@normal.test"], start_at: new Date(Date.now() + 1000).toISOString() }, bearer),
    );
    const failingId = ((await failing.json()) as { id: string }).id;
    expect(await jobStub(env, failingId).injectFault("before_verify", 1000)).toBe(true);
    expect((await waitForJob(bearer, failingId)).status).toBe("error");

    const all = lines();
    expect(all.length).toBeGreaterThan(10);

    // Every line is one JSON object with a msg.
    for (const line of all) {
      expect(line.raw, line.text).toHaveLength(1);
      expect(line.parsed, `not a JSON object: ${line.text.slice(0, 200)}`).not.toBeNull();
      expect(typeof line.parsed?.msg, line.text).toBe("string");
    }

    // No secret in any line.
    const secrets = { key, admin: String(env.ADMIN_TOKEN), endpointSecret, jobSecret, wrongKey, wrongAdmin };
    for (const line of all) {
      for (const [name, secret] of Object.entries(secrets)) {
        expect(line.text.includes(secret), `${name} in ${line.text.slice(0, 200)}`).toBe(false);
        expect(line.text.includes(encodeURIComponent(secret)), `${name} in ${line.text.slice(0, 200)}`).toBe(
          false,
        );
      }
    }

    // Access lines: method, path, status, duration, account.
    const requests = all.filter((l) => l.parsed?.msg === "request").map((l) => l.parsed!);
    for (const r of requests) {
      expect(r).toMatchObject({
        method: expect.any(String),
        path: expect.any(String),
        status: expect.any(Number),
        ms: expect.any(Number),
      });
      expect(r).toHaveProperty("account");
      expect(String(r.path)).not.toContain("?");
    }
    const keyed = requests.filter((r) => r.status !== 401 && !String(r.path).startsWith("/admin/"));
    expect(keyed.length).toBeGreaterThanOrEqual(10);
    for (const r of keyed) expect(r.account, JSON.stringify(r)).toBe(account);
    for (const r of requests.filter((r) => r.status === 401)) expect(r.account).toBeNull();
    for (const r of requests.filter((r) => String(r.path).startsWith("/admin/")))
      expect(r.account).toBeNull();

    // Requests about a job name it: the access line's path holds its id.
    const aboutJob = requests.filter((r) => String(r.path).includes(id));
    expect(aboutJob.map((r) => `${r.method} ${r.status}`)).toEqual(
      expect.arrayContaining(["GET 200", "PATCH 400", "GET 400"]),
    );
    for (const r of aboutJob) expect(r.account).toBe(account);

    // The job object's failure lines name the job and the account.
    const failures = all.filter((l) => l.parsed?.msg === "batch failed").map((l) => l.parsed!);
    expect(failures.length).toBe(Number(env.MAX_BATCH_FAILURES));
    for (const f of failures) expect(f).toMatchObject({ job: failingId, account });
  });
});
