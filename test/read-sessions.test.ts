import { describe, expect, it } from "vitest";
import { api, createJob, newAccount } from "./helpers";

// Pages read through D1 sessions: every answer carries the session's bookmark
// in x-d1-bookmark; a client that sends back the last one never sees an older
// page after a newer one.

const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;

interface Page {
  status: string;
  results: { email: string }[];
}

describe("D1 read sessions", () => {
  it("hands out bookmarks that never go back, and pages that never lose a result, while a job runs", async () => {
    const { auth } = await newAccount();
    const emails = Array.from({ length: 40 }, (_, i) => `user${i}@normal.test`);
    const job = await createJob(auth, emails);
    let bookmark: string | null = null;
    let seen = new Set<string>();
    let pages = 0;
    const deadline = Date.now() + 45_000;
    for (;;) {
      const headers: Record<string, string> = { ...auth };
      if (bookmark) headers["x-d1-bookmark"] = bookmark;
      const res = await api(`/email-validations/${job.id}?page[size]=1000`, { headers });
      expect(res.status).toBe(200);
      const next = res.headers.get("x-d1-bookmark");
      expect(next).toMatch(BOOKMARK);
      if (bookmark) expect(next! >= bookmark).toBe(true);
      bookmark = next;
      const body = (await res.json()) as Page;
      const now = new Set(body.results.map((r) => r.email));
      for (const email of seen) expect(now.has(email)).toBe(true);
      seen = now;
      pages++;
      if (body.status === "completed") break;
      if (Date.now() > deadline) throw new Error(`job still ${body.status}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(seen.size).toBe(emails.length);
    expect(pages).toBeGreaterThan(1);
  });

  it("answers a bookmark at least as new as the one sent, on lists too", async () => {
    const { auth } = await newAccount();
    await createJob(auth, ["a@normal.test"]);
    const first = await api("/email-validations", { headers: auth });
    const sent = first.headers.get("x-d1-bookmark");
    expect(sent).toMatch(BOOKMARK);
    const again = await api("/email-validations", { headers: { ...auth, "x-d1-bookmark": sent! } });
    expect(again.status).toBe(200);
    expect(again.headers.get("x-d1-bookmark")! >= sent!).toBe(true);
  });

  it("refuses a bookmark that is not one with a 400, naming the header", async () => {
    const { auth } = await newAccount();
    const job = await createJob(auth, ["a@normal.test"]);
    for (const bad of ["garbage", "first-primary", "00000000-00000004-00000000", `${"0".repeat(8)}-x`]) {
      const res = await api(`/email-validations/${job.id}`, { headers: { ...auth, "x-d1-bookmark": bad } });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { _errors: { code: string; source?: { pointer?: string } }[] };
      expect(body._errors[0]?.code).toBe("invalid_parameter");
      expect(JSON.stringify(body._errors[0])).toContain("x-d1-bookmark");
    }
  });
});
