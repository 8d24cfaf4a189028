import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { MxProbeRequest } from "../src/mx/protocol";
import { CATCH_ALL_PROBE_PREFIX } from "../src/verify/smtp";
import type { MxHost } from "../src/verify/types";
import { MAILBOXES } from "./fixtures/world";
import { holdSession, mx, recipientsFor, resetSmtp, sleep, statsOf, uniqueDomain } from "./smtp-helpers";

const NORMAL = mx("mx.normal.test", "127.0.0.10");
const CATCH_ALL = mx("mx.catchall.test", "127.0.0.11");
const CONN_CAP = mx("mx.conncap.test", "127.0.0.16");

let objects = 0;
/** A fresh MX object per test, so back-off and caches never leak between tests. */
function mxObject(host: MxHost) {
  return env.MX.get(env.MX.idFromName(`${host.host}#${++objects}-${Date.now()}`));
}

function request(domain: string, host: MxHost, locals: string[]): MxProbeRequest {
  return { domain, hosts: [host], addresses: locals.map((local) => `${local}@${domain}`) };
}

/** `n` local parts: the real mailboxes, then unknown ones. */
function locals(n: number): string[] {
  return Array.from({ length: n }, (_, i) => MAILBOXES[i] ?? `nobody${i}`);
}

describe("MxObject", () => {
  it("keeps concurrent sessions to its host under MX_CONCURRENCY, across concurrent calls", async () => {
    const cap = Number(env.MX_CONCURRENCY);
    expect(cap).toBe(4);
    await resetSmtp("127.0.0.10", "peak");
    const object = mxObject(NORMAL);
    const domains = [uniqueDomain("cap-a"), uniqueDomain("cap-b"), uniqueDomain("cap-c")];
    const outs = await Promise.all(domains.map((d) => object.probe(request(d, NORMAL, locals(40)))));

    for (const [i, out] of outs.entries()) {
      const domain = domains[i] as string;
      expect(Object.keys(out.results)).toHaveLength(40);
      expect(out.results[`alice@${domain}`]).toMatchObject({ status: "exists", catchAll: false });
      expect(out.results[`nobody39@${domain}`]).toMatchObject({
        status: "not_found",
        mxHost: "mx.normal.test",
      });
    }
    const stats = await statsOf("127.0.0.10");
    expect(stats.maxConcurrent).toBeLessThanOrEqual(cap);
    // 40 addresses over parallel sessions, and still one random probe per domain.
    for (const domain of domains) {
      const seen = await recipientsFor("127.0.0.10", domain);
      expect(seen.filter((r) => r.startsWith(CATCH_ALL_PROBE_PREFIX))).toHaveLength(1);
    }
  });

  it("remembers a domain's catch-all status: the second call sends no random probe", async () => {
    const object = mxObject(CATCH_ALL);
    const domain = uniqueDomain("cache");
    const first = await object.probe(request(domain, CATCH_ALL, ["alice"]));
    expect(first.results[`alice@${domain}`]).toMatchObject({ status: "exists", catchAll: true });
    const probes = async () =>
      (await recipientsFor("127.0.0.11", domain)).filter((r) => r.startsWith(CATCH_ALL_PROBE_PREFIX));
    expect(await probes()).toHaveLength(1);

    const second = await object.probe(request(domain, CATCH_ALL, ["bob", "carol"]));
    expect(second.results[`bob@${domain}`]).toMatchObject({ status: "exists", catchAll: true });
    expect(await probes()).toHaveLength(1);
    expect(await recipientsFor("127.0.0.11", domain)).toHaveLength(1 + 1 + 2);
  });

  it("sends one random probe for a large list split over parallel sessions", async () => {
    const object = mxObject(CATCH_ALL);
    const domain = uniqueDomain("bigcatchall");
    const out = await object.probe(request(domain, CATCH_ALL, locals(60)));
    expect(Object.values(out.results).every((r) => r.status === "exists" && r.catchAll === true)).toBe(true);
    const seen = await recipientsFor("127.0.0.11", domain);
    expect(seen.filter((r) => r.startsWith(CATCH_ALL_PROBE_PREFIX))).toHaveLength(1);
    expect(seen).toHaveLength(61);
  });

  it("backs off after a 421: later calls answer rate_limited without connecting", async () => {
    const object = mxObject(CONN_CAP);
    const domain = uniqueDomain("backoff");
    const release = await holdSession("127.0.0.16");
    try {
      const first = await object.probe(request(domain, CONN_CAP, ["alice"]));
      expect(first.results[`alice@${domain}`]).toMatchObject({
        status: "rate_limited",
        reply: { code: 421 },
      });
    } finally {
      await release();
    }
    await waitUntilNoSessions("127.0.0.16");

    // The server would take us now, but the object waits out its back-off.
    const second = await object.probe(request(domain, CONN_CAP, ["bob"]));
    expect(second.results[`bob@${domain}`]).toMatchObject({
      status: "rate_limited",
      reply: { code: 421 },
      mxHost: "mx.conncap.test",
    });
    expect(await recipientsFor("127.0.0.16", domain)).toEqual([]);

    // Another host's object is not affected.
    const other = uniqueDomain("nobackoff");
    const fresh = await mxObject(CONN_CAP).probe(request(other, CONN_CAP, ["bob"]));
    expect(fresh.results[`bob@${other}`]?.status).toBe("exists");
  });
});

async function waitUntilNoSessions(ip: string): Promise<void> {
  for (let i = 0; i < 50 && (await statsOf(ip)).open > 0; i++) await sleep(20);
}
