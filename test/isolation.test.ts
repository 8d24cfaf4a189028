import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ADMIN, api, expectConforms, getJob, json, newAccount, waitForJob } from "./helpers";

// Accounts cannot see or touch each other's jobs, deliveries or webhook
// endpoints: every such request answers exactly as it would for an id that
// does not exist (404, never 403), and the owner's data stays as it was.
// Keys appear in no response but the one that creates them.

type Auth = Record<string, string>;
interface Account {
  account: string;
  key: string;
  auth: Auth;
}

const receiver = `http://127.0.0.1:${inject("webhookPort")}`;
const UNKNOWN_JOB = "019e8e97-214c-782c-bf1a-5f04ef81ddd1";
const LATER = () => new Date(Date.now() + 60 * 60_000).toISOString();

let owner: Account;
let other: Account;
let ownerJobs: { completed: string; queued: string };
let otherJob: string;
let ownerEndpoint: { id: string; secret: string };
let ownerJobSecret: string;
let ownerDelivery: string;

async function createdId(res: Response): Promise<string> {
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

interface Deliveries {
  webhook_deliveries: { id: string; state: string; attempts: unknown[] }[];
}

async function deliveries(auth: Auth, job: string): Promise<Deliveries> {
  const res = await api(`/email-validations/${job}/webhook-deliveries`, { headers: auth });
  expect(res.status).toBe(200);
  return (await res.json()) as Deliveries;
}

async function count(sql: string, arg: string): Promise<number> {
  return (await env.DB.prepare(sql).bind(arg).first<{ n: number }>())?.n ?? 0;
}

/** A fresh key of the owner's for reading state, so the per-key rate limit stays out of the way. */
async function ownerReader(): Promise<Auth> {
  const res = await api(`/admin/accounts/${owner.account}/keys`, { method: "POST", headers: ADMIN });
  expect(res.status).toBe(201);
  return { authorization: `Bearer ${((await res.json()) as { key: string }).key}` };
}

/** The owner's side of things, read back through the API and from D1. */
async function ownerState() {
  const auth = await ownerReader();
  const jobs = await Promise.all(
    Object.values(ownerJobs).map(async (id) => {
      const { res, body } = await getJob(auth, `/email-validations/${id}?include=details&page[size]=1000`);
      expect(res.status).toBe(200);
      return body;
    }),
  );
  return {
    jobs,
    deliveries: await deliveries(auth, ownerJobs.completed),
    endpoints: await (await api("/webhook-endpoints", { headers: auth })).json(),
    jobCount: await count("SELECT COUNT(*) AS n FROM jobs WHERE account_id = ?", owner.account),
    resultRows: await count("SELECT COUNT(*) AS n FROM results WHERE job_id = ?", ownerJobs.completed),
  };
}

beforeAll(async () => {
  owner = await newAccount("owner");
  other = await newAccount("other");
  const ep = await api(
    "/webhook-endpoints",
    json({ url: `${receiver}/ok/iso-${owner.account}` }, owner.auth),
  );
  expect(ep.status).toBe(201);
  ownerEndpoint = (await ep.json()) as { id: string; secret: string };
  const js = await api("/webhook-endpoints/job-secret", { method: "POST", headers: owner.auth });
  ownerJobSecret = ((await js.json()) as { secret: string }).secret;
  const [completed, queued, mine] = await Promise.all([
    createdId(
      await api(
        "/email-validations",
        json(
          {
            emails: ["alice@normal.test", "nobody@normal.test"],
            webhook_url: `${receiver}/ok/iso-job-${owner.account}`,
          },
          owner.auth,
        ),
      ),
    ),
    createdId(
      await api("/email-validations", json({ emails: ["bob@normal.test"], start_at: LATER() }, owner.auth)),
    ),
    createdId(
      await api("/email-validations", json({ emails: ["carol@normal.test"], start_at: LATER() }, other.auth)),
    ),
  ]);
  ownerJobs = { completed: completed!, queued: queued! };
  otherJob = mine!;
  expect((await waitForJob(owner.auth, ownerJobs.completed)).status).toBe("completed");
  // The endpoint and the job's own webhook_url each get the completed event; wait until both landed.
  const reader = await ownerReader();
  let states: string[] = [];
  for (let i = 0; i < 150 && states.join() !== "delivered,delivered"; i++) {
    if (i) await new Promise((r) => setTimeout(r, 100));
    states = (await deliveries(reader, ownerJobs.completed)).webhook_deliveries.map((d) => d.state);
  }
  expect(states).toEqual(["delivered", "delivered"]);
  ownerDelivery = (await deliveries(owner.auth, ownerJobs.completed)).webhook_deliveries[0]!.id;
});

afterAll(async () => {
  // Jobs scheduled an hour ahead would otherwise keep an alarm armed.
  if (ownerJobs)
    await api(`/email-validations/${ownerJobs.queued}`, { method: "DELETE", headers: owner.auth });
  if (otherJob) await api(`/email-validations/${otherJob}`, { method: "DELETE", headers: other.auth });
});

/** Every route that takes an id, with the id to put in and an optional JSON body. */
function idRoutes(): { name: string; method: string; path: (job: string) => string; body?: unknown }[] {
  const EV = "/email-validations";
  const V1 = "/v1/email/validate/job";
  return [
    { name: "GET job", method: "GET", path: (j) => `${EV}/${j}` },
    {
      name: "GET job, details and a cursor",
      method: "GET",
      path: (j) => `${EV}/${j}?include=details&page[size]=1&page[after]=alice%40normal.test`,
    },
    { name: "PATCH cancel", method: "PATCH", path: (j) => `${EV}/${j}`, body: { status: "canceled" } },
    { name: "PATCH pause", method: "PATCH", path: (j) => `${EV}/${j}`, body: { status: "paused" } },
    { name: "PATCH bad status", method: "PATCH", path: (j) => `${EV}/${j}`, body: { status: "done" } },
    { name: "PATCH /cancel", method: "PATCH", path: (j) => `${EV}/${j}/cancel` },
    { name: "DELETE job", method: "DELETE", path: (j) => `${EV}/${j}` },
    { name: "GET download", method: "GET", path: (j) => `${EV}/${j}/download` },
    {
      name: "GET download ndjson",
      method: "GET",
      path: (j) => `${EV}/${j}/download?format=ndjson&result=deliverable`,
    },
    { name: "GET webhook deliveries", method: "GET", path: (j) => `${EV}/${j}/webhook-deliveries` },
    {
      name: "POST retry a real delivery",
      method: "POST",
      path: (j) => `${EV}/${j}/webhook-deliveries/${ownerDelivery}/retry`,
    },
    { name: "compat GET job", method: "GET", path: (j) => `${V1}/${j}` },
    { name: "compat GET result", method: "GET", path: (j) => `${V1}/${j}/result?pos=0` },
    { name: "compat GET download", method: "GET", path: (j) => `${V1}/${j}/download?filters=valid` },
    { name: "compat pause", method: "POST", path: (j) => `${V1}/${j}/pause` },
    { name: "compat resume", method: "POST", path: (j) => `${V1}/${j}/resume` },
    { name: "compat cancel", method: "POST", path: (j) => `${V1}/${j}/cancel` },
    { name: "compat DELETE job", method: "DELETE", path: (j) => `${V1}/${j}` },
  ];
}

function call(method: string, path: string, auth: Auth | "query", key: string, body?: unknown) {
  const headers: Record<string, string> = auth === "query" ? {} : { ...auth };
  const target =
    auth === "query" ? `${path}${path.includes("?") ? "&" : "?"}apiKey=${encodeURIComponent(key)}` : path;
  if (body !== undefined) headers["content-type"] = "application/json";
  return api(target, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
}

/** Status, body and header names: all a client could tell an existing job from a missing one by. */
async function answer(res: Response) {
  const text = await res.text();
  const names = [...res.headers.keys()].filter((h) => !h.startsWith("ratelimit-")).sort();
  return { status: res.status, text, names };
}

describe("another account's ids answer 404, exactly like ids that do not exist", () => {
  it.each(
    idRoutes().flatMap((route) =>
      (["completed", "queued"] as const).flatMap((which) =>
        (["bearer", "query"] as const).map(
          (how) => [`${route.name} (${which} job, key as ${how})`, route, which, how] as const,
        ),
      ),
    ),
  )("%s", async (_name, route, which, how) => {
    const before = await ownerState();
    const auth = how === "bearer" ? other.auth : "query";
    const theirs = await answer(
      await call(route.method, route.path(ownerJobs[which]), auth, other.key, route.body),
    );
    const missing = await answer(
      await call(route.method, route.path(UNKNOWN_JOB), auth, other.key, route.body),
    );

    expect(theirs.status, theirs.text).toBe(404);
    expect(theirs).toEqual(missing);
    const body = JSON.parse(theirs.text) as unknown;
    if (route.name.startsWith("compat")) {
      expect(body).toEqual({ error: "Job not found" });
    } else {
      expectConforms(body, "error");
      expect(body).toEqual({
        _errors: [{ code: "not_found", title: "Not Found", detail: "Could not find email validation." }],
        object: "error",
      });
    }
    expect(theirs.text).not.toContain(ownerJobs[which]);
    expect(await ownerState()).toEqual(before);
  });

  it("answers 404 for another account's job spelled in upper case too", async () => {
    const before = await ownerState();
    const upper = ownerJobs.queued.toUpperCase();
    for (const [method, path, body] of [
      ["GET", `/email-validations/${upper}`],
      ["PATCH", `/email-validations/${upper}`, { status: "canceled" }],
      ["PATCH", `/email-validations/${upper}/cancel`],
      ["DELETE", `/email-validations/${upper}`],
      ["GET", `/v1/email/validate/job/${upper}`],
      ["POST", `/v1/email/validate/job/${upper}/cancel`],
      ["DELETE", `/v1/email/validate/job/${upper}`],
    ] as const) {
      const res = await call(method, path, other.auth, other.key, body);
      expect(res.status, `${method} ${path}`).toBe(404);
      await res.body?.cancel();
    }
    expect(await ownerState()).toEqual(before);
  });

  it("refuses to delete another account's webhook endpoint, like an unknown one", async () => {
    const before = await ownerState();
    for (const auth of [other.auth, "query"] as const) {
      const theirs = await answer(
        await call("DELETE", `/webhook-endpoints/${ownerEndpoint.id}`, auth, other.key),
      );
      const missing = await answer(
        await call("DELETE", "/webhook-endpoints/we_doesnotexist0", auth, other.key),
      );
      expect(theirs.status).toBe(404);
      expect(theirs).toEqual(missing);
      expectConforms(JSON.parse(theirs.text), "error");
    }
    expect(await ownerState()).toEqual(before);
  });

  it("cannot retry another account's delivery through a job of its own", async () => {
    const before = await ownerState();
    const res = await api(`/email-validations/${otherJob}/webhook-deliveries/${ownerDelivery}/retry`, {
      method: "POST",
      headers: other.auth,
    });
    expect(res.status).toBe(404);
    const body = await res.json();
    expectConforms(body, "error");
    expect(body).toMatchObject({ _errors: [{ code: "not_found" }] });
    expect(await ownerState()).toEqual(before);
  });

  it("lists only the caller's own jobs and endpoints, whatever the cursor", async () => {
    const ownerIds = Object.values(ownerJobs);
    const lists = [
      "/email-validations",
      "/email-validations?include=details&page[size]=1000",
      `/email-validations?page[after]=${ownerJobs.completed}`,
      `/email-validations?page[after]=${ownerJobs.queued}`,
      "/v1/email/validate/job",
      "/webhook-endpoints",
    ];
    for (const path of lists) {
      const res = await api(path, { headers: other.auth });
      expect(res.status, path).toBe(200);
      // The self link echoes the caller's own cursor; everything else must be the caller's.
      const { _links, ...rest } = (await res.json()) as Record<string, unknown>;
      const text = JSON.stringify(rest);
      for (const id of [...ownerIds, ownerEndpoint.id]) expect(text, path).not.toContain(id);
    }
    const mine = (await (await api("/email-validations", { headers: other.auth })).json()) as {
      email_validations: { id: string }[];
    };
    expect(mine.email_validations.map((j) => j.id)).toEqual([otherJob]);
  });
});

describe("admin routes refuse account keys", () => {
  it.each([
    ["the owner's key as Bearer", "owner", "bearer"],
    ["the owner's key as ?apiKey", "owner", "query"],
    ["the other account's key as Bearer, for the owner", "other", "bearer"],
  ] as const)("%s", async (_name, whose, how) => {
    const acct = whose === "owner" ? owner : other;
    for (const target of [owner.account, other.account, "brand-new-account"]) {
      const before = await count("SELECT COUNT(*) AS n FROM api_keys WHERE account_id = ?", target);
      const path = `/admin/accounts/${target}/keys`;
      const res =
        how === "bearer"
          ? await api(path, { method: "POST", headers: acct.auth })
          : await api(`${path}?apiKey=${encodeURIComponent(acct.key)}`, { method: "POST" });
      expect(res.status).toBe(401);
      const body = await res.json();
      expectConforms(body, "error");
      expect(body).toMatchObject({ _errors: [{ code: "unauthorized" }] });
      expect(await count("SELECT COUNT(*) AS n FROM api_keys WHERE account_id = ?", target)).toBe(before);
    }
  });
});

describe("keys and secrets appear only in the response that creates them", () => {
  it("never echoes a key, the admin token or a webhook secret", async () => {
    const wrongKey = `mv_${"Z".repeat(43)}`;
    const q = `apiKey=${encodeURIComponent(owner.key)}`;
    const j = ownerJobs.completed;
    const requests: [string, RequestInit][] = [
      [`/email-validations?${q}`, {}],
      [`/email-validations?${q}&include=details&page[size]=1`, {}],
      [`/email-validations/${j}?${q}&include=details&page[size]=1`, {}],
      [`/email-validations/${j}?${q}&page[size]=0`, {}],
      [`/email-validations/${j}?${q}&page[after]=ghost%40normal.test`, {}],
      [`/email-validations/${UNKNOWN_JOB}?${q}`, {}],
      [
        `/email-validations/${j}?${q}`,
        { method: "PATCH", headers: { "content-type": "application/json" }, body: '{"status":"done"}' },
      ],
      [`/email-validations/${j}/download?${q}`, {}],
      [`/email-validations/${j}/download?${q}&format=ndjson`, {}],
      [`/email-validations/${j}/webhook-deliveries?${q}`, {}],
      [`/v1/email/validate/job?${q}`, {}],
      [`/v1/email/validate/job/${j}?${q}`, {}],
      [`/v1/email/validate/job/${j}/result?${q}`, {}],
      [`/v1/email/validate/job/${j}/result?${q}&pos=x`, {}],
      [`/v1/email/validate/job/${UNKNOWN_JOB}?${q}`, {}],
      [`/webhook-endpoints?${q}`, {}],
      [
        `/webhook-endpoints?${q}`,
        { method: "POST", headers: { "content-type": "application/json" }, body: '{"url":"nope"}' },
      ],
      [`/email-validations?apiKey=${wrongKey}`, {}],
      ["/email-validations", { headers: { authorization: `Bearer ${wrongKey}` } }],
      ["/v1/email/validate/job", { headers: { authorization: `Bearer ${wrongKey}` } }],
      [`/email-validations?apiKey=${env.ADMIN_TOKEN}`, {}],
      [`/admin/accounts/${owner.account}/keys?${q}`, { method: "POST" }],
      [
        `/admin/accounts/${owner.account}/keys`,
        { method: "POST", headers: { authorization: `Bearer ${wrongKey}` } },
      ],
      [`/email-validations/${j}`, { headers: owner.auth }],
      [`/email-validations/${j}/webhook-deliveries`, { headers: owner.auth }],
      ["/webhook-endpoints", { headers: owner.auth }],
      [`/email-validations/${j}`, { headers: other.auth }],
    ];
    const secrets = {
      ownerKey: owner.key,
      otherKey: other.key,
      wrongKey,
      admin: String(env.ADMIN_TOKEN),
      endpointSecret: ownerEndpoint.secret,
      jobSecret: ownerJobSecret,
    };
    for (const [path, init] of requests) {
      const res = await api(path, init);
      expect(res.status, path).toBeLessThan(500);
      const seen = `${await res.text()}\n${[...res.headers].map(([k, v]) => `${k}: ${v}`).join("\n")}`;
      for (const [name, secret] of Object.entries(secrets)) {
        expect(seen.includes(secret), `${name} in the answer to ${path}`).toBe(false);
        expect(seen.includes(encodeURIComponent(secret)), `${name} in the answer to ${path}`).toBe(false);
      }
    }
  });

  it("shows a new key once, and another key for the same account does not reveal the first", async () => {
    const account = `${owner.account}-again`;
    const first = await api(`/admin/accounts/${account}/keys`, { method: "POST", headers: ADMIN });
    const second = await api(`/admin/accounts/${account}/keys`, { method: "POST", headers: ADMIN });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    const a = (await first.json()) as { key: string };
    const text = await second.text();
    expect(text).not.toContain(a.key);
    expect(text).not.toContain(owner.key);
  });
});
