import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { jobStub } from "../src/job/stub";
import { allResults, api, createJob, expectConforms, getJob, json, newAccount, waitForJob } from "./helpers";

async function jobRows(id: string): Promise<number> {
  const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM results WHERE job_id = ?")
    .bind(id)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

async function accountJobs(account: string): Promise<number> {
  const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM jobs WHERE account_id = ?")
    .bind(account)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

describe("create and poll", () => {
  it("answers 202 with Location and a queued email_validation, then completes with real verdicts", async () => {
    const { auth } = await newAccount();
    const res = await api(
      "/email-validations",
      json({ emails: [{ email: "alice@normal.test" }, "nobody@normal.test", "Bob@NORMAL.test"] }, auth),
    );
    expect(res.status).toBe(202);
    const job = (await res.json()) as { id: string; status: string; _links: { self: { href: string } } };
    expectConforms(job, "job");
    expect(job.status).toBe("queued");
    // UUIDv7: version nibble 7, RFC 4122 variant
    expect(job.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(res.headers.get("location")).toBe(`/email-validations/${job.id}`);
    expect(job._links.self.href).toBe(`/email-validations/${job.id}`);

    const done = await waitForJob(auth, job.id);
    expect(done.status).toBe("completed");
    expect(done.results.map((r) => [r.email, r.result, r.reason])).toEqual([
      ["alice@normal.test", "deliverable", "accepted"],
      ["nobody@normal.test", "undeliverable", "mailbox_not_found"],
      ["Bob@NORMAL.test", "deliverable", "accepted"],
    ]);
    const { res: final, body } = await getJob(auth, `/email-validations/${job.id}`);
    expect(final.headers.get("retry-after")).toBeNull();
    expectConforms(body, "job");
  });

  it("validates duplicates once, comparing domains case-insensitively, in first-seen order", async () => {
    const { auth } = await newAccount();
    const job = await createJob(auth, [
      "carol@normal.test",
      "alice@normal.test",
      "carol@NORMAL.TEST",
      { email: "alice@Normal.Test" },
      "Carol@normal.test", // a different local part: kept
    ]);
    const done = await waitForJob(auth, job.id);
    expect(done.results.map((r) => r.email)).toEqual([
      "carol@normal.test",
      "alice@normal.test",
      "Carol@normal.test",
    ]);
    expect(done.total).toBe(3);
    expect(await jobRows(job.id)).toBe(3);
  });

  it("sends Retry-After in whole seconds from 1 to 60 while the job runs", async () => {
    const { auth } = await newAccount();
    // Greylisted mailboxes keep the job running until they are asked again.
    const job = await createJob(auth, ["alice@greylist.test", "bob@greylist.test", "alice@normal.test"]);
    const { res, body } = await getJob(auth, `/email-validations/${job.id}`);
    expect(["queued", "processing"]).toContain(body.status);
    const retryAfter = res.headers.get("retry-after");
    expect(retryAfter).toMatch(/^\d+$/);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);
    await waitForJob(auth, job.id);
  });

  it("returns partial results in input order while processing", async () => {
    const { auth } = await newAccount();
    const job = await createJob(auth, ["alice@greylist.test", "alice@normal.test", "bob@normal.test"]);
    // Wait until the non-greylisted results exist while the greylisted one is still pending.
    let partial: string[] = [];
    for (let i = 0; i < 100; i++) {
      const { body } = await getJob(auth, `/email-validations/${job.id}`);
      partial = body.results.map((r) => r.email);
      if (partial.length >= 2 || body.status === "completed") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(partial.slice(-2)).toEqual(["alice@normal.test", "bob@normal.test"]);
    const done = await waitForJob(auth, job.id);
    expect(done.results.map((r) => r.email)).toEqual([
      "alice@greylist.test",
      "alice@normal.test",
      "bob@normal.test",
    ]);
    expect(done.results[0]?.result).toBe("deliverable");
  });
});

describe("cursor pages", () => {
  it("walks next from the first page and prev back, each result exactly once", async () => {
    const { auth } = await newAccount();
    const emails = Array.from({ length: 23 }, (_, i) => `user${i}+tag@normal.test`);
    const job = await createJob(auth, emails);
    await waitForJob(auth, job.id);

    const forward = await allResults(auth, job.id, 5);
    expect(forward.map((r) => r.email)).toEqual(emails);

    // From the last page, walk prev to the start.
    let href: string | undefined =
      `/email-validations/${job.id}?page[size]=5&page[after]=${encodeURIComponent(emails[19]!)}`;
    const backward: string[] = [];
    let first = true;
    while (href) {
      const { body } = await getJob(auth, href);
      expectConforms(body, "job");
      if (first) {
        expect(body.results.map((r) => r.email)).toEqual(emails.slice(20));
        expect(body._links.next).toBeUndefined();
        first = false;
      }
      backward.unshift(...body.results.map((r) => r.email));
      href = body._links.prev?.href;
    }
    expect(backward).toEqual(emails);
  });

  it("has no prev on the first page and no next on the last", async () => {
    const { auth } = await newAccount();
    const job = await createJob(auth, ["alice@normal.test", "bob@normal.test"]);
    await waitForJob(auth, job.id);
    const { body } = await getJob(auth, `/email-validations/${job.id}?page[size]=1`);
    expect(body._links.prev).toBeUndefined();
    expect(body._links.next?.href).toBe(
      `/email-validations/${job.id}?page[size]=1&page[after]=alice%40normal.test`,
    );
    const { body: second } = await getJob(auth, body._links.next!.href);
    expect(second.results.map((r) => r.email)).toEqual(["bob@normal.test"]);
    expect(second._links.next).toBeUndefined();
    expect(second._links.prev?.href).toBe(
      `/email-validations/${job.id}?page[size]=1&page[before]=bob%40normal.test`,
    );
  });

  it.each([
    ["page[size]=0", "/page[size]"],
    ["page[size]=1001", "/page[size]"],
    ["page[size]=abc", "/page[size]"],
    ["page[size]=2.5", "/page[size]"],
    ["page[after]=ghost%40normal.test", "/page[after]"],
    ["page[before]=ghost%40normal.test", "/page[before]"],
    ["page[after]=alice%40normal.test&page[before]=alice%40normal.test", "/page[before]"],
  ])("refuses %s with 400 and a pointer", async (query, pointer) => {
    const { auth } = await newAccount();
    const job = await createJob(auth, ["alice@normal.test"]);
    await waitForJob(auth, job.id);
    const res = await api(`/email-validations/${job.id}?${query}`, { headers: auth });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { _errors: { code: string; source: { pointer: string } }[] };
    expectConforms(body, "error");
    expect(body._errors[0]?.code).toBe("invalid_parameter");
    expect(body._errors[0]?.source.pointer).toBe(pointer);
  });
});

describe("cancel", () => {
  it("cancels mid-run and freezes the result set", async () => {
    const { auth } = await newAccount();
    // Greylisted addresses keep the job open; normal ones finish first.
    const emails = [
      ...Array.from({ length: 30 }, (_, i) => `grey${i}@greylist.test`),
      "alice@normal.test",
      "bob@normal.test",
    ];
    const job = await createJob(auth, emails);
    // Let some results land.
    for (let i = 0; i < 100; i++) {
      const { body } = await getJob(auth, `/email-validations/${job.id}?include=details`);
      if ((body.counts?.processed ?? 0) >= 2) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const res = await api(`/email-validations/${job.id}`, {
      method: "PATCH",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ status: "canceled", ignored: "field" }),
    });
    expect(res.status).toBe(200);
    const canceled = (await res.json()) as { status: string; results: { email: string }[] };
    expectConforms(canceled, "job");
    expect(canceled.status).toBe("canceled");

    const before = await waitForJob(auth, job.id);
    const rowsBefore = await jobRows(job.id);
    expect(before.counts?.processed).toBe(rowsBefore);
    expect(before.results.map((r) => r.email)).toEqual(canceled.results.map((r) => r.email));
    // Greylisting would have cleared by now: nothing may change after a cancel.
    await new Promise((r) => setTimeout(r, 3000));
    const after = await waitForJob(auth, job.id);
    expect(after.status).toBe("canceled");
    expect(after.results).toEqual(before.results);
    expect(await jobRows(job.id)).toBe(rowsBefore);
    expect(rowsBefore).toBeLessThan(emails.length);
  });

  it("offers PATCH /{id}/cancel with the seed's answer", async () => {
    const { key } = await newAccount();
    const auth = { authorization: `Bearer ${key}` };
    const job = await createJob(auth, ["grey-x@greylist.test"]);
    const res = await api(`/email-validations/${job.id}/cancel?apiKey=${key}`, { method: "PATCH" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ success: true, message: "Validation job canceled successfully" });
    const { body } = await getJob(auth, `/email-validations/${job.id}`);
    expect(body.status).toBe("canceled");
  });

  it("refuses to cancel a terminal job, with the seed's wording", async () => {
    const { auth } = await newAccount();
    const job = await createJob(auth, ["alice@normal.test"]);
    await waitForJob(auth, job.id);
    const res = await api(`/email-validations/${job.id}`, {
      method: "PATCH",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ status: "canceled" }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { _errors: { code: string; detail: string }[] };
    expectConforms(body, "error");
    expect(body._errors[0]).toMatchObject({
      code: "already_terminal",
      detail: "Cannot cancel job in 'completed' status",
    });
    const again = await api(`/email-validations/${job.id}/cancel`, { method: "PATCH", headers: auth });
    expect(again.status).toBe(400);
  });

  it("answers missing and unsupported status like the contract", async () => {
    const { auth } = await newAccount();
    const job = await createJob(auth, ["grey-y@greylist.test"]);
    const patch = (body: unknown) =>
      api(`/email-validations/${job.id}`, {
        method: "PATCH",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const missing = await patch({ other: 1 });
    expect(missing.status).toBe(400);
    const m = (await missing.json()) as { _errors: unknown[]; _links: unknown };
    expectConforms(m, "error");
    expect(m._errors[0]).toEqual({
      code: "missing_field",
      title: "Missing Field",
      detail: "Missing field for request: status",
      source: { pointer: "/status" },
    });
    expect(m._links).toEqual({ self: { href: `/email-validations/${job.id}` } });
    const unsupported = await patch({ status: "error" });
    expect(unsupported.status).toBe(400);
    const u = (await unsupported.json()) as { _errors: { code: string; detail: string }[] };
    expect(u._errors[0]?.code).toBe("unsupported_value");
    expect(u._errors[0]?.detail).toContain("You used status 'error' when only 'canceled' is accepted");
    // Neither changed anything.
    const { body } = await getJob(auth, `/email-validations/${job.id}`);
    expect(["queued", "processing"]).toContain(body.status);
  });
});

describe("errors and nothing created", () => {
  const cases: [string, RequestInit, number, string, string | undefined][] = [
    ["malformed JSON", { body: '{"emails": [' }, 400, "invalid_json", ""],
    ["wrong type for emails", { body: JSON.stringify({ emails: "a@b.c" }) }, 400, "invalid_type", "/emails"],
    ["missing emails", { body: JSON.stringify({}) }, 400, "missing_field", "/emails"],
    ["empty list", { body: JSON.stringify({ emails: [] }) }, 400, "invalid_value", "/emails"],
    ["wrong entry type", { body: JSON.stringify({ emails: [42] }) }, 400, "invalid_value", "/emails/0"],
    [
      "entry without email",
      { body: JSON.stringify({ emails: [{ mail: "a@b.c" }] }) },
      400,
      "invalid_value",
      "/emails/0",
    ],
    [
      "CRLF in an email",
      { body: JSON.stringify({ emails: ["a@b.c\r\nRCPT TO:<x@y.z>"] }) },
      400,
      "invalid_value",
      "/emails/0",
    ],
    [
      "unknown field",
      { body: JSON.stringify({ emails: ["a@b.c"], bogus: 1 }) },
      400,
      "unknown_field",
      "/bogus",
    ],
    [
      "more than 100,000 entries",
      { body: JSON.stringify({ emails: Array.from({ length: 100_001 }, (_, i) => `u${i}@normal.test`) }) },
      400,
      "too_many_entries",
      "/emails",
    ],
    [
      "wrong content type",
      { body: "emails=a@b.c", headers: { "content-type": "text/plain" } },
      415,
      "unsupported_media_type",
      undefined,
    ],
  ];

  it.each(cases)("%s", async (_name, init, status, code, pointer) => {
    const { account, auth } = await newAccount();
    const res = await api("/email-validations", {
      method: "POST",
      ...init,
      headers: { "content-type": "application/json", ...auth, ...(init.headers as Record<string, string>) },
    });
    expect(res.status).toBe(status);
    const body = (await res.json()) as { _errors: { code: string; source?: { pointer: string } }[] };
    expectConforms(body, "error");
    expect(body._errors[0]?.code).toBe(code);
    if (pointer !== undefined) expect(body._errors[0]?.source?.pointer).toBe(pointer);
    expect(await accountJobs(account)).toBe(0);
  });

  it("refuses a body over the size cap with 413", async () => {
    const { account, auth } = await newAccount();
    const big = "x".repeat(Number(env.MAX_BODY_BYTES) + 10);
    const res = await api("/email-validations", {
      method: "POST",
      headers: { "content-type": "application/json", ...auth },
      body: JSON.stringify({ emails: [big] }),
    });
    expect(res.status).toBe(413);
    const body = await res.json();
    expectConforms(body, "error");
    expect(await accountJobs(account)).toBe(0);
  });

  it("answers 404 not_found for unknown ids, in the contract's words", async () => {
    const { auth } = await newAccount();
    for (const id of ["019e8e97-214c-782c-bf1a-5f04ef81ddd1", "not-a-uuid"]) {
      const res = await api(`/email-validations/${id}`, { headers: auth });
      expect(res.status).toBe(404);
      const body = await res.json();
      expectConforms(body, "error");
      expect(body).toEqual({
        _errors: [{ code: "not_found", title: "Not Found", detail: "Could not find email validation." }],
        object: "error",
      });
    }
  });
});

describe("accounts and keys", () => {
  it("refuses missing and wrong keys with 401", async () => {
    const attempts: Record<string, string>[] = [
      {},
      { authorization: "Bearer mv_wrong" },
      { authorization: "Basic abc" },
    ];
    for (const headers of attempts) {
      const res = await api("/email-validations", json({ emails: ["a@normal.test"] }, headers));
      expect(res.status).toBe(401);
      expectConforms(await res.json(), "error");
    }
    const res = await api("/email-validations/019e8e97-214c-782c-bf1a-5f04ef81ddd1?apiKey=mv_wrong");
    expect(res.status).toBe(401);
  });

  it("accepts the key as the apiKey query parameter", async () => {
    const { key } = await newAccount();
    const res = await api(
      `/email-validations?apiKey=${encodeURIComponent(key)}`,
      json({ emails: ["alice@normal.test"] }),
    );
    expect(res.status).toBe(202);
  });

  it("stores keys hashed, never in plain text", async () => {
    const { account, key } = await newAccount();
    const rows = await env.DB.prepare("SELECT * FROM api_keys WHERE account_id = ?").bind(account).all();
    expect(rows.results).toHaveLength(1);
    expect(JSON.stringify(rows.results)).not.toContain(key);
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key));
    const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
    expect(rows.results[0]?.key_hash).toBe(hex);
  });

  it("keeps another account's jobs invisible: 404, never 403", async () => {
    const owner = await newAccount("owner");
    const other = await newAccount("other");
    const job = await createJob(owner.auth, ["grey-z@greylist.test"]);
    const get = await api(`/email-validations/${job.id}`, { headers: other.auth });
    expect(get.status).toBe(404);
    const patch = await api(`/email-validations/${job.id}`, {
      method: "PATCH",
      headers: { ...other.auth, "content-type": "application/json" },
      body: JSON.stringify({ status: "canceled" }),
    });
    expect(patch.status).toBe(404);
    const cancel = await api(`/email-validations/${job.id}/cancel`, { method: "PATCH", headers: other.auth });
    expect(cancel.status).toBe(404);
    const { body } = await getJob(owner.auth, `/email-validations/${job.id}`);
    expect(body.status).not.toBe("canceled");
  });

  it("admin routes take only the admin token", async () => {
    const { auth } = await newAccount();
    const res = await api("/admin/accounts/someone/keys", { method: "POST", headers: auth });
    expect(res.status).toBe(401);
    const none = await api("/admin/accounts/someone/keys", { method: "POST" });
    expect(none.status).toBe(401);
  });
});

describe("at-least-once alarms", () => {
  it("repeated and concurrent alarms neither duplicate nor lose a result", async () => {
    const { auth } = await newAccount();
    const emails = Array.from({ length: 40 }, (_, i) => `u${i}@normal.test`);
    const job = await createJob(auth, emails);
    const stub = jobStub(env, job.id);
    await Promise.all([
      runDurableObjectAlarm(stub),
      runDurableObjectAlarm(stub),
      runDurableObjectAlarm(stub),
    ]);
    const done = await waitForJob(auth, job.id);
    expect(done.status).toBe("completed");
    expect(await jobRows(job.id)).toBe(40);
    expect(done.counts?.processed).toBe(40);
    const results = await allResults(auth, job.id, 7);
    expect(results.map((r) => r.email)).toEqual(emails);
  });
});
