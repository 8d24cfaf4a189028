import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CATCH_ALL_PROBE_PREFIX } from "../src/verify/smtp";
import {
  CONN_RATE_IP,
  DISABLED_MAILBOXES,
  FULL_MAILBOXES,
  GREYLIST_CATCH_ALL_IP,
  MAILBOXES,
  PROBE_UNANSWERED_IP,
  SHARED_HOST_DOMAINS,
  SHARED_HOST_IP,
  SHARED_HOST_NAMES,
  SHARED_TARPIT_DOMAINS,
  SHARED_TARPIT_IP,
  SLOW_IP,
} from "./fixtures/world";
import { api, createJob, getJob, type Job, newAccount, waitForJob } from "./helpers";
import { rcptCounts, recipientsFor, resetSmtp, sessionsOf, sleep, statsOf } from "./smtp-helpers";

// The mail host, not the domain, is the unit of SMTP work: every job's
// addresses for one server share its sessions, its politeness and its
// memory, whatever domain or MX name they came by. Each test here runs real
// jobs against one fixture server of its own (see test/fixtures/world.ts)
// and checks both the results and what the server saw.

const MX_CONCURRENCY = Number(env.MX_CONCURRENCY);

let serial = 0;
/** A domain no other test uses, under one of the fixture zone's wildcards. */
function freshDomain(tag: string, parent: string): string {
  return `${tag}-${Date.now().toString(36)}-${++serial}.${parent}`;
}

const ghosts = (n: number, tag = "ghost") => Array.from({ length: n }, (_, i) => `${tag}${i}`);
const at = (locals: string[], domain: string) => locals.map((local) => `${local}@${domain}`);

/** What a server with real mailboxes answers for a local part, as a result and a reason. */
function realAnswer(local: string): [result: string, reason: string] {
  if (MAILBOXES.includes(local)) return ["deliverable", "accepted"];
  if (FULL_MAILBOXES.includes(local)) return ["risky", "mailbox_full"];
  if (DISABLED_MAILBOXES.includes(local)) return ["undeliverable", "mailbox_disabled"];
  return ["undeliverable", "mailbox_not_found"];
}

function resultsByEmail(job: Job): Map<string, Job["results"][number]> {
  return new Map(job.results.map((r) => [r.email, r]));
}

/** Distinct catch-all probe addresses a server was asked for one domain, with how often each. */
async function probesFor(ip: string, domain: string): Promise<Map<string, number>> {
  const probes = new Map<string, number>();
  for (const r of await recipientsFor(ip, domain)) {
    if (r.startsWith(CATCH_ALL_PROBE_PREFIX)) probes.set(r, (probes.get(r) ?? 0) + 1);
  }
  return probes;
}

/** RCPTs a server saw for any of `addresses` (catch-all probes are not among them). */
async function rcptsTo(ip: string, addresses: ReadonlySet<string>): Promise<number> {
  let n = 0;
  for (const session of await sessionsOf(ip)) {
    for (const r of session.recipients) if (addresses.has(r.toLowerCase())) n++;
  }
  return n;
}

/** Polls `check` until it holds; fails after `timeoutMs`. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`still waiting for ${what} after ${timeoutMs} ms`);
    await sleep(50);
  }
}

async function cancel(auth: Record<string, string>, id: string): Promise<Response> {
  return api(`/email-validations/${id}`, {
    method: "PATCH",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ status: "canceled" }),
  });
}

// Each of these has a server of its own, so they may run side by side.
describe.concurrent("one server, many domains", () => {
  it("shares one server's sessions and cap between the domains of its two MX names", async ({ expect }) => {
    // 40 addresses on each of six domains, three naming the server mx1.sharedhost.test, three mail.sharedhost.test.
    const locals = [...MAILBOXES, ...FULL_MAILBOXES, ...DISABLED_MAILBOXES, ...ghosts(31)];
    const emails = SHARED_HOST_DOMAINS.flatMap((domain) => at(locals, domain));
    await resetSmtp(SHARED_HOST_IP, "peak");
    const before = await statsOf(SHARED_HOST_IP);

    const { auth } = await newAccount("shared");
    const job = await createJob(auth, emails);
    const done = await waitForJob(auth, job.id);
    expect(done.status).toBe("completed");

    const results = resultsByEmail(done);
    for (const [i, domain] of SHARED_HOST_DOMAINS.entries()) {
      for (const local of locals) {
        const email = `${local}@${domain}`;
        const [result, reason] = realAnswer(local);
        expect({ email, ...pick(results.get(email)) }).toEqual({
          email,
          result,
          reason,
          catch_all: false,
          // Each result names the exchanger its own domain uses, though the two share one server.
          mx_host: SHARED_HOST_NAMES[i < 3 ? 0 : 1],
        });
      }
    }

    const after = await statsOf(SHARED_HOST_IP);
    // Two names, one server: one cap, not one per name.
    expect(after.maxConcurrent).toBeLessThanOrEqual(MX_CONCURRENCY);
    const sessions = after.sessions - before.sessions;
    const rcpts = after.rcpts - before.rcpts;
    expect(rcpts).toBeGreaterThanOrEqual(emails.length);
    // Sessions carry many RCPTs across domains. Per-domain chunking opens at least one session per
    // domain and chunk (chunks of ten or so: two dozen sessions here); 25 RCPTs a session on average
    // still leaves room for a first lone session and sessions that end early.
    expect(sessions).toBeGreaterThan(0);
    expect(sessions).toBeLessThanOrEqual(Math.ceil(rcpts / 25));
  });

  it("learns a greylisting catch-all with one probe address per domain", async ({ expect }) => {
    // Every recipient, real or random, is greylisted for a while and then accepted.
    const domains = [0, 1, 2].map((i) => freshDomain(`gca${i}`, "greycatch.test"));
    const emails = domains.flatMap((domain) => at(["alice", "ghost", "zz-no-such-person"], domain));
    const { auth } = await newAccount("greycatch");
    const job = await createJob(auth, emails);
    const done = await waitForJob(auth, job.id);
    expect(done.status).toBe("completed");

    const results = resultsByEmail(done);
    for (const email of emails) {
      expect({ email, ...pick(results.get(email), ["result", "reason", "catch_all"]) }).toEqual({
        email,
        result: "risky",
        reason: "catch_all",
        catch_all: true,
      });
    }
    for (const domain of domains) {
      const probes = await probesFor(GREYLIST_CATCH_ALL_IP, domain);
      // A new random name each time would be greylisted afresh: the same one is asked until answered.
      expect([...probes.keys()], domain).toHaveLength(1);
      expect([...probes.values()][0], domain).toBeGreaterThanOrEqual(2);
    }
  });

  it("never calls an address deliverable while the domain's catch-all status is unknown", async ({
    expect,
  }) => {
    // Real mailboxes are accepted at once; every other address, the random probe included, gets
    // "451 4.7.1 try later" for ever, so the catch-all question is still open at the deadline.
    const domain = freshDomain("np", "noprobe.test");
    const real = ["alice", "bob", "info"];
    const unknown = ["ghost", "nobody"];
    const { auth } = await newAccount("noprobe");
    const job = await createJob(auth, at([...real, ...unknown], domain));
    const done = await waitForJob(auth, job.id);
    expect(done.status).toBe("completed");

    const results = resultsByEmail(done);
    for (const email of at(real, domain)) {
      expect({ email, ...pick(results.get(email), ["result", "reason", "catch_all"]) }).toEqual({
        email,
        result: "risky",
        reason: "catch_all_unknown",
        catch_all: false,
      });
    }
    // The server never rejects these: it only ever says "try later", the same as it says to the
    // probe. That is no evidence the mailbox is missing (undeliverable would be a guess), and it
    // was never accepted (so not catch_all_unknown): still greylisted at the deadline, unknown.
    for (const email of at(unknown, domain)) {
      expect({ email, ...pick(results.get(email), ["result", "reason", "catch_all"]) }).toEqual({
        email,
        result: "unknown",
        reason: "greylisted",
        catch_all: false,
      });
    }
    const probes = await probesFor(PROBE_UNANSWERED_IP, domain);
    expect([...probes.keys()]).toHaveLength(1);
  });

  it("waits out a tarpit shared by eight domains once, not once per domain", async ({ expect }) => {
    const emails = SHARED_TARPIT_DOMAINS.flatMap((domain) => at(["alice", "bob", "ghost"], domain));
    const before = await statsOf(SHARED_TARPIT_IP);
    const { auth } = await newAccount("tarpit");
    const job = await createJob(auth, emails);
    const done = await waitForJob(auth, job.id);
    expect(done.status).toBe("completed");

    const results = resultsByEmail(done);
    for (const email of emails) {
      expect({ email, ...pick(results.get(email), ["result", "reason"]) }).toEqual({
        email,
        result: "unknown",
        reason: "smtp_timeout",
      });
    }
    const after = await statsOf(SHARED_TARPIT_IP);
    // One silent server: a trial connection or two, not one per domain, MX name or chunk.
    expect(after.connections - before.connections).toBeLessThanOrEqual(2);
  });

  it("works on with fewer sessions when a host refuses connections above a rate", async ({ expect }) => {
    // More than two connections a second get "421 4.7.0 Too many connections, slow down".
    const locals = [...MAILBOXES, ...FULL_MAILBOXES, ...DISABLED_MAILBOXES, ...ghosts(91)];
    const domains = [0, 1, 2].map((i) => freshDomain(`cr${i}`, "connrate.test"));
    const emails = domains.flatMap((domain) => at(locals, domain));
    const { auth } = await newAccount("connrate");
    const job = await createJob(auth, emails);
    const done = await waitForJob(auth, job.id);
    expect(done.status).toBe("completed");

    const results = resultsByEmail(done);
    for (const domain of domains) {
      for (const local of locals) {
        const email = `${local}@${domain}`;
        const [result, reason] = realAnswer(local);
        expect({ email, ...pick(results.get(email), ["result", "reason"]) }).toEqual({
          email,
          result,
          reason,
        });
      }
    }
    expect((await statsOf(CONN_RATE_IP)).sessions).toBeGreaterThan(0);
  });
});

// These share the slow server, one at a time.
describe("jobs sharing one slow server", () => {
  it("finishes a small job while a large one on the same server is still running", async () => {
    const big = {
      ...(await newAccount("big")),
      domains: [0, 1, 2, 3].map((i) => freshDomain(`big${i}`, "slow.test")),
    };
    const bigEmails = big.domains.flatMap((domain) => at(["alice", "bob", ...ghosts(398)], domain));
    const bigJob = await createJob(big.auth, bigEmails);
    try {
      // The large job is on the wire before the small one arrives.
      await until("the large job's first RCPTs", async () => {
        const counts = await Promise.all(big.domains.map(rcptCounts));
        return counts.some((c) => (c[SLOW_IP] ?? 0) > 0);
      });

      const small = await newAccount("small");
      const smallDomain = freshDomain("small", "slow.test");
      const smallLocals = ["alice", "bob", "carol", "ghost1", "ghost2"];
      const smallJob = await createJob(small.auth, at(smallLocals, smallDomain));
      const done = await waitForJob(small.auth, smallJob.id);
      const { body: bigNow } = await getJob(big.auth, `/email-validations/${bigJob.id}`);

      expect(done.status).toBe("completed");
      const results = resultsByEmail(done);
      for (const local of smallLocals) {
        const email = `${local}@${smallDomain}`;
        const [result, reason] = realAnswer(local);
        expect({ email, ...pick(results.get(email), ["result", "reason"]) }).toEqual({
          email,
          result,
          reason,
        });
      }
      // Round-robin between jobs: the small one did not wait behind the large one's queue.
      expect(bigNow.status).toBe("processing");
    } finally {
      await cancel(big.auth, bigJob.id);
    }
  });

  it("sends no RCPT for a canceled job's addresses", async () => {
    // Work of both kinds in flight at the cancel: slow sessions with a long queue behind them,
    // and greylisted addresses that would be asked again a second or two later.
    const slowDomains = [0, 1].map((i) => freshDomain(`cancel${i}`, "slow.test"));
    const greyDomain = freshDomain("cancel", "greycatch.test");
    const slowEmails = slowDomains.flatMap((domain) => at(["alice", "bob", ...ghosts(298)], domain));
    const greyEmails = at(ghosts(10, "grey"), greyDomain);
    const slowSet = new Set(slowEmails);
    const greySet = new Set(greyEmails);
    const sent = async () => ({
      slow: await rcptsTo(SLOW_IP, slowSet),
      grey: await rcptsTo(GREYLIST_CATCH_ALL_IP, greySet),
    });

    const { auth } = await newAccount("cancel");
    const job = await createJob(auth, [...slowEmails, ...greyEmails]);
    await until("RCPTs on both servers", async () => {
      const { slow, grey } = await sent();
      return slow > 0 && grey > 0;
    });
    const res = await cancel(auth, job.id);
    expect(res.status).toBe(200);
    expect(((await res.json()) as Job).status).toBe("canceled");

    // A RCPT already on the wire when the cancel returned may still land (one per session at most).
    await sleep(250);
    const first = await sent();
    // Greylisted addresses would be asked again within this, and the slow queue would go on.
    await sleep(3000);
    const second = await sent();
    expect(second).toEqual(first);
    // The cancel cut the work short: most of the slow queue was never asked.
    expect(first.slow).toBeLessThan(slowEmails.length / 2);
    expect((await waitForJob(auth, job.id)).status).toBe("canceled");
  });
});

const DEFAULT_FIELDS = ["result", "reason", "catch_all", "mx_host"] as const;

/** The fields of a result a test compares (missing ones as undefined, so a missing result fails clearly). */
function pick(
  result: Job["results"][number] | undefined,
  fields: readonly string[] = DEFAULT_FIELDS,
): Record<string, unknown> {
  return Object.fromEntries(fields.map((f) => [f, result?.[f]]));
}
