import { env } from "cloudflare:workers";
import * as XLSX from "@e965/xlsx";
import { describe, expect, it } from "vitest";
import { api, createJob, getJob, newAccount, waitForJob } from "./helpers";

// The seed-003 compatible family (/v1/email/validate/…) and the canonical
// family's file, list, download, delete and pause/resume additions.

type Auth = Record<string, string>;

function form(fields: Record<string, string | Blob>, filename = "list.csv"): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) {
    if (typeof v === "string") f.append(k, v);
    else f.append(k, v, filename);
  }
  return f;
}

async function createCompat(auth: Auth, fields: Record<string, string | Blob>, filename?: string) {
  return api("/v1/email/validate/job", { method: "POST", headers: auth, body: form(fields, filename) });
}

async function waitCompat(auth: Auth, id: string, states = ["done", "failed", "canceled"]) {
  for (let i = 0; i < 450; i++) {
    const res = await api(`/v1/email/validate/job/${id}`, { headers: auth });
    const job = (await res.json()) as { state: string };
    if (states.includes(job.state)) return job as Record<string, unknown> & { state: string };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${id} did not reach ${states.join("/")}`);
}

function xlsxBytes(rows: unknown[][], bookType: XLSX.BookType = "xlsx"): Uint8Array {
  const wb = XLSX.utils.book_new();
  XLSX.utils.book_append_sheet(wb, XLSX.utils.aoa_to_sheet(rows), "List");
  return new Uint8Array(XLSX.write(wb, { type: "array", bookType }));
}

async function jobCount(account: string): Promise<number> {
  const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM jobs WHERE account_id = ?")
    .bind(account)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

describe("compatible family: create from files and text", () => {
  it("creates from a CSV file with extra columns, and lists, gets, pages and downloads it", async () => {
    const { auth } = await newAccount();
    const csv =
      "\uFEFFName;Email;Company\r\n" +
      '"Smith; Alice";alice@normal.test;"=HYPERLINK(""http://x"")"\r\n' +
      'Nobody;nobody@normal.test;"multi\nline"\r\n' +
      "Dup;alice@NORMAL.test;dup\r\n" +
      "Full;full@normal.test;+cmd\r\n";
    const res = await createCompat(auth, {
      label: "Newsletter",
      source: "file",
      file: new Blob([csv], { type: "text/csv" }),
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    const job = await waitCompat(auth, id);
    expect(job).toMatchObject({
      id,
      label: "Newsletter",
      state: "done",
      emailCount: 3,
      source: "file",
      integration: null,
      summary: { totalEmails: 3, deliverableCount: 1, undeliverableCount: 1, riskyCount: 1 },
    });
    expect(job.finishedAt).toMatch(/^\d{4}-\d\d-\d\dT/);

    const list = (await (await api("/v1/email/validate/job", { headers: auth })).json()) as { id: string }[];
    expect(list.map((j) => j.id)).toEqual([id]);

    const results = (await (await api(`/v1/email/validate/job/${id}/result`, { headers: auth })).json()) as {
      email: string;
      result: Record<string, unknown>;
    }[];
    expect(results.map((r) => [r.email, r.result.classifier])).toEqual([
      ["alice@normal.test", "valid"],
      ["nobody@normal.test", "invalid"],
      ["full@normal.test", "risky"],
    ]);
    expect(results[0]?.result).toMatchObject({
      syntax: "pass",
      mx: "pass",
      mailbox: "pass",
      score: expect.any(Number),
    });
    expect(results[0]?.result.smtpResponse).toMatch(/^250/);
    expect(results[1]?.result).toMatchObject({ mailbox: "fail", classifier: "invalid" });

    const fromPos = (await (
      await api(`/v1/email/validate/job/${id}/result?pos=2`, { headers: auth })
    ).json()) as unknown[];
    expect(fromPos).toHaveLength(1);

    const dl = await api(`/v1/email/validate/job/${id}/download?filters=valid&filters=risky`, {
      headers: auth,
    });
    expect(dl.status).toBe(200);
    expect(dl.headers.get("content-type")).toContain("text/csv");
    const text = await dl.text();
    const lines = text.trimEnd().split("\r\n");
    expect(lines[0]).toBe("email,syntax,mx,mailbox,score,classifier,description,smtpResponse,Name,Company");
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain("alice@normal.test");
    // CSV injection neutralised, input columns echoed
    expect(lines[1]).toContain(`"'=HYPERLINK(""http://x"")"`);
    expect(lines[1]).toContain(",Smith; Alice,");
    expect(lines[2]).toContain("'+cmd");
    expect(text).not.toContain("nobody@normal.test");
  });

  it("creates from XLSX and XLS spreadsheets (first sheet, email column)", async () => {
    const { auth } = await newAccount();
    for (const [bookType, name] of [
      ["xlsx", "list.xlsx"],
      ["biff8", "list.xls"],
    ] as const) {
      const bytes = xlsxBytes(
        [
          ["first", "EMAIL"],
          ["Al", "alice@normal.test"],
          ["Bo", "bob@normal.test"],
        ],
        bookType,
      );
      const res = await createCompat(auth, { source: "excel", file: new Blob([bytes]) }, name);
      expect(res.status).toBe(201);
      const { id } = (await res.json()) as { id: string };
      const job = await waitCompat(auth, id);
      expect(job).toMatchObject({ emailCount: 2, source: "excel", summary: { deliverableCount: 2 } });
    }
  });

  it("creates from pasted text separated by commas and newlines", async () => {
    const { auth } = await newAccount();
    const res = await createCompat(auth, {
      source: "input",
      input: "alice@normal.test, bob@normal.test\ncarol@normal.test",
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    expect(await waitCompat(auth, id)).toMatchObject({ emailCount: 3, source: "input" });
  });

  const bad: [string, Record<string, string | Blob>, string | undefined, number][] = [
    ["an empty file", { source: "file", file: new Blob([""]) }, "empty.csv", 400],
    [
      "a file with no email column",
      { source: "file", file: new Blob(["name,city\nBob,Paris\n"]) },
      "x.csv",
      400,
    ],
    [
      "binary garbage as CSV",
      { source: "file", file: new Blob([new Uint8Array([0, 1, 2, 255, 0, 7, 0, 0])]) },
      "x.csv",
      400,
    ],
    ["garbage as excel", { source: "excel", file: new Blob(["alice@normal.test\n"]) }, "x.xlsx", 400],
    [
      "a corrupt XLSX",
      { source: "excel", file: new Blob([new Uint8Array([0x50, 0x4b, 3, 4, 1, 2, 3, 4, 5])]) },
      "x.xlsx",
      400,
    ],
    ["an unknown source", { source: "hubspot", input: "a@normal.test" }, undefined, 400],
    ["source=file without a file", { source: "file" }, undefined, 400],
    ["source=input without input", { source: "input" }, undefined, 400],
    ["no source", { input: "a@normal.test" }, undefined, 400],
  ];
  it.each(bad)("refuses %s with a clear 4xx and creates nothing", async (_name, fields, filename, status) => {
    const { account, auth } = await newAccount();
    const res = await createCompat(auth, fields, filename);
    expect(res.status).toBe(status);
    const body = (await res.json()) as { error: string };
    expect(Object.keys(body)).toEqual(["error"]);
    expect(body.error.length).toBeGreaterThan(5);
    expect(await jobCount(account)).toBe(0);
  });

  it("refuses a file over the size cap with 413", async () => {
    const { account, auth } = await newAccount();
    const big = new Blob(["email\n", "a".repeat(Number(env.MAX_BODY_BYTES)), "@normal.test\n"]);
    const res = await createCompat(auth, { source: "file", file: big });
    expect(res.status).toBe(413);
    expect(await jobCount(account)).toBe(0);
  });
});

describe("compatible family: manage jobs", () => {
  it("validates up to 100 addresses directly, and refuses more", async () => {
    const { auth } = await newAccount();
    const ok = await api("/v1/email/validate", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ emails: ["alice@normal.test", "ghost@normal.test", "x@nullmx.test"] }),
    });
    expect(ok.status).toBe(200);
    const results = (await ok.json()) as {
      email: string;
      result: { classifier: string; description: string[] };
    }[];
    expect(results.map((r) => r.result.classifier)).toEqual(["valid", "invalid", "invalid"]);
    expect(results[2]?.result.description).toContain("invalid_mx");
    const tooMany = await api("/v1/email/validate", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ emails: Array.from({ length: 101 }, (_, i) => `u${i}@normal.test`) }),
    });
    expect(tooMany.status).toBe(400);
    expect(Object.keys(await tooMany.json())).toEqual(["error"]);
  });

  it("pauses, resumes and finishes exactly once per address", async () => {
    const { auth } = await newAccount();
    const emails = Array.from({ length: 60 }, (_, i) => `p${i}@normal.test`);
    const job = await createJob(auth, emails);
    const pause = await api(`/v1/email/validate/job/${job.id}/pause`, { method: "POST", headers: auth });
    expect(pause.status).toBe(200);
    const paused = (await (await api(`/v1/email/validate/job/${job.id}`, { headers: auth })).json()) as {
      state: string;
      summary: { totalEmails: number };
    };
    expect(paused.state).toBe("paused");
    // A paused job does no work.
    await new Promise((r) => setTimeout(r, 1000));
    const still = (await (
      await api(`/v1/email/validate/job/${job.id}`, { headers: auth })
    ).json()) as typeof paused;
    expect(still.summary.totalEmails).toBe(paused.summary.totalEmails);
    expect(still.state).toBe("paused");

    const resume = await api(`/email-validations/${job.id}`, {
      method: "PATCH",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ status: "processing" }),
    });
    expect(resume.status).toBe(200);
    const done = await waitForJob(auth, job.id);
    expect(done.status).toBe("completed");
    expect(done.results.map((r) => r.email)).toEqual(emails);
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM results WHERE job_id = ?")
      .bind(job.id)
      .first<{ n: number }>();
    expect(rows?.n).toBe(60);
  });

  it("can cancel a paused job but not pause a terminal one", async () => {
    const { auth } = await newAccount();
    const job = await createJob(auth, ["g1@greylist.test", "g2@greylist.test"]);
    expect(
      (await api(`/v1/email/validate/job/${job.id}/pause`, { method: "POST", headers: auth })).status,
    ).toBe(200);
    const cancel = await api(`/v1/email/validate/job/${job.id}/cancel`, { method: "POST", headers: auth });
    expect(cancel.status).toBe(200);
    const body = (await cancel.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ success: true, batchJobId: job.id });
    expect(typeof body.contactsCancelled).toBe("number");
    const again = await api(`/v1/email/validate/job/${job.id}/pause`, { method: "POST", headers: auth });
    expect(again.status).toBe(400);
    expect(await again.json()).toEqual({ error: "Cannot pause job in 'canceled' status" });
    const cancelAgain = await api(`/v1/email/validate/job/${job.id}/cancel`, {
      method: "POST",
      headers: auth,
    });
    expect(await cancelAgain.json()).toEqual({ error: "Cannot cancel job in 'canceled' status" });
  });

  it("says how many addresses a cancel before the start canceled", async () => {
    const { auth } = await newAccount();
    const job = await createJob(auth, ["a@greylist.test", "b@greylist.test", "c@greylist.test"]);
    const res = await api(`/v1/email/validate/job/${job.id}/cancel`, { method: "POST", headers: auth });
    const body = (await res.json()) as { message: string; contactsCancelled: number };
    // Either it had not started (all three canceled) or it had (the message says so).
    if (body.message.startsWith("Scheduled")) expect(body.contactsCancelled).toBe(3);
    else expect(body.message).toContain("already running");
  });

  it("deletes a running job, its results and its object", async () => {
    const { auth } = await newAccount();
    const job = await createJob(auth, ["alice@normal.test", "q1@greylist.test"]);
    const del = await api(`/v1/email/validate/job/${job.id}`, { method: "DELETE", headers: auth });
    expect(del.status).toBe(200);
    expect((await api(`/v1/email/validate/job/${job.id}`, { headers: auth })).status).toBe(404);
    expect((await getJob(auth, `/email-validations/${job.id}`)).res.status).toBe(404);
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM results WHERE job_id = ?")
      .bind(job.id)
      .first<{ n: number }>();
    expect(rows?.n).toBe(0);
    // Give a stray alarm time to run: nothing comes back.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await getJob(auth, `/email-validations/${job.id}`)).res.status).toBe(404);
  });

  it.each([
    ["result?pos=-1", 400],
    ["result?pos=abc", 400],
    ["download?filters=bogus", 400],
  ])("refuses %s", async (path, status) => {
    const { auth } = await newAccount();
    const job = await createJob(auth, ["alice@normal.test"]);
    const res = await api(`/v1/email/validate/job/${job.id}/${path}`, { headers: auth });
    expect(res.status).toBe(status);
    expect(Object.keys(await res.json())).toEqual(["error"]);
  });

  it("answers 404 for another account's job on every route", async () => {
    const owner = await newAccount("owner");
    const other = await newAccount("other");
    const job = await createJob(owner.auth, ["h1@greylist.test"]);
    const routes: [string, string][] = [
      ["GET", ""],
      ["GET", "/result"],
      ["GET", "/download"],
      ["POST", "/pause"],
      ["POST", "/resume"],
      ["POST", "/cancel"],
      ["DELETE", ""],
    ];
    for (const [method, path] of routes) {
      const res = await api(`/v1/email/validate/job/${job.id}${path}`, { method, headers: other.auth });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(await res.json()).toEqual({ error: "Job not found" });
    }
    for (const [method, path] of [
      ["GET", ""],
      ["GET", "/download"],
      ["DELETE", ""],
    ]) {
      const res = await api(`/email-validations/${job.id}${path}`, { method, headers: other.auth });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    const { body } = await getJob(owner.auth, `/email-validations/${job.id}`);
    expect(body.status).not.toBe("canceled");
  });
});

describe("canonical family additions", () => {
  it("lists the account's jobs newest first, cursor-paged, counts opt-in", async () => {
    const { auth } = await newAccount();
    const a = await createJob(auth, ["alice@normal.test"]);
    const b = await createJob(auth, ["bob@normal.test"]);
    const c = await createJob(auth, ["carol@normal.test"]);
    const first = (await (await api("/email-validations?page[size]=2", { headers: auth })).json()) as {
      email_validations: { id: string; status: string }[];
      _links: { next?: { href: string } };
    };
    expect(first.email_validations.map((j) => j.id)).toEqual([c.id, b.id]);
    const second = (await (await api(first._links.next!.href, { headers: auth })).json()) as typeof first;
    expect(second.email_validations.map((j) => j.id)).toEqual([a.id]);
    expect(second._links.next).toBeUndefined();
    await waitForJob(auth, a.id);
    const detailed = (await (await api("/email-validations?include=details", { headers: auth })).json()) as {
      email_validations: { id: string; counts: { deliverable: number } }[];
    };
    expect(detailed.email_validations.find((j) => j.id === a.id)?.counts.deliverable).toBe(1);
  });

  it("accepts a multipart CSV upload on POST /email-validations", async () => {
    const { auth } = await newAccount();
    const res = await api("/email-validations", {
      method: "POST",
      headers: auth,
      body: form({ file: new Blob(["email,team\nalice@normal.test,red\nnobody@normal.test,blue\n"]) }),
    });
    expect(res.status).toBe(202);
    const job = (await res.json()) as { id: string };
    const done = await waitForJob(auth, job.id);
    expect(done.results.map((r) => r.result)).toEqual(["deliverable", "undeliverable"]);
  });

  it("streams filtered downloads as CSV and NDJSON", async () => {
    const { auth } = await newAccount();
    const job = await createJob(auth, [
      { email: "alice@normal.test", owner: "=cmd()" },
      { email: "nobody@normal.test", owner: "b" },
      { email: "x@catchall.test", owner: "c" },
    ]);
    await waitForJob(auth, job.id);
    const csv = await (
      await api(`/email-validations/${job.id}/download?result=deliverable,risky`, { headers: auth })
    ).text();
    const lines = csv.trimEnd().split("\r\n");
    expect(lines[0]).toContain("email,result,catch_all,reason");
    expect(lines[0]?.endsWith(",owner")).toBe(true);
    expect(lines.slice(1).map((l) => l.split(",")[0])).toEqual(["alice@normal.test", "x@catchall.test"]);
    expect(lines[1]).toContain("'=cmd()");
    const nd = await (
      await api(`/email-validations/${job.id}/download?result=undeliverable&format=ndjson`, { headers: auth })
    ).text();
    const objs = nd
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { email: string; result: string });
    expect(objs.map((o) => [o.email, o.result])).toEqual([["nobody@normal.test", "undeliverable"]]);
    const bad = await api(`/email-validations/${job.id}/download?result=great`, { headers: auth });
    expect(bad.status).toBe(400);
    const badFormat = await api(`/email-validations/${job.id}/download?format=xml`, { headers: auth });
    expect(badFormat.status).toBe(400);
  });

  it("deletes through DELETE /email-validations/{id}", async () => {
    const { auth } = await newAccount();
    const job = await createJob(auth, ["alice@normal.test"]);
    await waitForJob(auth, job.id);
    const del = await api(`/email-validations/${job.id}`, { method: "DELETE", headers: auth });
    expect(del.status).toBe(204);
    expect((await getJob(auth, `/email-validations/${job.id}`)).res.status).toBe(404);
  });
});
