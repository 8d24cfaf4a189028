import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { MxProbeRequest } from "../../src/mx/protocol";
import { CATCH_ALL_PROBE_PREFIX, probeDomain } from "../../src/verify/smtp";
import { connectSocket } from "../../src/verify/smtp-socket";
import type { MxHost, SmtpResult } from "../../src/verify/types";
import { mx, recipientsFor, smtpConfig, uniqueDomain } from "../smtp-helpers";

const NORMAL = mx("mx.normal.test", "127.0.0.10");
const CATCH_ALL = mx("mx.catchall.test", "127.0.0.11");
const M365 = mx("mx.m365.test", "127.0.0.14");

function request(domain: string, hosts: MxHost[], locals: string[]): MxProbeRequest {
  return { domain, hosts, addresses: locals.map((local) => `${local}@${domain}`) };
}

let objects = 0;
function mxObject(host: string) {
  return env.MX.get(env.MX.idFromName(`${host}#relay-${++objects}-${Date.now()}`));
}

/** What a verdict depends on: status, reply code, host and catch-all. */
function essentials(results: Record<string, SmtpResult>) {
  return Object.fromEntries(
    Object.entries(results).map(([address, r]) => [
      address.split("@")[0],
      {
        status: r.status,
        code: r.reply?.code ?? null,
        enhanced: r.reply?.enhanced ?? null,
        mxHost: r.mxHost,
        catchAll: r.catchAll,
      },
    ]),
  );
}

function prober(path: string, init: RequestInit = {}) {
  return fetch(`${env.PROBER_URL}${path}`, init);
}

const validBody = JSON.stringify({
  requests: [
    { domain: "normal.test", hosts: [NORMAL], addresses: ["alice@normal.test"], catchAllKnown: false },
  ],
});

describe("relay mode: MX object → prober → SMTP", () => {
  it("runs in relay mode", () => {
    expect(env.SMTP_MODE).toBe("relay");
    expect(env.PROBER_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("gives the same answers as probing directly", async () => {
    const locals = ["alice", "Bob", "josé", "nobody", "full", "disabled"];
    const cases: [MxHost, string][] = [
      [NORMAL, uniqueDomain("relay-normal")],
      [M365, uniqueDomain("relay-m365")],
      [CATCH_ALL, uniqueDomain("relay-catchall")],
    ];
    for (const [host, domain] of cases) {
      const relayed = await mxObject(host.host).probe(request(domain, [host], locals));
      const direct = await probeDomain(
        { ...request(domain, [host], locals), catchAllKnown: null },
        smtpConfig,
        connectSocket,
      );
      expect(essentials(relayed.results)).toEqual(essentials(direct.results));
    }
  });

  it("carries catch-all discovery through the relay: one random probe per domain", async () => {
    const domain = uniqueDomain("relay-bigcatchall");
    const locals = Array.from({ length: 45 }, (_, i) => `user${i}`);
    const out = await mxObject(CATCH_ALL.host).probe(request(domain, [CATCH_ALL], locals));
    expect(Object.values(out.results).every((r) => r.status === "exists" && r.catchAll === true)).toBe(true);
    const probes = (await recipientsFor("127.0.0.11", domain)).filter((r) =>
      r.startsWith(CATCH_ALL_PROBE_PREFIX),
    );
    expect(probes).toHaveLength(1);
  });

  it("answers GET /health", async () => {
    const res = await prober("/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  it("refuses a missing or wrong secret with 401", async () => {
    const headers = { "content-type": "application/json" };
    const none = await prober("/probe", { method: "POST", headers, body: validBody });
    expect(none.status).toBe(401);
    await none.body?.cancel();
    const wrong = await prober("/probe", {
      method: "POST",
      headers: { ...headers, authorization: "Bearer test-prober-secreT" },
      body: validBody,
    });
    expect(wrong.status).toBe(401);
    await wrong.body?.cancel();
  });

  it("refuses a malformed body with 400", async () => {
    const headers = { "content-type": "application/json", authorization: `Bearer ${env.PROBER_SECRET}` };
    const bodies = [
      "{not json",
      JSON.stringify({}),
      JSON.stringify({ requests: [] }),
      JSON.stringify({ requests: [{ domain: "normal.test", hosts: [], addresses: ["a@normal.test"] }] }),
      // Host addresses must be IP literals: the prober resolves nothing for its callers.
      JSON.stringify({
        requests: [
          {
            domain: "x.test",
            hosts: [{ host: "mx", preference: 10, addresses: ["mx.example.com"] }],
            addresses: [],
            catchAllKnown: null,
          },
        ],
      }),
    ];
    for (const body of bodies) {
      const res = await prober("/probe", { method: "POST", headers, body });
      expect([body, res.status]).toEqual([body, 400]);
      await res.body?.cancel();
    }
  });

  it("answers a valid call with the shared secret", async () => {
    const res = await prober("/probe", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${env.PROBER_SECRET}` },
      body: validBody,
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      results: { results: Record<string, SmtpResult>; catchAll: boolean | null }[];
    };
    expect(body.results[0]?.results["alice@normal.test"]).toMatchObject({
      status: "exists",
      catchAll: false,
    });
  });
});
