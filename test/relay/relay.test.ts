import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { RelaySessionResponse } from "../../src/mx/protocol";
import { runSession } from "../../src/verify/smtp-session";
import { connectSocket } from "../../src/verify/smtp-socket";
import type { SmtpResult } from "../../src/verify/types";
import { mx, smtpConfig, uniqueDomain } from "../smtp-helpers";

const NORMAL = mx("mx.normal.test", "127.0.0.10");
const CATCH_ALL = mx("mx.catchall.test", "127.0.0.11");
const M365 = mx("mx.m365.test", "127.0.0.14");

function prober(path: string, init: RequestInit = {}) {
  return fetch(`${env.PROBER_URL}${path}`, init);
}

const validBody = JSON.stringify({
  requests: [
    { domain: "normal.test", hosts: [NORMAL], addresses: ["alice@normal.test"], catchAllKnown: false },
  ],
});

describe("relay mode: host object → prober → SMTP", () => {
  it("runs in relay mode", () => {
    expect(env.SMTP_MODE).toBe("relay");
    expect(env.PROBER_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("runs a session through /session with the same answers as a direct session", async () => {
    const locals = ["alice", "Bob", "josé", "nobody", "full", "disabled"];
    for (const [host, domain] of [
      [NORMAL, uniqueDomain("relay-normal")],
      [M365, uniqueDomain("relay-m365")],
      [CATCH_ALL, uniqueDomain("relay-catchall")],
    ] as const) {
      const recipients = locals.map((local) => `${local}@${domain}`);
      const targets = [{ host: host.host, ip: host.addresses[0]! }];
      const res = await prober("/session", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${env.PROBER_SECRET}` },
        body: JSON.stringify({ targets, recipients, maxRcpts: 100 }),
      });
      expect(res.status).toBe(200);
      const relayed = (await res.json()) as RelaySessionResponse;
      const direct: RelaySessionResponse["answers"] = [];
      const queue = [...recipients];
      const end = await runSession(
        {
          targets,
          maxRcpts: 100,
          next: (room) => queue.splice(0, room),
          answer: (address, status, reply) => direct.push({ address, status, reply }),
        },
        smtpConfig,
        connectSocket,
      );
      expect(relayed.end.kind).toBe(end.kind);
      expect(relayed.answers.map((a) => [a.address, a.status, a.reply.code])).toEqual(
        direct.map((a) => [a.address, a.status, a.reply.code]),
      );
      expect(relayed.answers).toHaveLength(recipients.length);
    }
  });

  it("refuses a malformed session with 400", async () => {
    const headers = { "content-type": "application/json", authorization: `Bearer ${env.PROBER_SECRET}` };
    for (const body of [
      JSON.stringify({ targets: [], recipients: ["a@normal.test"], maxRcpts: 10 }),
      JSON.stringify({
        targets: [{ host: "mx", ip: "mx.example.com" }],
        recipients: ["a@x.test"],
        maxRcpts: 10,
      }),
      JSON.stringify({ targets: [{ host: "mx", ip: "127.0.0.10" }], recipients: [], maxRcpts: 10 }),
    ]) {
      const res = await prober("/session", { method: "POST", headers, body });
      expect([body, res.status]).toEqual([body, 400]);
      await res.body?.cancel();
    }
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
