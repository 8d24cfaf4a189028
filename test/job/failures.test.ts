import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { jobStub } from "../../src/job/stub";
import { DnsResolver } from "../../src/verify/dns";
import { ResolverBreaker } from "../../src/verify/resolver-breaker";
import { createJob, newAccount, waitForJob } from "../helpers";

// A passing failure of our own infrastructure is never a verdict: the
// address waits and is asked again, and only at its deadline is it answered,
// with a reason that names what failed. An unreachable resolver fails fast.

/** Nothing listens on the discard port of loopback: every connection is refused. */
const DEAD_DOH = "http://127.0.0.1:9/dns-query";

describe("an unreachable resolver", () => {
  it("is asked a few times, not once per lookup, and the outage is logged once", async () => {
    let fetches = 0;
    const logs: string[] = [];
    const resolver = new DnsResolver({
      dohUrl: DEAD_DOH,
      timeoutMs: 1000,
      fetcher: (input, init) => {
        fetches++;
        return fetch(input, init);
      },
      breaker: new ResolverBreaker((line) => logs.push(line)),
      resolveReserved: ["test"],
    });
    const domains = Array.from({ length: 200 }, (_, i) => `offline-${i}.example.test`);
    const results = [];
    for (const domain of domains) results.push(await resolver.resolve(domain));

    expect(new Set(results.map((r) => r.status))).toEqual(new Set(["unavailable"]));
    expect(results[0]?.error).toMatch(/DoH request failed/);
    // Three failed lookups open the breaker; the rest fail without a request.
    expect(fetches).toBeLessThanOrEqual(3 * 2);
    expect(logs.filter((l) => l.includes("DoH resolver unreachable"))).toHaveLength(1);
  });

  it("ends a job with dns_unavailable at the deadline, never dns_error on the spot", async () => {
    const { auth } = await newAccount("offline");
    const tag = Date.now().toString(36);
    const emails = Array.from({ length: 30 }, (_, i) => `user${i}@offline-${tag}-${i % 6}.normal.test`);
    const job = await createJob(auth, emails, { start_at: new Date(Date.now() + 1000).toISOString() });
    expect(await jobStub(env, job.id).injectFault("resolver_offline", 1)).toBe(true);
    const started = Date.now();
    const done = await waitForJob(auth, job.id, 40_000);
    const tookMs = Date.now() - started;
    console.log(JSON.stringify({ measure: "offline job end", ms: tookMs }));

    expect(done.status).toBe("completed");
    expect(new Set(done.results.map((r) => `${r.result}/${r.reason}`))).toEqual(
      new Set(["unknown/dns_unavailable"]),
    );
    // Not answered on the spot: it waited for the resolver for the whole deadline.
    expect(tookMs).toBeGreaterThanOrEqual(Number(env.DNS_RETRY_DEADLINE_SECONDS) * 1000);
  });
});

describe("an unreachable host object", () => {
  it("leaves its addresses waiting, then answers mx_object_unavailable at the deadline, and the job completes", async () => {
    const { auth } = await newAccount("host-down");
    const emails = ["alice@normal.test", "bob@normal.test", "x@nullmx.test"];
    const job = await createJob(auth, emails, { start_at: new Date(Date.now() + 1000).toISOString() });
    const stub = jobStub(env, job.id);
    expect(await stub.injectFault("host_call", 1000)).toBe(true);
    const started = Date.now();
    const done = await waitForJob(auth, job.id, 40_000);

    expect(done.status).toBe("completed");
    expect(done.results.map((r) => [r.email, r.result, r.reason])).toEqual([
      ["alice@normal.test", "unknown", "mx_object_unavailable"],
      ["bob@normal.test", "unknown", "mx_object_unavailable"],
      // Needs no mail server: answered at once, whatever the host objects do.
      ["x@nullmx.test", "undeliverable", "null_mx"],
    ]);
    expect(await stub.faultsTripped()).toBeGreaterThan(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(Number(env.GREYLIST_DEADLINE_SECONDS) * 1000);
  });
});
