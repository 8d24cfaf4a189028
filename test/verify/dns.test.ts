import { env } from "cloudflare:workers";
import { Buffer } from "node:buffer";
import * as dnsPacket from "dns-packet";
import { describe, expect, it } from "vitest";
import { cacheApiDnsCache, DnsResolver, resolveMailHosts } from "../../src/verify/dns";
import type { DnsResult } from "../../src/verify/types";
import { DEAD_IP, ZONE } from "../fixtures/world";

// Every lookup here is real DoH over loopback to the fixture server that
// global-setup starts on the zone in test/fixtures/world.ts.

const timeoutMs = Number(env.DNS_TIMEOUT_MS);
const dohUrl = env.DOH_URL;
/** The fixture's other paths: same server, scripted failures. */
const dohPath = (path: string) => new URL(path, dohUrl).toString();

const resolve = (domain: string, opts: Partial<Parameters<typeof resolveMailHosts>[1]> = {}) =>
  resolveMailHosts(domain, { dohUrl, timeoutMs, ...opts });

/** Counts real fetches (and how many overlap) so cache hits can be told from lookups. */
function countingFetch() {
  const stats = { calls: 0, inFlight: 0, peak: 0 };
  const fetcher: typeof fetch = async (input, init) => {
    stats.calls++;
    stats.peak = Math.max(stats.peak, ++stats.inFlight);
    try {
      return await fetch(input, init);
    } finally {
      stats.inFlight--;
    }
  };
  return { fetcher, stats };
}

/** Sends the queries of the given types to another fixture path, the rest to /dns-query. */
function routeTypes(types: string[], path: string): typeof fetch {
  return (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const question = dnsPacket.decode(Buffer.from(url.searchParams.get("dns") ?? "", "base64url"))
      .questions?.[0];
    if (question && types.includes(question.type)) url.pathname = path;
    return fetch(new Request(url, request));
  };
}

const normalHost = { host: "mx.normal.test", preference: 10, addresses: ["127.0.0.10"] };

describe("resolveMailHosts over the fixture zone", () => {
  it("resolves an MX and its address", async () => {
    expect(await resolve("normal.test")).toEqual({ status: "ok", hosts: [normalHost], ttl: 300 });
  });

  it("lists every exchanger in preference order, dead primary first", async () => {
    const result = await resolve("backup.test");
    expect(result.status).toBe("ok");
    expect(result.hosts).toEqual([
      { host: "mx.dead.test", preference: 10, addresses: [DEAD_IP] },
      { host: "mx.normal.test", preference: 20, addresses: ["127.0.0.10"] },
    ]);
  });

  it("reports an RFC 7505 null MX", async () => {
    expect(await resolve("nullmx.test")).toEqual({ status: "null_mx", hosts: [], ttl: 300 });
  });

  it("falls back to the domain's own address when it has no MX", async () => {
    expect(await resolve("implicit.test")).toEqual({
      status: "implicit_mx",
      hosts: [{ host: "implicit.test", preference: 0, addresses: ["127.0.0.10"] }],
      ttl: 300,
    });
  });

  it("reports no_mail_host for a domain with neither MX nor address", async () => {
    const result = await resolve("nomail.test");
    expect(result.status).toBe("no_mail_host");
    expect(result.hosts).toEqual([]);
    expect(result.ttl).toBe(300); // from the SOA of the NODATA answers
  });

  it("reports nxdomain for a name that does not exist, with the SOA's TTL", async () => {
    expect(await resolve("no-such-domain.test")).toEqual({ status: "nxdomain", hosts: [], ttl: 300 });
  });

  it("reports SERVFAIL as an error, never as nxdomain", async () => {
    const result = await resolve("servfail.test");
    expect(result.status).toBe("error");
    expect(result.error).toMatch(/SERVFAIL/);
  });

  it("follows a CNAME to the target's MX", async () => {
    expect(await resolve("alias.test")).toMatchObject({ status: "ok", hosts: [normalHost] });
  });

  it("follows a CNAME itself when the server does not chase it", async () => {
    const { fetcher, stats } = countingFetch();
    const result = await resolve("alias.test", { dohUrl: dohPath("/nochase/dns-query"), fetcher });
    expect(result).toMatchObject({ status: "ok", hosts: [normalHost] });
    expect(stats.calls).toBe(4); // MX alias.test, MX normal.test, A and AAAA of the exchanger
  });

  it("resolves an IDN domain given as A-labels", async () => {
    expect(await resolve("xn--bcher-kva.test")).toMatchObject({ status: "ok", hosts: [normalHost] });
  });

  it("treats the name case-insensitively and ignores a trailing dot", async () => {
    expect(await resolve("Normal.TEST.")).toMatchObject({ status: "ok", hosts: [normalHost] });
  });

  it("works with POST as well as GET", async () => {
    expect(await resolve("normal.test", { method: "POST" })).toMatchObject({
      status: "ok",
      hosts: [normalHost],
    });
  });

  it("reports an error when the exchangers' address lookups fail", async () => {
    const result = await resolve("normal.test", { fetcher: routeTypes(["A", "AAAA"], "/refused/dns-query") });
    expect(result.status).toBe("error");
    expect(result.error).toMatch(/mx\.normal\.test.*REFUSED/);
  });

  it("reports an error when the implicit MX address lookups fail", async () => {
    const result = await resolve("implicit.test", {
      fetcher: routeTypes(["A", "AAAA"], "/refused/dns-query"),
    });
    expect(result.status).toBe("error");
  });

  it("keeps the hosts that resolved when others fail, for a short while only", async () => {
    // Only AAAA fails: the IPv4 addresses are enough.
    const result = await resolve("backup.test", { fetcher: routeTypes(["AAAA"], "/refused/dns-query") });
    expect(result.status).toBe("ok");
    expect(result.hosts.map((h) => h.host)).toEqual(["mx.dead.test", "mx.normal.test"]);
  });

  // These need exchangers that do not exist or SERVFAIL; see the report for the zone entries.
  it.skipIf(!("lame.test" in ZONE))("reports no_mail_host when every exchanger is NXDOMAIN", async () => {
    const result = await resolve("lame.test");
    expect(result.status).toBe("no_mail_host");
    expect(result.error).toMatch(/NXDOMAIN/);
  });

  it.skipIf(!("mxfail.test" in ZONE))("reports an error when every exchanger SERVFAILs", async () => {
    expect((await resolve("mxfail.test")).status).toBe("error");
  });

  it("bounds the DoH requests in flight", async () => {
    const { fetcher, stats } = countingFetch();
    await resolve("backup.test", { fetcher });
    expect(stats.calls).toBe(5); // MX, then A and AAAA of two exchangers
    expect(stats.peak).toBeGreaterThan(1);
    expect(stats.peak).toBeLessThanOrEqual(4);
  });
});

describe("resolveMailHosts when the resolver fails", () => {
  // Unreachable (our outage) or a broken answer (the domain's problem): never nxdomain either way.
  const failures: [string, string, "unavailable" | "error", RegExp][] = [
    ["nothing listens on the port", "http://127.0.0.1:9/dns-query", "unavailable", /request failed/],
    ["the path does not exist (HTTP 404)", dohPath("/no-such-path"), "unavailable", /HTTP 404/],
    ["the server answers REFUSED", dohPath("/refused/dns-query"), "error", /REFUSED/],
    ["the answer is not a DNS message", dohPath("/garbage/dns-query"), "error", /malformed/],
  ];

  for (const [what, url, status, error] of failures) {
    it(`reports ${status}, not nxdomain, when ${what}`, async () => {
      const result = await resolve("normal.test", { dohUrl: url });
      expect(result).toMatchObject({ status, hosts: [] });
      expect(result.error).toMatch(error);
    });
  }

  it("times out a resolver that never answers, and says it could not be reached", async () => {
    const started = Date.now();
    const result = await resolve("normal.test", { dohUrl: dohPath("/stall/dns-query"), timeoutMs: 300 });
    expect(result.status).toBe("unavailable");
    expect(result.error).toMatch(/timed out after 300 ms/);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe("DnsResolver caching", () => {
  // The fixture zone's names end in .test, which the resolver otherwise answers as reserved.
  const resolveReserved = ["test"];

  it("answers a second lookup of a domain from its memo", async () => {
    const { fetcher, stats } = countingFetch();
    const resolver = new DnsResolver({ dohUrl, timeoutMs, resolveReserved, fetcher });
    const first = await resolver.resolve("normal.test");
    expect(stats.calls).toBe(3); // MX, A, AAAA
    expect(await resolver.resolve("normal.test")).toEqual(first);
    expect(stats.calls).toBe(3);
  });

  it("shares one lookup between concurrent callers", async () => {
    const { fetcher, stats } = countingFetch();
    const resolver = new DnsResolver({ dohUrl, timeoutMs, resolveReserved, fetcher });
    const results = await Promise.all(Array.from({ length: 5 }, () => resolver.resolve("catchall.test")));
    expect(stats.calls).toBe(3);
    for (const r of results) expect(r).toBe(results[0]);
  });

  it("keeps all of its lookups within one DoH request budget", async () => {
    const { fetcher, stats } = countingFetch();
    const resolver = new DnsResolver({ dohUrl, timeoutMs, resolveReserved, fetcher });
    const domains = [
      "backup.test",
      "greylist.test",
      "blocked.test",
      "m365.test",
      "drop.test",
      "implicit.test",
    ];
    const results = await Promise.all(domains.map((d) => resolver.resolve(d)));
    expect(results.map((r) => r.status)).toEqual(["ok", "ok", "ok", "ok", "ok", "implicit_mx"]);
    expect(stats.peak).toBeLessThanOrEqual(4);
  });

  it("memoises an error within the instance so a broken domain is not re-asked", async () => {
    const { fetcher, stats } = countingFetch();
    const resolver = new DnsResolver({ dohUrl, timeoutMs, resolveReserved, fetcher });
    expect((await resolver.resolve("servfail.test")).status).toBe("error");
    const calls = stats.calls;
    expect((await resolver.resolve("servfail.test")).status).toBe("error");
    expect(stats.calls).toBe(calls);
  });

  it("serves a fresh instance from the Cache API shared cache", async () => {
    const sharedCache = cacheApiDnsCache(caches.default);
    const first = await new DnsResolver({ dohUrl, timeoutMs, resolveReserved, sharedCache }).resolve(
      "ratelimit.test",
    );
    expect(first.status).toBe("ok");

    const { fetcher, stats } = countingFetch();
    const second = await new DnsResolver({
      dohUrl,
      timeoutMs,
      resolveReserved,
      sharedCache,
      fetcher,
    }).resolve("ratelimit.test");
    expect(stats.calls).toBe(0);
    expect(second).toMatchObject({ status: "ok", hosts: first.hosts });
    expect(second.ttl).toBeGreaterThan(0);
    expect(second.ttl).toBeLessThanOrEqual(300);
  });

  it("caches negative answers across instances too", async () => {
    const sharedCache = cacheApiDnsCache(caches.default);
    await new DnsResolver({ dohUrl, timeoutMs, resolveReserved, sharedCache }).resolve("gone-for-good.test");
    const { fetcher, stats } = countingFetch();
    const again = await new DnsResolver({ dohUrl, timeoutMs, resolveReserved, sharedCache, fetcher }).resolve(
      "gone-for-good.test",
    );
    expect(again.status).toBe("nxdomain");
    expect(stats.calls).toBe(0);
  });

  it("does not put an error in the shared cache", async () => {
    const sharedCache = cacheApiDnsCache(caches.default);
    expect(
      (await new DnsResolver({ dohUrl, timeoutMs, resolveReserved, sharedCache }).resolve("servfail.test"))
        .status,
    ).toBe("error");
    expect(await sharedCache.get("servfail.test")).toBeNull();

    const { fetcher, stats } = countingFetch();
    await new DnsResolver({ dohUrl, timeoutMs, resolveReserved, sharedCache, fetcher }).resolve(
      "servfail.test",
    );
    expect(stats.calls).toBeGreaterThan(0);
  });

  it("still resolves when the shared cache fails", async () => {
    const broken = {
      get: () => Promise.reject(new Error("cache down")),
      put: () => Promise.reject(new Error("cache down")),
    };
    const result = await new DnsResolver({ dohUrl, timeoutMs, resolveReserved, sharedCache: broken }).resolve(
      "conncap.test",
    );
    expect(result.status).toBe("ok");
  });
});

describe("cacheApiDnsCache", () => {
  it("stores an answer per domain and returns the TTL that is left", async () => {
    const cache = cacheApiDnsCache(caches.default);
    const answer: DnsResult = { status: "ok", hosts: [normalHost], ttl: 120 };
    await cache.put("stored.example", answer);
    const back = await cache.get("STORED.example");
    expect(back).toMatchObject({ status: "ok", hosts: [normalHost] });
    expect(back?.ttl).toBeGreaterThan(115);
    expect(back?.ttl).toBeLessThanOrEqual(120);
    expect(await cache.get("other.example")).toBeNull();
  });
});
