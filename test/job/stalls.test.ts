import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { accountStub } from "../../src/account/object";
import { jobStub } from "../../src/job/stub";
import { createJob, getJob, newAccount, waitForJob } from "../helpers";

// A job never stalls: failures in the alarm path leave the alarm armed, a
// read of a job without an alarm arms one, and running slots survive an
// eviction of the account object.

const EMAILS = ["alice@normal.test", "bob@normal.test", "ghost@normal.test"];

describe("stalls", () => {
  it("finishes although the account object fails the alarm's calls more often than the platform retries", async () => {
    const { auth } = await newAccount("acct-fail");
    const job = await createJob(auth, EMAILS, { start_at: new Date(Date.now() + 500).toISOString() });
    const stub = jobStub(env, job.id);
    expect(await stub.injectFault("account_call", 8)).toBe(true);
    const done = await waitForJob(auth, job.id, 40_000);
    expect(await stub.faultsTripped()).toBe(8);
    expect(done.status).toBe("completed");
    expect(done.counts?.processed).toBe(EMAILS.length);
  });

  it("re-arms a job that lost its alarm when it is read", async () => {
    const { auth } = await newAccount("no-alarm");
    const job = await createJob(auth, EMAILS, { start_at: new Date(Date.now() + 60_000).toISOString() });
    const stub = jobStub(env, job.id);
    // The alarm is gone (the platform gave up on it), and the start time is now.
    await runInDurableObject(stub, async (_, state) => {
      await state.storage.deleteAlarm();
      const row = state.storage.sql.exec<{ state: string }>("SELECT state FROM meta WHERE id = 1").one();
      const s = JSON.parse(row.state) as { startAt: number };
      s.startAt = Date.now();
      state.storage.sql.exec("UPDATE meta SET state = ? WHERE id = 1", JSON.stringify(s));
    });
    // Storage was changed behind the object's back: start it afresh, as after an eviction.
    await evictDurableObject(stub);
    await getJob(auth, `/email-validations/${job.id}`);
    expect(await runInDurableObject(stub, (_, state) => state.storage.getAlarm())).not.toBeNull();
    const done = await waitForJob(auth, job.id, 20_000);
    expect(done.status).toBe("completed");
  });

  it("keeps running slots across an eviction of the account object", async () => {
    const account = accountStub(env, `leases-${Date.now().toString(36)}`);
    expect(await account.acquireRun("job-a", 2)).toBe(true);
    expect(await account.acquireRun("job-b", 2)).toBe(true);
    await evictDurableObject(account);
    expect((await account.runningJobs()).sort()).toEqual(["job-a", "job-b"]);
    expect(await account.acquireRun("job-c", 2)).toBe(false);
  });
});
