// `npm run chaos`: crash safety of mailvet, end to end, under `wrangler dev`.
//
//   1. the fixture mail world, then wrangler dev on a fresh state directory;
//   2. a 20,000-address job and a 5,000-address job, both with a webhook_url;
//   3. three kill -9 of wrangler + workerd at random points, each followed by
//      a restart on the same state; the 5,000 job is canceled between the
//      first and the second crash;
//   4. after the last restart only GET polls: the big job must finish by its
//      own alarms with exactly one result per address, counts that match the
//      rows, its webhook delivered, and the canceled job exactly as it was.
//
// Options: --seed <n> (lists and crash points; printed, so a run can be
// repeated), --keep (keep the state directory afterwards).

import { cpus, loadavg } from "node:os";
import { intArg, readArgs } from "../lib/args";
import { describe } from "../lib/http";
import { Incidents } from "../lib/incidents";
import type { JobView, MailvetApi, ResultLine } from "../lib/mailvet-api";
import { installExitHandlers, runScript } from "../lib/processes";
import { seededRandom } from "../lib/random";
import { discardState, type Stack, startStack } from "../lib/stack";
import { Deadline, sleep, stopwatchLog } from "../lib/time";
import { scanLog } from "../lib/wrangler-logs";
import {
  Checks,
  checkCountsMatchRows,
  checkResultSet,
  checkWebhook,
  formatCounts,
  receivedWebhooks,
  sameCounts,
} from "./checks";
import { CRASH_WINDOWS, crashAndRestart, poll, terminal, waitForCrashPoint } from "./crash";
import { CANCEL_TOTAL, chaosLists, MAIN_TOTAL } from "./lists";
import { type ChaosSummary, printSummary, resultsByReason, writeSummary } from "./report";

const CRASH_POINT_DEADLINE_MS = 180_000;
const COMPLETION_DEADLINE_MS = 10 * 60_000;
const WEBHOOK_WAIT_MS = 60_000;
const FINAL_POLL_EVERY_MS = 1000;

const log = stopwatchLog("chaos");
const runStarted = Date.now();
const sinceStart = () => Date.now() - runStarted;

async function main(): Promise<number> {
  installExitHandlers();
  const args = readArgs(process.argv.slice(2));
  const seed = intArg(args, "seed", Math.floor(Math.random() * 1_000_000));
  const keep = args.has("keep");
  const random = seededRandom(seed ^ 0x5bd1e995);
  const checks = new Checks();
  const incidents = new Incidents();
  log(`seed ${seed}`);

  const lists = chaosLists(seed);
  const loadBefore = loadavg()[0] ?? 0;
  const stack = await startStack({ name: "chaos", account: "chaos", log });
  const summary: ChaosSummary = {
    seed,
    commit: `${stack.snapshot.commit}+${stack.snapshot.uncommitted}`,
    workDir: stack.workDir,
    vars: stack.vars,
    loadAverage: { before: loadBefore, after: 0, cpus: cpus().length },
    timings: { "setup (fixtures, migrations, wrangler)": sinceStart() },
    jobs: {},
    crashes: [],
    webhooks: {},
    checks: checks.all,
    incidents: incidents.list,
    logs: [],
  };
  try {
    await scenario(stack, lists, { seed, random, checks, incidents, summary });
  } catch (err) {
    summary.error = err instanceof Error ? err.message : String(err);
    log(`stopped: ${summary.error}`);
  }
  summary.timings["whole run"] = sinceStart();
  summary.loadAverage.after = loadavg()[0] ?? 0;
  await stack.wrangler.stop();
  summary.logs = await Promise.all(stack.wrangler.logFiles.map(scanLog));
  const file = await writeSummary(summary);
  printSummary(summary);
  log(`summary written to ${file}`);
  const ok = !summary.error && checks.failures.length === 0;
  if (ok && !keep) await discardState(stack);
  return ok ? 0 : 1;
}

interface RunContext {
  seed: number;
  random: () => number;
  checks: Checks;
  incidents: Incidents;
  summary: ChaosSummary;
}

async function scenario(stack: Stack, lists: { main: string[]; cancel: string[] }, ctx: RunContext) {
  const { api, world } = stack;
  const { checks, incidents, summary, random } = ctx;
  const tag = `${ctx.seed}-${Date.now().toString(36)}`;
  const hooks = { main: `/ok/chaos-${tag}-main`, canceled: `/ok/chaos-${tag}-cancel` };

  // ── 2. the two jobs ──
  const main = await submit(api, lists.main, `${world.receiverUrl}${hooks.main}`, "chaos 20k");
  summary.timings[`create ${MAIN_TOTAL} (POST)`] = main.ms;
  summary.jobs.main = { id: main.job.id, total: MAIN_TOTAL };
  const other = await submit(api, lists.cancel, `${world.receiverUrl}${hooks.canceled}`, "chaos cancel");
  summary.timings[`create ${CANCEL_TOTAL} (POST)`] = other.ms;
  summary.jobs.canceled = { id: other.job.id, total: CANCEL_TOTAL };
  const jobStarted = Date.now();
  log(`main job ${main.job.id} (${main.job.total}), job to cancel ${other.job.id} (${other.job.total})`);
  checks.expect(
    `main job accepted with total ${MAIN_TOTAL}`,
    main.job.total === MAIN_TOTAL,
    `total ${main.job.total}`,
  );
  checks.expect(
    `job 2 accepted with total ${CANCEL_TOTAL}`,
    other.job.total === CANCEL_TOTAL,
    `total ${other.job.total}`,
  );

  // ── 3. three crashes; the cancel between the first and the second ──
  let atCancel: { counts: JobView["counts"]; lines: ResultLine[] } | null = null;
  for (const [i, [lo, hi]] of CRASH_WINDOWS.entries()) {
    const n = i + 1;
    const target = Math.round(MAIN_TOTAL * (lo + random() * (hi - lo)));
    log(`crash #${n}: waiting for ≥${target} addresses done`);
    const point = await waitForCrashPoint({
      api,
      mainId: main.job.id,
      target,
      // Crash 1 also comes before job 2 is more than half done, so the cancel meets it mid-way.
      other: n === 1 ? { id: other.job.id, stopAt: CANCEL_TOTAL / 2 } : undefined,
      incidents,
      random,
      deadline: new Deadline(CRASH_POINT_DEADLINE_MS, `crash point #${n} (≥${target} done)`),
    });
    const at = sinceStart();
    log(`crash #${n}: main ${point.main.counts?.processed} done at the last poll, +${point.jitterMs} ms`);
    const restart = await crashAndRestart(stack.wrangler, api, log);
    summary.crashes.push({
      n,
      at,
      targetProcessed: target,
      jitterMs: point.jitterMs,
      mainBefore: { status: point.main.status, processed: point.main.counts?.processed ?? 0 },
      otherBefore: point.other
        ? { status: point.other.status, processed: point.other.counts?.processed ?? 0 }
        : undefined,
      ...restart,
    });
    if (n === 1) atCancel = await cancelMidway(api, other.job.id, lists.cancel, ctx);
  }

  // ── 4. only GET polls from here: alarms must finish the job ──
  const restartedAt = Date.now();
  log("after the last restart: polling only (GET ?include=details)");
  const done = await pollToEnd(api, main.job.id, incidents);
  summary.timings["last restart → job completed"] = Date.now() - restartedAt;
  summary.timings["job created → completed (client)"] = Date.now() - jobStarted;
  summary.timings["job created_at → finished_at (server)"] =
    done.created_at && done.finished_at ? Date.parse(done.finished_at) - Date.parse(done.created_at) : null;
  summary.jobs.main = { id: main.job.id, total: MAIN_TOTAL, counts: done.counts, status: done.status };
  checks.expect(
    "main job completed on its own after the last restart",
    done.status === "completed",
    done.status,
  );
  checks.expect(
    `main job processed all ${MAIN_TOTAL}`,
    done.total === MAIN_TOTAL && done.counts?.processed === MAIN_TOTAL,
    formatCounts(done.counts),
  );

  const downloadStarted = Date.now();
  const dl = await api.download(main.job.id);
  summary.timings[`download ${MAIN_TOTAL} (NDJSON)`] = Date.now() - downloadStarted;
  const dlOk = dl.res.status === 200;
  const dlPath = `/email-validations/${main.job.id}/download?format=ndjson`;
  if (!checks.expect("main job download answered 200", dlOk, dlOk ? "" : describe("GET", dlPath, dl.res)))
    return;
  summary.jobs.main.byReason = resultsByReason(dl.lines);
  checkResultSet(checks, "main job", lists.main, dl.lines, done.counts ?? zeroCounts());
  await checkListMirror(api, main.job.id, done.counts, checks, incidents, "main job");
  const mainHooks = await checkWebhook(
    checks,
    "main job",
    world.receiverUrl,
    hooks.main,
    { type: "email_validation.completed", jobId: main.job.id, counts: done.counts },
    WEBHOOK_WAIT_MS,
  );
  summary.webhooks["main completed"] = mainHooks.length;

  // ── the canceled job, after two more crashes ──
  if (atCancel) {
    const after = await poll(api, other.job.id, incidents);
    const afterDl = await api.download(other.job.id);
    summary.jobs.canceled = {
      id: other.job.id,
      total: CANCEL_TOTAL,
      countsAtCancel: atCancel.counts,
      countsAfter: after?.counts,
      status: after?.status,
    };
    checks.expect(
      "canceled job still canceled after 2 more crashes",
      after?.status === "canceled",
      after?.status,
    );
    checks.expect(
      "canceled job: counts unchanged since the cancel",
      sameCounts(after?.counts, atCancel.counts),
      `at cancel ${formatCounts(atCancel.counts)}; now ${formatCounts(after?.counts)}`,
    );
    checks.expect(
      "canceled job: results unchanged since the cancel",
      afterDl.res.status === 200 && sameLines(afterDl.lines, atCancel.lines),
      `${atCancel.lines.length} rows at cancel, ${afterDl.lines.length} now${diffLines(atCancel.lines, afterDl.lines)}`,
    );
    await checkListMirror(api, other.job.id, atCancel.counts, checks, incidents, "canceled job");
    const cancelHooks = await checkWebhook(
      checks,
      "canceled job",
      world.receiverUrl,
      hooks.canceled,
      { type: "email_validation.canceled", jobId: other.job.id, counts: atCancel.counts },
      WEBHOOK_WAIT_MS,
    );
    summary.webhooks["job 2 canceled"] = cancelHooks.length;
  }
  const allHooks = (await receivedWebhooks(world.receiverUrl)).length;
  summary.webhooks["other paths"] = allHooks - Object.values(summary.webhooks).reduce((a, b) => a + b, 0);
  checks.expect(
    "no unexpected answer from mailvet during the run",
    incidents.list.length === 0,
    incidents.list.length ? `${incidents.list.length}, first: ${JSON.stringify(incidents.list[0])}` : "",
  );
}

async function submit(api: MailvetApi, emails: string[], webhookUrl: string, label: string) {
  const res = await api.createJob(emails, { webhook_url: webhookUrl, label });
  if (res.status !== 202 || !res.body?.id)
    throw new Error(`creating "${label}": ${describe("POST", "/email-validations", res)}`);
  return { job: res.body, ms: res.ms };
}

/** Cancels job 2 right after the first restart and records what it holds at that moment. */
async function cancelMidway(api: MailvetApi, id: string, submitted: string[], ctx: RunContext) {
  const { checks, incidents } = ctx;
  await sleep(Math.floor(ctx.random() * 1000));
  const res = await api.cancelJob(id);
  incidents.check("cancel", `PATCH /email-validations/${id}`, res, [200]);
  log(`cancel job 2 → ${res.status} ${res.body?.status ?? ""} ${formatCounts(res.body?.counts)}`);
  const canceled = res.status === 200 && res.body?.status === "canceled";
  const answer = canceled ? `${Math.round(res.ms)} ms` : describe("PATCH", `/email-validations/${id}`, res);
  if (!checks.expect("job 2 canceled mid-way (PATCH answered 200, status canceled)", canceled, answer))
    throw new Error("job 2 could not be canceled mid-way; the cancel cannot be tested");
  const counts = res.body.counts;
  const dl = await api.download(id);
  const now = await poll(api, id, incidents);
  checks.expect(
    "canceled job held results when canceled (a mid-way cancel)",
    (counts?.processed ?? 0) > 0 && (counts?.processed ?? 0) < CANCEL_TOTAL,
    formatCounts(counts),
  );
  checks.expect(
    "canceled job: a GET right after the cancel shows the same counts",
    sameCounts(now?.counts, counts),
  );
  checkCountsMatchRows(checks, "canceled job right after the cancel", dl.lines, counts ?? zeroCounts());
  const known = new Set(submitted);
  checks.expect(
    "canceled job: rows only for submitted addresses, each once",
    new Set(dl.lines.map((l) => l.email)).size === dl.lines.length &&
      dl.lines.every((l) => known.has(l.email)),
  );
  return { counts, lines: dl.lines };
}

/** Polls with GET ?include=details only, until the job ends. */
async function pollToEnd(api: MailvetApi, id: string, incidents: Incidents): Promise<JobView> {
  const deadline = new Deadline(COMPLETION_DEADLINE_MS, `job ${id} to complete after the last restart`);
  let last: JobView | null = null;
  let lastLog = 0;
  let lastProcessed = -1;
  let stuckSince = Date.now();
  for (;;) {
    const view = await poll(api, id, incidents);
    if (view) last = view;
    if (last && terminal(last.status)) return last;
    const processed = last?.counts?.processed ?? 0;
    if (processed !== lastProcessed) {
      lastProcessed = processed;
      stuckSince = Date.now();
    }
    if (Date.now() - lastLog > 5000) {
      lastLog = Date.now();
      const still =
        Date.now() - stuckSince > 5000
          ? ` (no progress for ${Math.round((Date.now() - stuckSince) / 1000)} s)`
          : "";
      log(`main ${last?.status ?? "?"} ${processed}/${MAIN_TOTAL}${still}`);
    }
    if (deadline.passed)
      throw new Error(
        `${deadline.what}: still ${last?.status} at ${formatCounts(last?.counts)}, no progress for ${Math.round((Date.now() - stuckSince) / 1000)} s`,
      );
    await sleep(FINAL_POLL_EVERY_MS);
  }
}

/** The D1 copy of the job (what the list endpoint shows) agrees with the job object. */
async function checkListMirror(
  api: MailvetApi,
  id: string,
  counts: JobView["counts"],
  checks: Checks,
  incidents: Incidents,
  label: string,
) {
  const res = await api.listJobs();
  incidents.check("list", "GET /email-validations?include=details", res, [200]);
  const row = res.body?.email_validations?.find((j) => j.id === id);
  checks.expect(
    `${label}: the D1 job list shows the same counts`,
    sameCounts(row?.counts, counts),
    `list ${formatCounts(row?.counts)}; job ${formatCounts(counts)}`,
  );
}

function sameLines(a: ResultLine[], b: ResultLine[]): boolean {
  if (a.length !== b.length) return false;
  const before = new Map(a.map((l) => [l.email, l.result]));
  return b.every((l) => before.get(l.email) === l.result);
}

function diffLines(a: ResultLine[], b: ResultLine[]): string {
  const before = new Map(a.map((l) => [l.email, l.result]));
  const changed = b
    .filter((l) => before.get(l.email) !== l.result)
    .map((l) => `${l.email}: ${before.get(l.email) ?? "absent"} → ${l.result}`);
  return changed.length ? `; changed: ${changed.slice(0, 5).join(", ")}` : "";
}

function zeroCounts() {
  return { processed: 0, deliverable: 0, undeliverable: 0, risky: 0, unknown: 0 };
}

runScript(main);
