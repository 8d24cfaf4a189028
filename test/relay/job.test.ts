import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { createJob, newAccount, waitForJob } from "../helpers";

// Production's path, end to end: job object → host object → prober (HTTP) → SMTP.

it("runs a real job through the prober with the same verdicts as direct mode", async () => {
  expect(env.SMTP_MODE).toBe("relay");
  const { auth } = await newAccount();
  const cases = [
    ["alice@normal.test", "deliverable", "accepted"],
    ["nobody@normal.test", "undeliverable", "mailbox_not_found"],
    ["full@normal.test", "risky", "mailbox_full"],
    ["anyone@catchall.test", "risky", "catch_all"],
    ["alice@blocked.test", "unknown", "blocked"],
    ["alice@backup.test", "deliverable", "accepted"],
    ["alice@greylist.test", "deliverable", "accepted"],
    ["x@nullmx.test", "undeliverable", "null_mx"],
  ];
  const job = await createJob(
    auth,
    cases.map((c) => c[0]),
  );
  const done = await waitForJob(auth, job.id);
  expect(done.status).toBe("completed");
  expect(done.results.map((r) => [r.email, r.result, r.reason])).toEqual(cases);
  expect(done.results.find((r) => r.email === "anyone@catchall.test")?.catch_all).toBe(true);
});
