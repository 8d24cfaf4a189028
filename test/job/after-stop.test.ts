import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { jobStub } from "../../src/job/stub";
import type { HostRecipient } from "../../src/mx/protocol";
import { SLOW_IP } from "../fixtures/world";
import { api, createJob, getJob, type Job, newAccount, waitForJob } from "../helpers";
import { mx, rcptCounts, sessionsOf, sleep } from "../smtp-helpers";

// Once a cancel or delete has answered, no mail server hears of the job
// again; after a pause and a resume, no address already answered is asked
// again; and a cancel answers at once even while D1 hangs. Counted at the
// fixture SMTP servers, which log every RCPT they see.

let serial = 0;
const freshDomain = (tag: string) => `${tag}-${Date.now().toString(36)}-${++serial}.slow.test`;
const addresses = (n: number, domain: string) => [
  `alice@${domain}`,
  `bob@${domain}`,
  ...Array.from({ length: n - 2 }, (_, i) => `ghost${i}@${domain}`),
];

async function patchStatus(auth: Record<string, string>, id: string, status: string): Promise<Response> {
  return api(`/email-validations/${id}`, {
    method: "PATCH",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ status }),
  });
}

/** How often the server was asked for each of `emails`. */
async function askedAt(ip: string, emails: readonly string[]): Promise<Map<string, number>> {
  const wanted = new Set(emails);
  const counts = new Map<string, number>();
  for (const session of await sessionsOf(ip))
    for (const r of session.recipients) {
      const address = r.toLowerCase();
      if (wanted.has(address)) counts.set(address, (counts.get(address) ?? 0) + 1);
    }
  return counts;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`still waiting for ${what} after ${timeoutMs} ms`);
    await sleep(25);
  }
}

const sum = (counts: Map<string, number>) => [...counts.values()].reduce((a, b) => a + b, 0);

async function resultRows(id: string): Promise<number> {
  const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM results WHERE job_id = ?")
    .bind(id)
    .first<{ n: number }>();
  return row!.n;
}

describe("no work after a stop", () => {
  it("asks no answered address again after a pause and a resume", async () => {
    const domain = freshDomain("pause");
    const emails = addresses(160, domain);
    const { auth } = await newAccount("pause");
    const job = await createJob(auth, emails);
    // Paused while sessions are answering: some answers wait at the host, some are on the wire.
    await until("first answers", async () => ((await askedAt(SLOW_IP, emails)).size ?? 0) >= 30);
    expect((await patchStatus(auth, job.id, "paused")).status).toBe(200);
    await sleep(600);
    expect((await patchStatus(auth, job.id, "processing")).status).toBe(200);
    const done = await waitForJob(auth, job.id);
    expect(done.status).toBe("completed");
    expect(done.counts?.processed).toBe(emails.length);

    const asked = await askedAt(SLOW_IP, emails);
    const twice = [...asked].filter(([, n]) => n > 1).map(([address]) => address);
    expect(twice).toEqual([]);
    expect(asked.size).toBe(emails.length);
  });

  it("refuses an enqueue that lands after the job was dropped at that host, and serves the next run", async () => {
    const domain = freshDomain("late");
    const host = env.MX.get(env.MX.idFromName(`late-enqueue-${domain}`));
    const job = `late-${domain}`;
    const recipients = (epoch: number): HostRecipient[] =>
      ["alice", "bob", "ghost"].map((local, position) => ({
        job,
        position,
        address: `${local}@${domain}`,
        domain,
        mx: mx("mx.slow.test", SLOW_IP),
        fallback: [],
        probeOnly: false,
        deadlineAt: Date.now() + 60_000,
        epoch,
      }));

    // The cancel's drop overtakes the enqueue that was under way when it came.
    await host.drop(job, [], { epoch: 0, keepAnswers: false });
    expect(await host.enqueue(recipients(0))).toEqual({ queued: 0 });
    await sleep(1500);
    expect((await rcptCounts(domain))[SLOW_IP] ?? 0).toBe(0);

    // A resumed job's next run is served again.
    expect(await host.enqueue(recipients(1))).toEqual({ queued: 3 });
    await until("RCPTs of the next run", async () => ((await rcptCounts(domain))[SLOW_IP] ?? 0) >= 3);
  });

  it("cancels within a second while a D1 write hangs; no RCPT follows, and the late write changes nothing", async () => {
    const domain = freshDomain("hang");
    const emails = addresses(300, domain);
    const { auth } = await newAccount("hang");
    const job = await createJob(auth, emails, { start_at: new Date(Date.now() + 1000).toISOString() });
    const stub = jobStub(env, job.id);
    expect(await stub.injectFault("d1_hang", 1, 4000)).toBe(true);
    // The first results write is under way and hangs.
    await until("a hung D1 write", async () => (await stub.faultsTripped()) === 1);

    const started = Date.now();
    const res = await patchStatus(auth, job.id, "canceled");
    const tookMs = Date.now() - started;
    console.log(JSON.stringify({ measure: "cancel with D1 hung", ms: tookMs }));
    expect(res.status).toBe(200);
    expect(tookMs).toBeLessThan(1000);
    const canceled = (await res.json()) as Job;
    expect(canceled.status).toBe("canceled");
    const rowsAtCancel = await resultRows(job.id);
    const rcptsAtCancel = sum(await askedAt(SLOW_IP, emails));
    expect(rcptsAtCancel).toBeGreaterThan(0);

    // The hung write goes on after the hold and is refused: rows and counts stay as they were.
    await sleep(5000);
    expect(await resultRows(job.id)).toBe(rowsAtCancel);
    const rcptsAfter = sum(await askedAt(SLOW_IP, emails)) - rcptsAtCancel;
    console.log(JSON.stringify({ measure: "rcpts after cancel answered", n: rcptsAfter }));
    // At most the RCPTs on the wire when the cancel answered (one per session) may still land.
    expect(rcptsAfter).toBeLessThanOrEqual(Number(env.MX_CONCURRENCY));
    const { body } = await getJob(auth, `/email-validations/${job.id}?include=details`);
    expect(body.status).toBe("canceled");
    expect(body.counts?.processed).toBe(rowsAtCancel);
  });
});
