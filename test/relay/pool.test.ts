import { env } from "cloudflare:workers";
import { afterAll, describe, expect, inject, it } from "vitest";
import { ProberPool, proberUrls } from "../../src/mx/prober-pool";
import { PROBER_SOURCES, SHARED_HOST_IP, SLOW_IP } from "../fixtures/world";
import { ADMIN, api, createJob, getJob, newAccount, waitForJob } from "../helpers";
import { sessionsOf } from "../smtp-helpers";

// The relay project runs two real prober processes as a pool (PROBER_URLS);
// each sends its SMTP from its own loopback address, so the fixture servers
// see which prober a session came from. One test kills a prober with SIGKILL.

const URLS = proberUrls(env);
const sourceOf = (url: string) => PROBER_SOURCES[URLS.indexOf(url)]!;
const nameOf = (url: string) => `p${URLS.indexOf(url) + 1}`;
/** The prober the pool puts a host on while every prober is up. */
const stickyFor = (ip: string) => new ProberPool(URLS, { downMs: 1 }).rank(ip)[0]!;
const control = (action: "kill" | "start", url: string) =>
  fetch(`http://127.0.0.1:${inject("proberControlPort")}/${action}/${nameOf(url)}`, { method: "POST" });

/** RCPTs a prober has sent to one server, from its /metrics. */
async function rcptsSent(url: string, ip: string): Promise<number> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${env.PROBER_SECRET}` } });
  expect(res.status).toBe(200);
  const line = (await res.text())
    .split("\n")
    .find((l) => l.startsWith(`mailvet_prober_smtp_rcpts_total{host="${ip}"}`));
  return line ? Number(line.split(" ").pop()) : 0;
}

/** Where the sessions that carried these addresses came from, per client address. */
async function clientsFor(ip: string, addresses: Set<string>): Promise<Record<string, number>> {
  const clients: Record<string, number> = {};
  for (const s of await sessionsOf(ip)) {
    if (s.recipients.some((r) => addresses.has(r))) clients[s.client] = (clients[s.client] ?? 0) + 1;
  }
  return clients;
}

describe("a pool of two probers", () => {
  afterAll(async () => {
    for (const url of URLS) await (await control("start", url)).body?.cancel();
  });

  it("is configured from PROBER_URLS", () => {
    expect(env.SMTP_MODE).toBe("relay");
    expect(URLS).toHaveLength(2);
    expect(new Set(URLS.map(sourceOf)).size).toBe(2);
  });

  it("runs a job with each mail host's RCPTs all from its one prober", async () => {
    const stamp = Date.now().toString(36);
    const hosts = {
      "127.0.0.10": ["normal.test"],
      "127.0.0.14": ["m365.test"],
      [SHARED_HOST_IP]: ["shared-a.test", "shared-d.test"],
      [SLOW_IP]: [`a-${stamp}.slow.test`, `b-${stamp}.slow.test`],
    };
    const cases: [string, string, string][] = [];
    for (const [ip, domains] of Object.entries(hosts))
      for (const domain of domains)
        for (const local of ["alice", "bob", `nobody-${stamp}`])
          cases.push([
            `${local}@${domain}`,
            ip,
            local.startsWith("nobody") ? "undeliverable" : "deliverable",
          ]);
    const before = await Promise.all(
      Object.keys(hosts).map(async (ip) => [await rcptsSent(URLS[0]!, ip), await rcptsSent(URLS[1]!, ip)]),
    );

    const { auth } = await newAccount("pool");
    const job = await createJob(
      auth,
      cases.map((c) => c[0]),
    );
    const done = await waitForJob(auth, job.id);
    expect(done.status).toBe("completed");
    expect(done.results.map((r) => [r.email, r.result])).toEqual(
      cases.map(([email, , result]) => [email, result]),
    );

    for (const [i, ip] of Object.keys(hosts).entries()) {
      const sticky = stickyFor(ip);
      const sent = new Set(cases.filter((c) => c[1] === ip).map((c) => c[0]));
      // The server saw every session of this job's addresses come from one client: its prober's address.
      expect([ip, await clientsFor(ip, sent)]).toEqual([ip, { [sourceOf(sticky)]: expect.any(Number) }]);
      // And the probers' own counts agree: only the sticky one sent RCPTs to it.
      const after = [await rcptsSent(URLS[0]!, ip), await rcptsSent(URLS[1]!, ip)];
      const grew = after.map((n, p) => n - before[i]![p]!);
      expect([ip, grew[URLS.indexOf(sticky)]! >= sent.size, grew[1 - URLS.indexOf(sticky)]]).toEqual([
        ip,
        true,
        0,
      ]);
    }
  });

  it("finishes a job when one prober is killed mid-job: every address answered once, none unknown", async () => {
    const stamp = Date.now().toString(36);
    // A slow server (every reply after 25 ms), so the job is still running when the prober dies.
    const domains = Array.from({ length: 40 }, (_, i) => `k${i}-${stamp}.slow.test`);
    const locals = ["alice", "bob", "carol", ...Array.from({ length: 7 }, (_, i) => `u${i}-${stamp}`)];
    const cases = domains.flatMap((d) =>
      locals.map((l) => [`${l}@${d}`, l.startsWith("u") ? "undeliverable" : "deliverable"] as const),
    );
    const victim = stickyFor(SLOW_IP);
    const survivor = URLS.find((u) => u !== victim)!;
    const baseline = await rcptsSent(victim, SLOW_IP);

    const { auth } = await newAccount("pool-kill");
    const job = await createJob(
      auth,
      cases.map((c) => c[0]),
    );
    // Kill the prober as soon as it is sending this job's RCPTs.
    const deadline = Date.now() + 30_000;
    while ((await rcptsSent(victim, SLOW_IP)) === baseline) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 20));
    }
    const killed = await control("kill", victim);
    expect(await killed.json()).toMatchObject({ running: false });
    const { body: midway } = await getJob(auth, `/email-validations/${job.id}?include=details&page[size]=1`);
    expect(midway.status).toBe("processing");

    const done = await waitForJob(auth, job.id, 90_000);
    expect(done.status).toBe("completed");
    expect(done.results).toHaveLength(cases.length);
    expect(new Set(done.results.map((r) => r.email)).size).toBe(cases.length);
    expect(done.results.map((r) => [r.email, r.result])).toEqual(
      cases.map(([email, result]) => [email, result]),
    );
    expect(done.counts?.unknown).toBe(0);

    // The server saw the job from the victim first, then from the survivor.
    const clients = await clientsFor(SLOW_IP, new Set(cases.map((c) => c[0])));
    expect(clients[sourceOf(victim)]).toBeGreaterThan(0);
    expect(clients[sourceOf(survivor)]).toBeGreaterThan(0);

    // The admin API shows the pool's view: the victim down with its error, in the worker and in the host's object.
    const view = (await (await api(`/admin/probers?host=${SLOW_IP}`, { headers: ADMIN })).json()) as {
      probers: { url: string; up: boolean; last_error: string | null }[];
      host: { serving: string; probers: { url: string; up: boolean; last_error: string | null }[] };
    };
    expect(view.probers).toEqual([
      expect.objectContaining({ url: URLS[0], up: URLS[0] !== victim }),
      expect.objectContaining({ url: URLS[1], up: URLS[1] !== victim }),
    ]);
    expect(view.probers.find((p) => p.url === victim)?.last_error).toMatch(/health/);
    expect(view.host.probers.find((p) => p.url === victim)).toMatchObject({
      up: false,
      last_error: expect.any(String),
    });
    expect(view.host.probers.find((p) => p.url === survivor)).toMatchObject({ up: true });

    // Back up: the worker's view says so.
    const restarted = await control("start", victim);
    expect(await restarted.json()).toMatchObject({ running: true, url: victim });
    const again = (await (await api("/admin/probers", { headers: ADMIN })).json()) as typeof view;
    expect(again.probers.map((p) => p.up)).toEqual([true, true]);
    expect(again.host).toBeNull();
  }, 120_000);

  it("refuses a host that is not an address, and callers without the admin token", async () => {
    const bad = await api("/admin/probers?host=mx.example.com", { headers: ADMIN });
    expect(bad.status).toBe(400);
    await bad.body?.cancel();
    const anonymous = await api("/admin/probers");
    expect(anonymous.status).toBe(401);
    await anonymous.body?.cancel();
  });
});
