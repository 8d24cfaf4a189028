import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProber } from "../../src/prober/server";
import { startSmtpWorld } from "../fixtures/smtp-server";
import { DEAD_IP, SMTP_SERVERS } from "../fixtures/world";

// The prober's own HTTP service, in Node against the fixture SMTP servers:
// /metrics in Prometheus text, per destination host.

const SECRET = "node-test-secret";
const NORMAL = "127.0.0.10";
const RATE_LIMIT = "127.0.0.15";
const TARPIT = "127.0.0.18";

let smtp: Awaited<ReturnType<typeof startSmtpWorld>>;
let prober: Awaited<ReturnType<typeof startProber>>;
let base: string;
const auth = { authorization: `Bearer ${SECRET}` };

beforeAll(async () => {
  smtp = await startSmtpWorld({ servers: SMTP_SERVERS });
  prober = await startProber({
    port: 0,
    secret: SECRET,
    // A client address of its own: the rate-limiting server has not seen it yet.
    sourceAddress: "127.0.1.9",
    smtp: {
      port: smtp.port,
      heloName: "prober.mailvet.test",
      mailFrom: "probe@mailvet.test",
      connectTimeoutMs: 500,
      replyTimeoutMs: 400,
    },
  });
  base = `http://127.0.0.1:${prober.port}`;
});
afterAll(async () => {
  await prober?.close();
  await smtp?.close();
});

function session(ip: string, recipients: string[]) {
  return fetch(`${base}/session`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ targets: [{ host: `mx-${ip}`, ip }], recipients, maxRcpts: 100 }),
  });
}

async function metrics(): Promise<string> {
  const res = await fetch(`${base}/metrics`, { headers: auth });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** One sample's value, 0 when the series does not exist yet. */
function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe("the prober's /metrics", () => {
  it("needs the shared secret", async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: "unauthorized" });
  });

  it("counts RCPTs and replies by class per destination host", async () => {
    const res = await session(NORMAL, ["alice@normal.test", "nobody@normal.test", "bob@normal.test"]);
    expect(res.status).toBe(200);
    const text = await metrics();
    expect(sample(text, `mailvet_prober_smtp_rcpts_total{host="${NORMAL}"}`)).toBe(3);
    expect(sample(text, `mailvet_prober_smtp_replies_total{host="${NORMAL}",class="5xx"}`)).toBe(1);
    // banner, EHLO, MAIL, two accepted RCPTs, QUIT
    expect(sample(text, `mailvet_prober_smtp_replies_total{host="${NORMAL}",class="2xx"}`)).toBe(6);
    expect(sample(text, "mailvet_prober_smtp_sessions_open")).toBe(0);
  });

  it("counts 421s, timeouts and connect failures per destination host", async () => {
    for (const ip of [RATE_LIMIT, DEAD_IP, TARPIT]) {
      const res = await session(ip, [`alice@x-${ip}.test`]);
      expect([ip, res.status]).toEqual([ip, 200]);
      await res.body?.cancel();
    }
    const text = await metrics();
    expect(sample(text, `mailvet_prober_smtp_421_total{host="${RATE_LIMIT}"}`)).toBe(1);
    expect(sample(text, `mailvet_prober_smtp_replies_total{host="${RATE_LIMIT}",class="4xx"}`)).toBe(1);
    expect(sample(text, `mailvet_prober_smtp_connect_failures_total{host="${DEAD_IP}"}`)).toBe(1);
    expect(sample(text, `mailvet_prober_smtp_timeouts_total{host="${TARPIT}"}`)).toBe(1);
    expect(sample(text, `mailvet_prober_smtp_connect_failures_total{host="${TARPIT}"}`)).toBe(0);
    expect(sample(text, `mailvet_prober_smtp_rcpts_total{host="${TARPIT}"}`)).toBe(0);
  });

  it("shows a session open while a server keeps it waiting", async () => {
    const pending = session(TARPIT, ["alice@tarpit.test"]);
    let open = 0;
    for (let i = 0; i < 50 && open === 0; i++) {
      open = sample(await metrics(), "mailvet_prober_smtp_sessions_open");
      if (open === 0) await new Promise((r) => setTimeout(r, 10));
    }
    expect(open).toBe(1);
    await (await pending).body?.cancel();
    expect(sample(await metrics(), "mailvet_prober_smtp_sessions_open")).toBe(0);
  });
});

describe("the prober's HTTP surface", () => {
  it("answers /health without a secret, and refuses bodies over 4 MiB with 413", async () => {
    const health = await fetch(`${base}/health`);
    expect([health.status, await health.json()]).toEqual([200, { ok: true }]);
    const big = await fetch(`${base}/session`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: "x".repeat(4 * 1024 * 1024 + 1),
    });
    expect([big.status, await big.json()]).toEqual([413, { error: "body too large" }]);
  });

  it("refuses the wrong method with 405 and an unknown path with 404", async () => {
    const wrong = await fetch(`${base}/session`, { headers: auth });
    expect([wrong.status, await wrong.json()]).toEqual([405, { error: "method not allowed" }]);
    const none = await fetch(`${base}/nope`);
    expect([none.status, await none.json()]).toEqual([404, { error: "not found" }]);
  });
});
