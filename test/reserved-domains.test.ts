import { describe, expect, it } from "vitest";
import { allResults, api, createJob, newAccount, waitForJob } from "./helpers";

// Reserved and special-use names through the API: undeliverable with reason
// reserved_domain, never free_email, and a dotless domain left to DNS.
// (This project's test world resolves .test: vitest.config.ts sets RESOLVE_RESERVED.)

const RESERVED = [
  "someone@example.com",
  "info@example.org",
  "a@b.example.net",
  "x@shop.example",
  "y@foo.invalid",
  "z@localhost",
];

describe("reserved domains", () => {
  it("a job answers them undeliverable (reserved_domain), flagged neither free nor anything else", async () => {
    const { auth } = await newAccount();
    const job = await createJob(auth, RESERVED);
    await waitForJob(auth, job.id);
    const results = await allResults(auth, job.id);
    const byEmail = (a: unknown[], b: unknown[]) => String(a[0]).localeCompare(String(b[0]));
    expect(results.map((r) => [r.email, r.result, r.reason, r.free]).sort(byEmail)).toEqual(
      RESERVED.map((email) => [email, "undeliverable", "reserved_domain", false]).sort(byEmail),
    );
  });

  it("the compatible family's direct validation says invalid_mx, never free_email, also for bad syntax", async () => {
    const { auth } = await newAccount();
    const res = await api("/v1/email/validate", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ emails: ["someone@example.com", "bad@@example.com"] }),
    });
    expect(res.status).toBe(200);
    const results = (await res.json()) as {
      email: string;
      result: { classifier: string; description: string[] };
    }[];
    expect(results.map((r) => [r.email, r.result.classifier, r.result.description])).toEqual([
      ["someone@example.com", "invalid", ["invalid_mx"]],
      ["bad@@example.com", "invalid", ["invalid_syntax"]],
    ]);
  });
});

describe("dotless domains", () => {
  it("are valid syntax and go to DNS: test@io is not invalid_syntax", async () => {
    const { auth } = await newAccount();
    const job = await createJob(auth, ["test@io", "test@"]);
    await waitForJob(auth, job.id);
    const results = await allResults(auth, job.id);
    const reasonOf = Object.fromEntries(results.map((r) => [r.email, r.reason]));
    // The fixture zone has no `io`: the resolver's NXDOMAIN, not the syntax check, decides.
    expect(reasonOf["test@io"]).toBe("no_domain");
    expect(reasonOf["test@"]).toBe("invalid_syntax");
  });
});
