import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { describe, expect, inject, it } from "vitest";
import { jobStub } from "../../src/job/stub";
import { api, createJob, json, newAccount, waitForJob } from "../helpers";

// Webhooks end to end: the job's object signs and delivers through its
// alarm, and a real local receiver checks each signature with a maintained
// Standard Webhooks library.

const receiver = `http://127.0.0.1:${inject("webhookPort")}`;

interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
  time: number;
}

async function received(path: string): Promise<Received[]> {
  const res = await fetch(`${receiver}/_requests?path=${encodeURIComponent(path)}`);
  return (await res.json()) as Received[];
}

async function waitForRequests(path: string, count: number, timeoutMs = 15_000): Promise<Received[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await received(path);
    if (got.length >= count) return got;
    if (Date.now() > deadline)
      throw new Error(`${path}: ${got.length} of ${count} requests after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const tag = () => crypto.randomUUID().slice(0, 8);

async function jobSecret(auth: Record<string, string>): Promise<string> {
  const res = await api("/webhook-endpoints/job-secret", { method: "POST", headers: auth });
  expect(res.status).toBe(201);
  return ((await res.json()) as { secret: string }).secret;
}

async function endpoint(auth: Record<string, string>, url: string, events?: string[]) {
  const res = await api("/webhook-endpoints", json({ url, ...(events ? { events } : {}) }, auth));
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; secret: string; events: string[] };
}

function verify(secret: string, r: Received) {
  return new Webhook(secret).verify(r.body, {
    "webhook-id": r.headers["webhook-id"]!,
    "webhook-timestamp": r.headers["webhook-timestamp"]!,
    "webhook-signature": r.headers["webhook-signature"]!,
  }) as { type: string; data: { id: string; status: string; counts: { processed: number } } };
}

describe("webhooks", () => {
  it("signs the completed event to the job's webhook_url", async () => {
    const { auth } = await newAccount();
    const secret = await jobSecret(auth);
    const path = `/ok/${tag()}`;
    const job = await createJob(auth, ["alice@normal.test", "nobody@normal.test"], {
      webhook_url: `${receiver}${path}`,
    });
    await waitForJob(auth, job.id);
    const [hit] = await waitForRequests(path, 1);
    const event = verify(secret, hit!);
    expect(event.type).toBe("email_validation.completed");
    expect(event.data).toMatchObject({
      id: job.id,
      status: "completed",
      counts: { processed: 2, deliverable: 1 },
    });
    expect(() => verify("whsec_" + btoa("another secret, 24 bytes"), hit!)).toThrow();
    expect(hit!.headers["webhook-signature"]).toMatch(/^v1,/);
  });

  it("retries after a 500 with the same webhook-id and logs every attempt", async () => {
    const { auth } = await newAccount();
    const path = `/fail/1/${tag()}`;
    const ep = await endpoint(auth, `${receiver}${path}`);
    const job = await createJob(auth, ["alice@normal.test"]);
    await waitForJob(auth, job.id);
    const hits = await waitForRequests(path, 2);
    expect(hits[0]!.headers["webhook-id"]).toBe(hits[1]!.headers["webhook-id"]);
    expect(verify(ep.secret, hits[1]!).type).toBe("email_validation.completed");
    const gap = hits[1]!.time - hits[0]!.time;
    expect(gap).toBeGreaterThanOrEqual(3500); // 5 s ±20%, less clock slack

    const log = (await (
      await api(`/email-validations/${job.id}/webhook-deliveries`, { headers: auth })
    ).json()) as {
      webhook_deliveries: { id: string; state: string; attempts: { status: number | null }[] }[];
    };
    await expect
      .poll(async () => {
        const l = (await (
          await api(`/email-validations/${job.id}/webhook-deliveries`, { headers: auth })
        ).json()) as typeof log;
        return l.webhook_deliveries[0]?.state;
      })
      .toBe("delivered");
    const final = (await (
      await api(`/email-validations/${job.id}/webhook-deliveries`, { headers: auth })
    ).json()) as typeof log;
    expect(final.webhook_deliveries[0]!.attempts.map((a) => a.status)).toEqual([500, 204]);

    // Manual redelivery sends the same message once more.
    const retry = await api(
      `/email-validations/${job.id}/webhook-deliveries/${final.webhook_deliveries[0]!.id}/retry`,
      {
        method: "POST",
        headers: auth,
      },
    );
    expect(retry.status).toBe(202);
    const again = await waitForRequests(path, 3);
    expect(again[2]!.headers["webhook-id"]).toBe(hits[0]!.headers["webhook-id"]);
  });

  it("retries after a timeout", async () => {
    const { auth } = await newAccount();
    const path = `/slow-once/3000/${tag()}`;
    await endpoint(auth, `${receiver}${path}`);
    const job = await createJob(auth, ["alice@normal.test"]);
    await waitForJob(auth, job.id);
    await waitForRequests(path, 2);
    await expect
      .poll(async () => {
        const l = (await (
          await api(`/email-validations/${job.id}/webhook-deliveries`, { headers: auth })
        ).json()) as {
          webhook_deliveries: {
            state: string;
            attempts: { status: number | null; error: string | null }[];
          }[];
        };
        return l.webhook_deliveries[0];
      })
      .toMatchObject({ state: "delivered", attempts: [{ status: null }, { status: 204 }] });
  });

  it("disables an endpoint that answers 410 and stops", async () => {
    const { auth } = await newAccount();
    const path = `/gone/${tag()}`;
    const ep = await endpoint(auth, `${receiver}${path}`);
    const job = await createJob(auth, ["alice@normal.test"]);
    await waitForJob(auth, job.id);
    await waitForRequests(path, 1);
    await expect
      .poll(async () => {
        const list = (await (await api("/webhook-endpoints", { headers: auth })).json()) as {
          webhook_endpoints: { id: string; enabled: boolean }[];
        };
        return list.webhook_endpoints.find((e) => e.id === ep.id)?.enabled;
      })
      .toBe(false);
    // A second job sends nothing to the disabled endpoint.
    const second = await createJob(auth, ["bob@normal.test"]);
    await waitForJob(auth, second.id);
    await new Promise((r) => setTimeout(r, 500));
    expect(await received(path)).toHaveLength(1);
  });

  it("delivers after the object restarts", async () => {
    const { auth } = await newAccount();
    const path = `/fail/1/${tag()}`;
    await endpoint(auth, `${receiver}${path}`);
    const job = await createJob(auth, ["alice@normal.test"]);
    await waitForJob(auth, job.id);
    await waitForRequests(path, 1);
    // The retry is pending in the object's storage; throw the object's memory away.
    await evictDurableObject(jobStub(env, job.id));
    const hits = await waitForRequests(path, 2);
    expect(hits[1]!.headers["webhook-id"]).toBe(hits[0]!.headers["webhook-id"]);
  });

  it("sends canceled and failed events, and progress only to endpoints that opted in", async () => {
    const { auth } = await newAccount();
    const t = tag();
    const all = await endpoint(auth, `${receiver}/ok/all-${t}`, [
      "email_validation.canceled",
      "email_validation.failed",
      "email_validation.progress",
    ]);
    const finished = await createJob(auth, ["alice@normal.test"]);
    await waitForJob(auth, finished.id);
    const canceled = await createJob(auth, ["c1@greylist.test", "c2@greylist.test"]);
    await api(`/email-validations/${canceled.id}/cancel`, { method: "PATCH", headers: auth });
    const failing = await createJob(auth, ["alice@normal.test"], {
      start_at: new Date(Date.now() + 1000).toISOString(),
    });
    await jobStub(env, failing.id).injectFault("before_verify", 1000);
    await waitForJob(auth, failing.id);
    await expect
      .poll(
        async () => {
          const events = (await received(`/ok/all-${t}`)).map((r) => verify(all.secret, r));
          return ["email_validation.canceled", "email_validation.failed", "email_validation.progress"].every(
            (type) => events.some((e) => e.type === type),
          );
        },
        { timeout: 15_000 },
      )
      .toBe(true);
    const events = (await received(`/ok/all-${t}`)).map((r) => verify(all.secret, r));
    expect(events.find((e) => e.type === "email_validation.canceled")?.data.id).toBe(canceled.id);
    expect(events.find((e) => e.type === "email_validation.failed")?.data.id).toBe(failing.id);
    expect(events.find((e) => e.type === "email_validation.progress")?.data.id).toBe(finished.id);
    // Not subscribed to completed: nothing for the job that finished.
    expect(events.some((e) => e.type === "email_validation.completed")).toBe(false);
  });

  it.each([
    "http://10.0.0.1/hook",
    "http://192.168.1.1/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://[fd00::1]/hook",
    "https://metadata.google.internal/x",
    "ftp://127.0.0.1/x",
  ])("refuses the endpoint %s", async (url) => {
    const { auth } = await newAccount();
    const res = await api("/webhook-endpoints", json({ url }, auth));
    expect(res.status).toBe(400);
    const list = (await (await api("/webhook-endpoints", { headers: auth })).json()) as {
      webhook_endpoints: unknown[];
    };
    expect(list.webhook_endpoints).toHaveLength(0);
  });

  it("keeps endpoints and deliveries to their account", async () => {
    const owner = await newAccount("owner");
    const other = await newAccount("other");
    const ep = await endpoint(owner.auth, `${receiver}/ok/${tag()}`);
    const del = await api(`/webhook-endpoints/${ep.id}`, { method: "DELETE", headers: other.auth });
    expect(del.status).toBe(404);
    const job = await createJob(owner.auth, ["alice@normal.test"]);
    const log = await api(`/email-validations/${job.id}/webhook-deliveries`, { headers: other.auth });
    expect(log.status).toBe(404);
    const mine = await api(`/webhook-endpoints/${ep.id}`, { method: "DELETE", headers: owner.auth });
    expect(mine.status).toBe(204);
  });
});
