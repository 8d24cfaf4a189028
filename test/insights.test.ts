import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { breakdown } from "../src/db/browse";
import { openDb } from "../src/db/client";
import { jobStub } from "../src/job/stub";
import { api, createJob, newAccount, waitForJob } from "./helpers";

// Reading a job as a list owner does: results filtered by verdict, reason and
// text and paged by cursor, the breakdown, the filtered download, and the
// job's story while greylisting holds the last addresses back.

const LIST = [
  "alice@normal.test",
  "carol@normal.test",
  "nobody@normal.test",
  "ghost@normal.test",
  "anyone@catchall.test",
  "x@nullmx.test",
];

type Page = {
  results: { email: string; result: string; reason: string }[];
  _links: Record<string, { href: string }>;
};

async function finishedJob() {
  const { auth } = await newAccount("insights");
  const job = await createJob(auth, LIST);
  await waitForJob(auth, job.id);
  const get = async <T>(path: string) => {
    const res = await api(`/email-validations/${job.id}${path}`, { headers: auth });
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  };
  return { auth, id: job.id, get };
}

describe("GET /email-validations/{id}/results", () => {
  it("filters by reason, result and address text, and pages by cursor both ways", async () => {
    const { get, auth, id } = await finishedJob();
    const byReason = await get<Page>("/results?reason=mailbox_not_found");
    expect(byReason.results.map((r) => r.email)).toEqual(["nobody@normal.test", "ghost@normal.test"]);
    expect(byReason.results.every((r) => r.result === "undeliverable")).toBe(true);

    const deliverableCarol = await get<Page>("/results?result=deliverable&q=carol");
    expect(deliverableCarol.results.map((r) => r.email)).toEqual(["carol@normal.test"]);
    expect((await get<Page>("/results?q=@NORMAL.test")).results).toHaveLength(4);
    // LIKE wildcards in q are literal.
    expect((await get<Page>("/results?q=%25")).results).toEqual([]);

    // One result a page, forward to the end of the filter, then back.
    const seen: string[] = [];
    let href: string | undefined = `/email-validations/${id}/results?q=normal&page[size]=1`;
    let last: Page | undefined;
    while (href) {
      const res = await api(href, { headers: auth });
      last = (await res.json()) as Page;
      seen.push(...last.results.map((r) => r.email));
      href = last._links.next?.href;
    }
    expect(seen).toEqual(LIST.slice(0, 4));
    const back = (await (await api(last!._links.prev!.href, { headers: auth })).json()) as Page;
    expect(back.results.map((r) => r.email)).toEqual(["nobody@normal.test"]);
    expect(back._links.next?.href).toContain("q=normal");
  });

  it("refuses a bad filter or cursor with a 400 in the error envelope", async () => {
    const { auth, id } = await finishedJob();
    for (const query of [
      "reason=Not-A-Reason",
      "result=maybe",
      "page[after]=stranger@normal.test",
      "page[size]=0",
    ]) {
      const res = await api(`/email-validations/${id}/results?${query}`, { headers: auth });
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as { _errors: unknown[] })._errors).toHaveLength(1);
    }
    const missing = await api("/email-validations/019e8e97-214c-782c-bf1a-5f04ef81ddd1/results", {
      headers: auth,
    });
    expect(missing.status).toBe(404);
  });
});

describe("GET /email-validations/{id}/download with a reason", () => {
  it("downloads only the results of that reason", async () => {
    const { auth, id } = await finishedJob();
    const res = await api(`/email-validations/${id}/download?reason=mailbox_not_found`, { headers: auth });
    expect(res.status).toBe(200);
    const lines = (await res.text()).trim().split(/\r?\n/);
    expect(lines.slice(1).map((l) => l.split(",")[0])).toEqual(["nobody@normal.test", "ghost@normal.test"]);
  });
});

describe("GET /email-validations/{id}/breakdown", () => {
  it("counts verdicts, reasons within verdicts and the top domains with their verdict mix", async () => {
    const { get } = await finishedJob();
    const b = await get<{
      verdicts: Record<string, number>;
      reasons: { result: string; reason: string; count: number }[];
      top_domains: Record<string, string | number>[];
    }>("/breakdown?domains=2");
    expect(b.verdicts).toEqual({ deliverable: 2, risky: 1, undeliverable: 3, unknown: 0 });
    expect(b.reasons).toContainEqual({ result: "undeliverable", reason: "mailbox_not_found", count: 2 });
    expect(b.reasons).toContainEqual({ result: "undeliverable", reason: "null_mx", count: 1 });
    expect(b.reasons.reduce((n, r) => n + r.count, 0)).toBe(LIST.length);
    expect(b.top_domains).toHaveLength(2);
    expect(b.top_domains[0]).toEqual({
      domain: "normal.test",
      total: 4,
      deliverable: 2,
      risky: 0,
      undeliverable: 2,
      unknown: 0,
    });
  });

  it("comes from the job object's running tallies, which agree with a count over D1", async () => {
    const { id } = await finishedJob();
    const tallied = await jobStub(env, id).breakdown(50);
    expect(tallied).not.toBeNull();
    const counted = await breakdown(openDb(env.DB), id, 50);
    const byKey = <T extends object>(rows: T[]) => rows.map((r) => JSON.stringify(r)).sort();
    expect(byKey(tallied!.reasons)).toEqual(byKey(counted.reasons));
    expect(byKey(tallied!.domains)).toEqual(byKey(counted.domains));
  });
});

describe("GET /email-validations/{id}/story", () => {
  it("shows addresses waiting on greylisting while they wait, then the finished timeline", async () => {
    const { auth } = await newAccount("story");
    const emails = ["g1@greylist.test", "g2@greylist.test", "alice@normal.test"];
    const job = await createJob(auth, emails);
    type Story = {
      status: string;
      processed: number;
      samples: { at: string; processed: number }[];
      eta: string | null;
      stages: Record<string, number>;
      greylisting: { addresses: number; next_retry_at: string | null; until: string | null };
      hosts: { names: string[]; greylisted: number; next_retry_at: string | null }[];
    };
    const story = async () =>
      (await (await api(`/email-validations/${job.id}/story`, { headers: auth })).json()) as Story;

    let waiting: Story | undefined;
    const deadline = Date.now() + 30_000;
    while (!waiting && Date.now() < deadline) {
      const s = await story();
      if (s.greylisting.addresses > 0) waiting = s;
      else if (s.status === "completed") break;
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(waiting, "the story never showed the greylisted addresses").toBeDefined();
    const host = waiting!.hosts.find((h) => h.names.includes("mx.greylist.test"));
    expect(host?.greylisted).toBeGreaterThan(0);
    expect(Date.parse(waiting!.greylisting.next_retry_at!)).toBeGreaterThan(0);
    expect(Date.parse(waiting!.greylisting.until!)).toBeGreaterThanOrEqual(
      Date.parse(waiting!.greylisting.next_retry_at!),
    );

    await waitForJob(auth, job.id);
    const done = await story();
    expect(done.status).toBe("completed");
    expect(done.eta).toBeNull();
    expect(done.stages).toMatchObject({ waiting: 0, at_host: 0, answered: 0, recorded: 3 });
    expect(done.samples[0]!.processed).toBe(0);
    expect(done.samples.at(-1)!.processed).toBe(3);
    expect(done.hosts).toEqual([]);
  });
});
