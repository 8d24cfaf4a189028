import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN, api, createJob, getJob, json, newAccount, waitForJob } from "./helpers";

// Scheduled starts, idempotent creation, rate limits and running-job slots.

async function jobCount(account: string): Promise<number> {
  const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM jobs WHERE account_id = ?")
    .bind(account)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

describe("scheduled jobs", () => {
  it("waits in queued until start_at, then runs on its own", async () => {
    const { auth } = await newAccount();
    const startAt = new Date(Date.now() + 2500).toISOString();
    const job = await createJob(auth, ["alice@normal.test"], { start_at: startAt });
    await new Promise((r) => setTimeout(r, 1000));
    const { res, body } = await getJob(auth, `/email-validations/${job.id}`);
    expect(body.status).toBe("queued");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const compat = (await (await api(`/v1/email/validate/job/${job.id}`, { headers: auth })).json()) as {
      state: string;
    };
    expect(compat.state).toBe("pending");
    const done = await waitForJob(auth, job.id);
    expect(done.status).toBe("completed");
    expect(done.results[0]?.result).toBe("deliverable");
  });

  it("cancels every address when canceled before the start, and says so", async () => {
    const { auth } = await newAccount();
    const startAt = new Date(Date.now() + 60_000).toISOString();
    const job = await createJob(auth, ["alice@normal.test", "bob@normal.test", "carol@normal.test"], {
      start_at: startAt,
    });
    const res = await api(`/v1/email/validate/job/${job.id}/cancel`, { method: "POST", headers: auth });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      success: true,
      message: "Scheduled job cancelled successfully",
      batchJobId: job.id,
      contactsCancelled: 3,
    });
    const { body } = await getJob(auth, `/email-validations/${job.id}?include=details`);
    expect(body.status).toBe("canceled");
    expect(body.results).toEqual([]);
  });

  it.each([
    [{ start_at: "tomorrow" }, "/start_at"],
    [{ start_at: "2026-13-45T00:00:00Z" }, "/start_at"],
    [{ start_at: new Date(Date.now() + 40 * 86_400_000).toISOString() }, "/start_at"],
    [{ webhook_url: "not a url" }, "/webhook_url"],
    [{ webhook_url: "http://10.0.0.1/hook" }, "/webhook_url"],
    [{ webhook_url: "http://169.254.169.254/latest/meta-data" }, "/webhook_url"],
  ])("refuses %o with a pointer and creates nothing", async (options, pointer) => {
    const { account, auth } = await newAccount();
    const res = await api("/email-validations", json({ emails: ["alice@normal.test"], ...options }, auth));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { _errors: { source?: { pointer: string } }[] };
    expect(body._errors[0]?.source?.pointer).toBe(pointer);
    expect(await jobCount(account)).toBe(0);
  });
});

describe("idempotent create", () => {
  it("returns the same job for the same key and body, and refuses another body", async () => {
    const { account, auth } = await newAccount();
    const headers = { ...auth, "idempotency-key": "order-42" };
    const first = await api(
      "/email-validations",
      json({ emails: ["alice@normal.test", "bob@normal.test"] }, headers),
    );
    expect(first.status).toBe(202);
    const a = (await first.json()) as { id: string };
    const second = await api(
      "/email-validations",
      json({ emails: ["alice@normal.test", "bob@normal.test"] }, headers),
    );
    expect(second.status).toBe(202);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    const b = (await second.json()) as { id: string };
    expect(b.id).toBe(a.id);
    expect(await jobCount(account)).toBe(1);

    const conflict = await api("/email-validations", json({ emails: ["carol@normal.test"] }, headers));
    expect(conflict.status).toBe(422);
    const body = (await conflict.json()) as { _errors: { code: string }[] };
    expect(body._errors[0]?.code).toBe("idempotency_key_reused");
    expect(await jobCount(account)).toBe(1);
  });

  it("keeps keys per account and works for multipart uploads", async () => {
    const one = await newAccount();
    const two = await newAccount();
    const upload = (auth: Record<string, string>) => {
      const form = new FormData();
      form.append("source", "input");
      form.append("input", "alice@normal.test,bob@normal.test");
      return api("/v1/email/validate/job", {
        method: "POST",
        headers: { ...auth, "idempotency-key": "same" },
        body: form,
      });
    };
    const a1 = (await (await upload(one.auth)).json()) as { id: string };
    const a2 = (await (await upload(one.auth)).json()) as { id: string };
    const b1 = (await (await upload(two.auth)).json()) as { id: string };
    expect(a2.id).toBe(a1.id);
    expect(b1.id).not.toBe(a1.id);
    expect(await jobCount(one.account)).toBe(1);
    expect(await jobCount(two.account)).toBe(1);
  });

  it("refuses a malformed key", async () => {
    const { account, auth } = await newAccount();
    const res = await api(
      "/email-validations",
      json({ emails: ["a@normal.test"] }, { ...auth, "idempotency-key": "x".repeat(300) }),
    );
    expect(res.status).toBe(400);
    expect(await jobCount(account)).toBe(0);
  });
});

describe("rate limits", () => {
  it("says the limit on every answer, and answers 429 with Retry-After over it", async () => {
    const { account, auth } = await newAccount();
    const limit = Number(env.RATE_LIMIT_PER_MINUTE);
    let last: Response | null = null;
    let allowed = 0;
    for (let i = 0; i < limit * 2 + 5; i++) {
      last = await api("/email-validations?page[size]=1", { headers: auth });
      if (last.status === 429) break;
      expect(last.status).toBe(200);
      allowed++;
      expect(last.headers.get("ratelimit-limit")).toBe(String(limit));
      expect(last.headers.get("ratelimit-policy")).toBe(`${limit};w=60`);
      // The binding does not say how many are left: no made-up count.
      expect(last.headers.get("ratelimit-remaining")).toBeNull();
    }
    expect(last?.status).toBe(429);
    // A period may roll over during the loop: at least a full limit passed, at most two.
    expect(allowed).toBeGreaterThanOrEqual(limit);
    const retryAfter = Number(last?.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(last?.headers.get("ratelimit-reset")).toBe(String(retryAfter));
    expect(last?.headers.get("ratelimit-remaining")).toBe("0");
    const body = (await last!.json()) as { _errors: { code: string }[] };
    expect(body._errors[0]?.code).toBe("rate_limited");
    // Errors carry the headers too.
    const notFound = await api("/email-validations/not-a-job", { headers: auth });
    expect(notFound.headers.get("ratelimit-limit")).toBe(String(limit));
    // Another key of the same account has a count of its own.
    const other = await api(`/admin/accounts/${account}/keys`, { method: "POST", headers: ADMIN });
    const { key } = (await other.json()) as { key: string };
    const fresh = await api("/email-validations?page[size]=1", {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(fresh.status).toBe(200);
  });
});

describe("running-job slots", () => {
  it("keeps jobs beyond the account's cap queued until a slot frees", async () => {
    const { auth } = await newAccount();
    const max = Number(env.MAX_RUNNING_JOBS);
    // Greylisted mailboxes hold their jobs open for a few seconds each.
    const jobs = [];
    for (let i = 0; i < max + 1; i++) jobs.push(await createJob(auth, [`slot${i}@greylist.test`]));
    let queuedWhileOthersRun = false;
    for (let i = 0; i < 40 && !queuedWhileOthersRun; i++) {
      const statuses = await Promise.all(
        jobs.map(async (j) => (await getJob(auth, `/email-validations/${j.id}`)).body.status),
      );
      const running = statuses.filter((s) => s === "processing").length;
      expect(running).toBeLessThanOrEqual(max);
      queuedWhileOthersRun = running === max && statuses.includes("queued");
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(queuedWhileOthersRun).toBe(true);
    for (const j of jobs) expect((await waitForJob(auth, j.id)).status).toBe("completed");
  });
});
