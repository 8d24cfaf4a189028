import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { readConfig } from "../src/config";
import { engineDeps } from "../src/verify/deps";
import { checkAddresses } from "../src/verify/engine";
import { verdict } from "../src/verify/verdict";
import { createJob, newAccount, waitForJob } from "./helpers";

// Every behaviour of the fixture mail world, through a real job: the worker
// resolves over the local DoH server and talks SMTP to the local servers.

type Expect = [email: string, result: string, catchAll: boolean, reason: string | string[]];

const CASES: Expect[] = [
  ["alice@normal.test", "deliverable", false, "accepted"],
  ["nobody@normal.test", "undeliverable", false, "mailbox_not_found"],
  ["full@normal.test", "risky", false, "mailbox_full"],
  ["disabled@normal.test", "undeliverable", false, "mailbox_disabled"],
  ["anyone@catchall.test", "risky", true, "catch_all"],
  ["alice@greylist.test", "deliverable", false, "accepted"],
  ["ghost@greylist.test", "undeliverable", false, "mailbox_not_found"],
  ["alice@blocked.test", "unknown", false, "blocked"],
  ["alice@m365.test", "deliverable", false, "accepted"],
  ["ghost@m365.test", "undeliverable", false, "mailbox_not_found"],
  ["alice@ratelimit.test", "deliverable", false, "accepted"],
  ["ghost@ratelimit.test", "undeliverable", false, "mailbox_not_found"],
  ["alice@rcptlimit.test", "deliverable", false, "accepted"],
  ["bob@rcptlimit.test", "deliverable", false, "accepted"],
  ["carol@rcptlimit.test", "deliverable", false, "accepted"],
  ["ghost1@rcptlimit.test", "undeliverable", false, "mailbox_not_found"],
  ["ghost2@rcptlimit.test", "undeliverable", false, "mailbox_not_found"],
  ["sales@rcptlimit.test", "deliverable", false, "accepted"],
  ["alice@tarpit.test", "unknown", false, "smtp_timeout"],
  ["alice@backup.test", "deliverable", false, "accepted"],
  ["alice@deadmx.test", "unknown", false, "smtp_unreachable"],
  ["alice@drop.test", "unknown", false, ["smtp_error", "smtp_unreachable"]],
  ["alice@nullmx.test", "undeliverable", false, "null_mx"],
  ["alice@implicit.test", "deliverable", false, "accepted"],
  ["alice@nomail.test", "undeliverable", false, "no_mx"],
  ["alice@no-such-domain.test", "undeliverable", false, "no_domain"],
  ["alice@servfail.test", "unknown", false, "dns_error"],
  ["alice@alias.test", "deliverable", false, "accepted"],
  ["alice@bücher.test", "deliverable", false, "accepted"],
  ["alice@mailinator.com", "risky", false, "disposable"],
  ["alice@sub.mailinator.com", "risky", false, "disposable"],
  ["not-an-email", "undeliverable", false, "invalid_syntax"],
  ["a..b@normal.test", "undeliverable", false, "invalid_syntax"],
];

// A connection cap of one session per client: the host object opens more
// sessions once the first is greeted, gets 421, and goes on with one.
const CONN_CAP = [
  ...["alice", "bob", "carol", "info", "admin", "sales"].map((m) => `${m}@conncap.test`),
  ...Array.from({ length: 24 }, (_, i) => `ghost${i}@conncap.test`),
];

describe("every behaviour through a real job", () => {
  it("gives the right result, catch_all and reason for each", async () => {
    const { auth } = await newAccount();
    const job = await createJob(auth, [...CASES.map((c) => c[0]), ...CONN_CAP]);
    const done = await waitForJob(auth, job.id, 55_000);
    expect(done.status).toBe("completed");
    const byEmail = new Map(done.results.map((r) => [r.email, r]));
    for (const [email, result, catchAll, reason] of CASES) {
      const r = byEmail.get(email);
      expect(r, email).toBeDefined();
      expect({ email, result: r?.result, catch_all: r?.catch_all }).toEqual({
        email,
        result,
        catch_all: catchAll,
      });
      if (Array.isArray(reason)) expect(reason, email).toContain(r?.reason);
      else expect(r?.reason, email).toBe(reason);
    }
    for (const email of CONN_CAP) {
      const expected = email.startsWith("ghost") ? "undeliverable" : "deliverable";
      expect(byEmail.get(email)?.result, email).toBe(expected);
    }
  });

  it("reports the flags and the SMTP particulars with details", async () => {
    const { auth } = await newAccount();
    const job = await createJob(auth, [
      "info@normal.test",
      "alice@gmail.com",
      "alice@gmial.com",
      "nobody@normal.test",
    ]);
    const done = await waitForJob(auth, job.id);
    const [role, free, typo, rejected] = done.results;
    expect(role).toMatchObject({
      result: "deliverable",
      role: true,
      free: false,
      mx_host: "mx.normal.test",
      smtp_code: 250,
    });
    expect(free).toMatchObject({ result: "deliverable", free: true, disposable: false });
    expect(String(typo?.did_you_mean)).toContain("gmail.com");
    expect(rejected).toMatchObject({ result: "undeliverable", reason: "mailbox_not_found", smtp_code: 550 });
    expect(String(rejected?.smtp_text)).toContain("nobody@normal.test");
    for (const r of done.results) {
      expect(r.score).toBeGreaterThanOrEqual(0);
      expect(r.score).toBeLessThanOrEqual(100);
    }
    expect(Number(role?.score)).toBeGreaterThan(Number(rejected?.score));
  });

  it("never sent DATA to any server", async () => {
    // The stats are shared by every test file; DATA must never appear in any of them.
    const stats = (await (await fetch(`http://127.0.0.1:${inject("smtpStatsPort")}/stats`)).json()) as Record<
      string,
      { connections: number; dataAttempts: number }
    >;
    expect(Object.values(stats).reduce((n, s) => n + s.connections, 0)).toBeGreaterThan(0);
    for (const [ip, s] of Object.entries(stats)) expect(s.dataAttempts, ip).toBe(0);
  });
});

describe("SMTP_MODE=off", () => {
  it("gives DNS-level verdicts only, honestly unknown for mailboxes", async () => {
    const cfg = { ...readConfig(env), smtpMode: "off" as const };
    const emails = ["alice@normal.test", "x@nullmx.test", "x@no-such-domain.test", "x@mailinator.com"];
    const checks = await checkAddresses(emails, engineDeps(env, cfg));
    expect(checks.map((c) => verdict(c)).map((v) => [v.result, v.reason])).toEqual([
      ["unknown", "smtp_not_checked"],
      ["undeliverable", "null_mx"],
      ["undeliverable", "no_domain"],
      ["risky", "disposable"],
    ]);
  });
});
