import { describe, expect, it } from "vitest";
import {
  CATCH_ALL_PROBE_PREFIX,
  probeDomain,
  type SmtpConnect,
  type SmtpConnection,
  SmtpIoError,
} from "../../src/verify/smtp";
import { ReplyReader } from "../../src/verify/smtp-reply";
import { connectSocket } from "../../src/verify/smtp-socket";
import type { MxHost } from "../../src/verify/types";
import { DEAD_IP, GREYLIST_SECONDS, RCPT_LIMIT } from "../fixtures/world";
import {
  holdSession,
  mx,
  recipientsFor,
  resetSmtp,
  sleep,
  smtpConfig,
  smtpStats,
  statsOf,
  uniqueDomain,
} from "../smtp-helpers";

const NORMAL = mx("mx.normal.test", "127.0.0.10");
const CATCH_ALL = mx("mx.catchall.test", "127.0.0.11");
const GREYLIST = mx("mx.greylist.test", "127.0.0.12");
const BLOCKED = mx("mx.blocked.test", "127.0.0.13");
const M365 = mx("mx.m365.test", "127.0.0.14");
const RATE_LIMIT = mx("mx.ratelimit.test", "127.0.0.15");
const CONN_CAP = mx("mx.conncap.test", "127.0.0.16");
const RCPT_LIMITED = mx("mx.rcptlimit.test", "127.0.0.17");
const TARPIT = mx("mx.tarpit.test", "127.0.0.18");
const DROP = mx("mx.drop.test", "127.0.0.19");

function probe(domain: string, hosts: MxHost[], locals: string[], catchAllKnown: boolean | null = null) {
  const addresses = locals.map((local) => `${local}@${domain}`);
  return probeDomain({ domain, hosts, addresses, catchAllKnown }, smtpConfig, connectSocket);
}

function statuses(results: Record<string, { status: string }>): Record<string, string> {
  return Object.fromEntries(Object.entries(results).map(([address, r]) => [address.split("@")[0], r.status]));
}

describe("probeDomain over cloudflare:sockets", () => {
  it("answers each mailbox on a normal server, with the deciding reply and MX host", async () => {
    const domain = uniqueDomain("normal");
    const out = await probe(domain, [NORMAL], ["alice", "Bob", "nobody", "full", "disabled"]);
    expect(statuses(out.results)).toEqual({
      alice: "exists",
      Bob: "exists",
      nobody: "not_found",
      full: "full",
      disabled: "disabled",
    });
    expect(out.results[`nobody@${domain}`]).toMatchObject({
      reply: { code: 550, enhanced: "5.1.1" },
      mxHost: "mx.normal.test",
      catchAll: false,
    });
    expect(out.results[`full@${domain}`]?.reply).toMatchObject({ code: 552, enhanced: "5.2.2" });
    expect(out.results[`disabled@${domain}`]?.reply).toMatchObject({ code: 550, enhanced: "5.2.1" });
    // alice was accepted, so one random address was asked about, and refused.
    expect(out.catchAll).toBe(false);
    const seen = await recipientsFor(NORMAL.addresses[0] as string, domain);
    expect(seen.filter((r) => r.startsWith(CATCH_ALL_PROBE_PREFIX))).toHaveLength(1);
  });

  it("asks about the real addresses first and sends one random probe to a catch-all", async () => {
    const domain = uniqueDomain("catchall");
    const out = await probe(domain, [CATCH_ALL], ["alice", "someone-else"]);
    expect(statuses(out.results)).toEqual({ alice: "exists", "someone-else": "exists" });
    expect(out.catchAll).toBe(true);
    expect(out.results[`alice@${domain}`]?.catchAll).toBe(true);
    const seen = await recipientsFor("127.0.0.11", domain);
    expect(seen).toHaveLength(3);
    expect(seen.slice(0, 2)).toEqual([`alice@${domain}`, `someone-else@${domain}`]);
    expect(seen[2]).toMatch(new RegExp(`^${CATCH_ALL_PROBE_PREFIX}[0-9a-f]{16}@`));
  });

  it("sends no random probe when the catch-all status is already known", async () => {
    const domain = uniqueDomain("known");
    const out = await probe(domain, [CATCH_ALL], ["alice"], true);
    expect(out.catchAll).toBe(true);
    expect(await recipientsFor("127.0.0.11", domain)).toEqual([`alice@${domain}`]);
  });

  it("sends no random probe when no real address was accepted", async () => {
    const domain = uniqueDomain("none");
    const out = await probe(domain, [NORMAL], ["nobody", "full"]);
    expect(out.catchAll).toBeNull();
    expect(await recipientsFor("127.0.0.10", domain)).toHaveLength(2);
  });

  it("reports greylisting, then the answer once the greylist delay has passed", async () => {
    const domain = uniqueDomain("greylist");
    const first = await probe(domain, [GREYLIST], ["alice", "nobody"]);
    expect(statuses(first.results)).toEqual({ alice: "greylisted", nobody: "greylisted" });
    expect(first.results[`alice@${domain}`]?.reply).toMatchObject({ code: 451, enhanced: "4.7.1" });
    expect(first.catchAll).toBeNull();

    await sleep(GREYLIST_SECONDS * 1000 + 200);
    const later = await probe(domain, [GREYLIST], ["alice", "nobody"]);
    expect(statuses(later.results)).toEqual({ alice: "exists", nobody: "not_found" });
  });

  it("reports a block-list refusal as blocked, never as a missing mailbox", async () => {
    const out = await probe(uniqueDomain("blocked"), [BLOCKED], ["alice", "nobody"]);
    expect(statuses(out.results)).toEqual({ alice: "blocked", nobody: "blocked" });
    expect(Object.values(out.results)[0]?.reply?.text).toMatch(/spamhaus/i);
  });

  it("reads Microsoft 365's 550 5.4.1 as not found", async () => {
    const domain = uniqueDomain("m365");
    const out = await probe(domain, [M365], ["alice", "nobody"]);
    expect(statuses(out.results)).toEqual({ alice: "exists", nobody: "not_found" });
    expect(out.results[`nobody@${domain}`]?.reply).toMatchObject({ code: 550, enhanced: "5.4.1" });
  });

  it("reports rate_limited on a 421 banner, and answers once the server lets us in", async () => {
    await resetSmtp("127.0.0.15", "state");
    const domain = uniqueDomain("ratelimit");
    const first = await probe(domain, [RATE_LIMIT], ["alice", "nobody"]);
    expect(statuses(first.results)).toEqual({ alice: "rate_limited", nobody: "rate_limited" });
    expect(first.results[`alice@${domain}`]).toMatchObject({
      reply: { code: 421 },
      mxHost: "mx.ratelimit.test",
    });

    const again = await probe(domain, [RATE_LIMIT], ["alice", "nobody"]);
    expect(statuses(again.results)).toEqual({ alice: "exists", nobody: "not_found" });
  });

  it("reports rate_limited when the server's connection cap is reached", async () => {
    const release = await holdSession("127.0.0.16");
    try {
      const out = await probe(uniqueDomain("conncap"), [CONN_CAP], ["alice"]);
      expect(Object.values(out.results)[0]).toMatchObject({ status: "rate_limited", reply: { code: 421 } });
    } finally {
      await release();
    }
  });

  it("continues on new sessions after 452 4.5.3 until every address is answered", async () => {
    const domain = uniqueDomain("rcptlimit");
    const locals = ["alice", "bob", "carol", "info", "admin", "sales", "nobody", "full"];
    const out = await probe(domain, [RCPT_LIMITED], locals);
    expect(statuses(out.results)).toEqual({
      alice: "exists",
      bob: "exists",
      carol: "exists",
      info: "exists",
      admin: "exists",
      sales: "exists",
      nobody: "not_found",
      full: "full",
    });
    expect(out.catchAll).toBe(false);
    // After the first 452 the probe keeps to the server's limit: one refused RCPT in all.
    const seen = await recipientsFor("127.0.0.17", domain);
    expect(seen).toHaveLength(locals.length + 1 + 1);
    expect(RCPT_LIMIT).toBeLessThan(locals.length);
  });

  it("times out on a server that never sends its banner", async () => {
    const out = await probe(uniqueDomain("tarpit"), [TARPIT], ["alice", "bob"]);
    expect(Object.values(out.results).map((r) => [r.status, r.mxHost])).toEqual([
      ["timeout", "mx.tarpit.test"],
      ["timeout", "mx.tarpit.test"],
    ]);
  });

  it("retries once on a fresh session when the connection drops, then reports error", async () => {
    const domain = uniqueDomain("drop");
    const out = await probe(domain, [DROP], ["alice", "bob"]);
    expect(statuses(out.results)).toEqual({ alice: "error", bob: "error" });
    expect(await recipientsFor("127.0.0.19", domain)).toEqual([`alice@${domain}`, `alice@${domain}`]);
  });

  it("falls back to the backup MX when the primary is dead", async () => {
    const domain = uniqueDomain("backup");
    // Given out of order: preference decides, not position.
    const hosts = [mx("mx.normal.test", "127.0.0.10", 20), mx("mx.dead.test", DEAD_IP, 10)];
    const out = await probe(domain, hosts, ["alice"]);
    expect(out.results[`alice@${domain}`]).toMatchObject({ status: "exists", mxHost: "mx.normal.test" });
  });

  it("reports unreachable when no MX host accepts a connection", async () => {
    const out = await probe(uniqueDomain("deadmx"), [mx("mx.dead.test", DEAD_IP)], ["alice"]);
    expect(Object.values(out.results)[0]).toMatchObject({ status: "unreachable", mxHost: "mx.dead.test" });
  });

  it("asks about UTF-8 local parts with SMTPUTF8, case-insensitively", async () => {
    const domain = uniqueDomain("utf8");
    const out = await probe(domain, [NORMAL], ["josé", "JOSÉ", "zoë"]);
    expect(statuses(out.results)).toEqual({ josé: "exists", JOSÉ: "exists", zoë: "not_found" });
  });

  it("refuses a CR/LF-injected address before it reaches the socket", async () => {
    const domain = uniqueDomain("inject");
    const evil = `alice@${domain}>\r\nDATA\r\nRCPT TO:<bob@${domain}`;
    const before = await statsOf("127.0.0.10");
    const out = await probeDomain(
      { domain, hosts: [NORMAL], addresses: [evil, `carol@${domain}`], catchAllKnown: false },
      smtpConfig,
      connectSocket,
    );
    expect(out.results[evil]).toMatchObject({ status: "error", reply: null });
    expect(out.results[`carol@${domain}`]?.status).toBe("exists");
    const after = await statsOf("127.0.0.10");
    expect(after.dataAttempts).toBe(before.dataAttempts);
    expect(await recipientsFor("127.0.0.10", domain)).toEqual([`carol@${domain}`]);

    // And nothing written to a transport ever held a line break or the payload.
    const written: string[] = [];
    await probeDomain(
      { domain, hosts: [NORMAL], addresses: [evil, `carol@${domain}`], catchAllKnown: null },
      smtpConfig,
      recordingConnect(written),
    );
    expect(written).toContain(`RCPT TO:<carol@${domain}>`);
    expect(written.join("")).not.toMatch(/[\r\n]|DATA/);
  });

  it("never sent DATA to any server", async () => {
    const all = await smtpStats();
    for (const [ip, s] of Object.entries(all)) expect([ip, s.dataAttempts]).toEqual([ip, 0]);
  });
});

describe("ReplyReader", () => {
  const bytes = (text: string) => new TextEncoder().encode(text);

  it("assembles a multi-line reply split across chunks", async () => {
    const reader = new ReplyReader();
    reader.push(bytes("250-mx.example.com Hello\r\n250-PIPE"));
    reader.push(bytes("LINING\r\n250 SMTPUTF8\r\n"));
    expect(await reader.read(100)).toEqual({
      code: 250,
      enhanced: null,
      text: "mx.example.com Hello\nPIPELINING\nSMTPUTF8",
    });
  });

  it("keeps UTF-8 split between chunks intact", async () => {
    const reader = new ReplyReader();
    const encoded = bytes("250 2.1.5 <josé@example.com> ok\r\n");
    reader.push(encoded.subarray(0, 16));
    reader.push(encoded.subarray(16));
    expect((await reader.read(100)).text).toBe("<josé@example.com> ok");
  });

  it("times out, reports a close, and refuses garbage", async () => {
    await expect(new ReplyReader().read(20)).rejects.toMatchObject({ kind: "timeout" });

    const closed = new ReplyReader();
    closed.push(bytes("221 2.0.0 Bye\r\n"));
    closed.end();
    expect((await closed.read(20)).code).toBe(221);
    await expect(closed.read(20)).rejects.toMatchObject({ kind: "closed" });

    const garbage = new ReplyReader();
    garbage.push(bytes("HTTP/1.1 400 Bad Request\r\n"));
    await expect(garbage.read(20)).rejects.toBeInstanceOf(SmtpIoError);
  });
});

/** A fake server that accepts everything and records what was written to it. */
function recordingConnect(written: string[]): SmtpConnect {
  return async () => {
    const replies: string[] = ["220 fake"];
    const connection: SmtpConnection = {
      async write(line) {
        written.push(line);
        replies.push(line.startsWith("QUIT") ? "221 bye" : "250 ok");
      },
      async readReply() {
        const next = replies.shift();
        if (!next) throw new SmtpIoError("closed", "closed");
        return { code: Number(next.slice(0, 3)), enhanced: null, text: next.slice(4) };
      },
      async close() {},
    };
    return connection;
  };
}
