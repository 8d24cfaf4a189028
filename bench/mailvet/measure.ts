// The mailvet measurements: create, end-to-end job time, results download,
// page latency, cancel latency. Each loop has a deadline; an unexpected
// answer is recorded (request, status, body) rather than thrown, so one
// misbehaviour does not hide the other figures.

import { Deadline, median, sleep } from "../../scripts/lib/time";
import type { JobView, MailvetApi, ResultLine } from "./api";

const TERMINAL = new Set(["completed", "canceled", "error"]);

export interface Incident {
  what: string;
  request: string;
  status: number;
  body: string;
}

export interface ProgressSample {
  /** ms since the create request was sent */
  t: number;
  processed: number;
  status: string;
  retryAfter: number | null;
}

export interface JobRun {
  id: string | null;
  createMs: number;
  createStatus: number;
  finalStatus: string;
  /** Client view: create sent → first poll that saw the job ended. Null if it never ended. */
  endToEndMs: number | null;
  /** Server view: created_at → finished_at of the job object. */
  serverMs: number | null;
  samples: ProgressSample[];
  counts: JobView["counts"] | null;
  incidents: Incident[];
}

function incident(what: string, request: string, status: number, body: unknown): Incident {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return { what, request, status, body: text.slice(0, 800) };
}

/** Creates a job for `emails` and polls it to the end (or the deadline). */
export async function runJob(
  api: MailvetApi,
  emails: string[],
  timeoutMs: number,
  log: (s: string) => void,
): Promise<JobRun> {
  const incidents: Incident[] = [];
  const t0 = performance.now();
  const created = await api.create(emails);
  const run: JobRun = {
    id: created.body?.id ?? null,
    createMs: created.ms,
    createStatus: created.status,
    finalStatus: "not created",
    endToEndMs: null,
    serverMs: null,
    samples: [],
    counts: null,
    incidents,
  };
  if (created.status !== 202 || !run.id) {
    incidents.push(
      incident("create", `POST /email-validations (${emails.length} emails)`, created.status, created.body),
    );
    return run;
  }
  const deadline = new Deadline(timeoutMs, "mailvet job");
  let lastLog = 0;
  while (!deadline.passed) {
    let view: Awaited<ReturnType<MailvetApi["job"]>>;
    try {
      view = await api.job(run.id);
    } catch (err) {
      incidents.push(incident("poll", `GET /email-validations/${run.id}?include=details`, 0, String(err)));
      await sleep(1000);
      continue;
    }
    const t = performance.now() - t0;
    if (view.status !== 200) {
      if (incidents.length < 20)
        incidents.push(
          incident("poll", `GET /email-validations/${run.id}?include=details`, view.status, view.body),
        );
      await sleep(1000);
      continue;
    }
    const job = view.body;
    const retryAfter = view.headers.get("retry-after");
    run.samples.push({
      t,
      processed: job.counts?.processed ?? 0,
      status: job.status,
      retryAfter: retryAfter === null ? null : Number(retryAfter),
    });
    run.counts = job.counts ?? null;
    run.finalStatus = job.status;
    if (TERMINAL.has(job.status)) {
      run.endToEndMs = t;
      if (job.created_at && job.finished_at)
        run.serverMs = Date.parse(job.finished_at) - Date.parse(job.created_at);
      if (job.status !== "completed")
        incidents.push(incident("job ended", `GET /email-validations/${run.id}`, 200, job));
      break;
    }
    if (t - lastLog > 10_000) {
      lastLog = t;
      log(
        `mailvet: ${job.status} ${job.counts?.processed ?? 0}/${emails.length} after ${(t / 1000).toFixed(0)} s`,
      );
    }
    // Retry-After is honoured when it asks for less than a second; otherwise poll every second.
    const asked = retryAfter === null ? 1 : Number(retryAfter);
    await sleep(Math.min(1000, Math.max(100, asked * 1000)));
  }
  if (run.endToEndMs === null)
    run.finalStatus = `${run.finalStatus} (gave up after ${timeoutMs / 60_000} min)`;
  return run;
}

export interface PageTiming {
  name: string;
  query: string;
  p50Ms: number | null;
  runsMs: number[];
  /** The page held the 100 expected results, in order. */
  correct: boolean;
}

/** Times the first, middle and last page of 100 results (cursor = email of the previous result). */
export async function timePages(
  api: MailvetApi,
  id: string,
  ordered: string[],
  runs: number,
  incidents: Incident[],
): Promise<PageTiming[]> {
  const size = 100;
  const total = ordered.length;
  const middle = Math.floor(total / 2 / size) * size;
  const last = Math.max(0, total - size);
  const pages = [
    { name: "first", start: 0 },
    { name: "middle", start: middle },
    { name: "last", start: last },
  ];
  const out: PageTiming[] = [];
  for (const page of pages) {
    const after = page.start > 0 ? ordered[page.start - 1] : undefined;
    const query = `page[size]=${size}${after === undefined ? "" : `&page[after]=${encodeURIComponent(after)}`}`;
    const expected = ordered.slice(page.start, page.start + size);
    const timings: number[] = [];
    let correct = true;
    for (let i = 0; i < runs; i++) {
      const res = await api.job(id, query);
      if (res.status !== 200) {
        correct = false;
        incidents.push(
          incident(`${page.name} page`, `GET /email-validations/${id}?${query}`, res.status, res.body),
        );
        break;
      }
      timings.push(res.ms);
      const emails = res.body.results.map((r) => r.email);
      if (emails.length !== expected.length || emails.some((e, k) => e !== expected[k])) correct = false;
    }
    out.push({ name: page.name, query, p50Ms: median(timings), runsMs: timings, correct });
  }
  return out;
}

export interface CancelRun {
  ms: number | null;
  status: number;
  /** processed when the cancel was sent, as last polled */
  processedBefore: number;
  /** The job said "canceled" and its counts did not move in the 3 s after. */
  stayedCanceled: boolean;
}

/** Starts fresh jobs and cancels each while it processes. */
export async function timeCancels(
  api: MailvetApi,
  lists: string[][],
  incidents: Incident[],
  log: (s: string) => void,
): Promise<CancelRun[]> {
  const runs: CancelRun[] = [];
  for (const [i, emails] of lists.entries()) {
    const created = await api.create(emails);
    const id = created.body?.id;
    if (created.status !== 202 || !id) {
      incidents.push(incident("cancel: create", "POST /email-validations", created.status, created.body));
      continue;
    }
    // Wait until a batch has landed, so the cancel meets a job at work.
    const deadline = new Deadline(120_000, "job to start processing");
    let processed = 0;
    while (!deadline.passed) {
      const view = await api.job(id);
      processed = view.body?.counts?.processed ?? 0;
      if (view.body?.status === "processing" && processed > 0) break;
      if (TERMINAL.has(view.body?.status)) break;
      await sleep(100);
    }
    const res = await api.cancel(id);
    const ok = res.status === 200 && res.body?.status === "canceled";
    if (!ok)
      incidents.push(
        incident("cancel", `PATCH /email-validations/${id} {"status":"canceled"}`, res.status, res.body),
      );
    const before = await api.job(id);
    await sleep(3000);
    const after = await api.job(id);
    const stayed =
      ok &&
      after.body?.status === "canceled" &&
      before.body?.counts?.processed === after.body?.counts?.processed;
    if (ok && !stayed)
      incidents.push(
        incident("cancel: results moved after cancel", `GET /email-validations/${id}`, after.status, {
          before: before.body?.counts,
          after: after.body?.counts,
          status: after.body?.status,
        }),
      );
    runs.push({
      ms: ok ? res.ms : null,
      status: res.status,
      processedBefore: processed,
      stayedCanceled: stayed,
    });
    log(`mailvet: cancel ${i + 1}/${lists.length}: ${res.status} in ${res.ms.toFixed(1)} ms`);
  }
  return runs;
}

/** Milestones of a job's progress curve: when 50/90/99/100 % of the list had results. */
export function milestones(samples: ProgressSample[], total: number): Record<string, number | null> {
  const at = (share: number) => samples.find((s) => s.processed >= Math.ceil(share * total))?.t ?? null;
  return { t50: at(0.5), t90: at(0.9), t99: at(0.99), t100: at(1) };
}

export type { ResultLine };
