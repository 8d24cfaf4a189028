// `npm run load`: mailvet under `wrangler dev` holding 10 concurrent jobs
// plus 200 polls per second for 60 s. A finished job is replaced at once by a
// new one (300-3,000 addresses); polls go to the running jobs round robin,
// open-loop. Reports requests sent, errors (any answer but 202 to a create and
// 200 to a poll, and polls dropped; goal 0), p50/p99/max latency of polls and
// creates, and jobs completed. Results are printed and written as JSON to the
// run's directory in the OS temporary directory.
//
// Before the jobs, 10 s of GET /health at the same rate give a baseline: what
// wrangler dev itself answers on this machine, with no mailvet work behind it.
//
// The API's per-key rate limit (600/min) and per-account running-job cap (5)
// would refuse this load by design, so the run raises them with --var.
//
// Options: --duration <s> (60), --jobs <n> (10), --rate <polls/s> (200),
// --max-in-flight <n> (1000), --page-size <n> (polls ask for that page size
// instead of the default 100 results), --seed <n>, --no-baseline, --keep.

import { cpus, loadavg } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { intArg, readArgs } from "../lib/args";
import { http } from "../lib/http";
import type { MailvetApi } from "../lib/mailvet-api";
import { cleanupAll, installExitHandlers } from "../lib/processes";
import { seededRandom } from "../lib/random";
import { discardState, startStack } from "../lib/stack";
import { Deadline, percentile, stopwatchLog, waitFor } from "../lib/time";
import { scanLog } from "../lib/wrangler-logs";
import { JobPool } from "./job-pool";
import { openLoop } from "./open-loop";
import { errorTotal, jobsStarved, type LoadReport, phaseFigures, printReport, writeReport } from "./report";

/** Raised for this run only: the defaults would (rightly) throttle it. */
const LOAD_VARS = { RATE_LIMIT_PER_MINUTE: "100000", MAX_RUNNING_JOBS: "20" };
const WARM_UP_DEADLINE_MS = 120_000;
const BASELINE_MS = 10_000;
const REQUEST_TIMEOUT_MS = 10_000;
const ENDED = new Set(["completed", "canceled", "error"]);

const log = stopwatchLog("load");

async function main(): Promise<number> {
  installExitHandlers();
  const args = readArgs(process.argv.slice(2));
  const durationMs = intArg(args, "duration", 60) * 1000;
  const jobs = intArg(args, "jobs", 10);
  const rate = intArg(args, "rate", 200);
  const maxInFlight = intArg(args, "max-in-flight", 1000);
  const seed = intArg(args, "seed", Math.floor(Math.random() * 1_000_000));
  // Polls ask for the default first page of 100 results unless told otherwise.
  const pageSize = args.has("page-size") ? intArg(args, "page-size", 100) : null;
  const pollQuery = pageSize === null ? "" : `page[size]=${pageSize}`;
  const loadBefore = loadavg()[0] ?? 0;

  const stack = await startStack({
    name: "load",
    account: "load",
    vars: LOAD_VARS,
    // The fixtures' SMTP and DoH work stays off the event loop whose latencies we measure.
    worldInChildProcess: true,
    log,
  });
  log(
    `raised for this run: ${Object.entries(LOAD_VARS)
      .map(([k, v]) => `${k}=${v}`)
      .join(", ")}`,
  );
  const { api } = stack;

  let calibration = null;
  if (!args.has("no-baseline")) {
    log(`baseline: GET /health at ${rate}/s for ${BASELINE_MS / 1000} s`);
    calibration = phaseFigures(
      await openLoop({
        ratePerSecond: rate,
        durationMs: BASELINE_MS,
        maxInFlight,
        expected: [200],
        send: () => ({
          request: http("GET", `${api.baseUrl}/health`, { timeoutMs: REQUEST_TIMEOUT_MS }),
          describe: "GET /health",
        }),
      }),
    );
  }

  // Warm-up: the first jobs are created before the clock starts.
  const pool = new JobPool(api, jobs, seededRandom(seed));
  pool.fill();
  await waitFor(new Deadline(WARM_UP_DEADLINE_MS, `${jobs} jobs created`), 100, async () =>
    pool.runningCount >= jobs ? true : undefined,
  );
  log(`${jobs} jobs running; ${rate} polls/s for ${durationMs / 1000} s`);

  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const running: number[] = [];
  const sampler = setInterval(() => running.push(pool.runningCount), 250);
  const progress = setInterval(
    () => log(`running ${pool.runningCount}, ended ${pool.ended.length}, created ${pool.creates.ok}`),
    10_000,
  );
  const doneAtStart = await addressesDone(api, pool.runningJobs());
  const windowStart = performance.now();
  const polls = await openLoop({
    ratePerSecond: rate,
    durationMs,
    maxInFlight,
    expected: [200],
    send: () => pollNext(api, pool, pollQuery),
  });
  const windowEnd = performance.now();
  clearInterval(sampler);
  clearInterval(progress);
  loopDelay.disable();
  await pool.close();
  const stillRunning = pool.runningJobs();
  const doneAtEnd = await addressesDone(api, stillRunning);

  const inWindow = pool.ended.filter((j) => (j.endedAt ?? 0) >= windowStart && (j.endedAt ?? 0) <= windowEnd);
  const completed = inWindow.filter((j) => j.status === "completed");
  const jobTimes = completed.map((j) => (j.endedAt as number) - j.sentAt);
  await stack.wrangler.stop();
  const report: LoadReport = {
    seed,
    commit: `${stack.snapshot.commit}+${stack.snapshot.uncommitted}`,
    workDir: stack.workDir,
    raisedVars: LOAD_VARS,
    target: { jobs, pollsPerSecond: rate, durationMs, maxInFlight, pollQuery },
    loadAverage: { before: loadBefore, after: loadavg()[0] ?? 0, cpus: cpus().length },
    calibration,
    polls: phaseFigures(polls),
    creates: pool.creates.summary(),
    jobs: {
      created: pool.creates.ok,
      completedInWindow: completed.length,
      addressesInCompletedJobs: completed.reduce((a, j) => a + j.size, 0),
      // Started before the window and done in it, plus what the jobs still running got through.
      addressesDoneInWindow: completed.reduce((a, j) => a + j.size, 0) - doneAtStart + doneAtEnd,
      stillRunning: stillRunning.length,
      endedNotCompleted: pool.ended
        .filter((j) => j.status !== "completed")
        .map(({ id, status }) => ({ id, status })),
      createToCompletedP50Ms: percentile(jobTimes, 50),
      createToCompletedP99Ms: percentile(jobTimes, 99),
      runningMin: running.length ? Math.min(...running) : null,
      runningMean: running.length ? running.reduce((a, b) => a + b, 0) / running.length : null,
    },
    eventLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    logs: await Promise.all(stack.wrangler.logFiles.map(scanLog)),
  };
  const file = await writeReport(report);
  printReport(report);
  log(`results written to ${file}`);
  const failed = errorTotal(report) > 0 || jobsStarved(report);
  if (!failed && !args.has("keep")) await discardState(stack);
  return failed ? 1 : 0;
}

/** Addresses processed so far by these jobs (one GET ?include=details each, outside the window). */
async function addressesDone(api: MailvetApi, jobs: { id: string }[]): Promise<number> {
  const views = await Promise.all(jobs.map((j) => api.getJob(j.id, "include=details", REQUEST_TIMEOUT_MS)));
  return views.reduce((a, v) => a + (v.status === 200 ? (v.body?.counts?.processed ?? 0) : 0), 0);
}

/** One poll of the next running job; an answer showing the job ended makes the pool replace it. */
function pollNext(api: MailvetApi, pool: JobPool, query: string) {
  const id = pool.nextToPoll();
  if (!id) return null;
  const request = api.getJob(id, query, REQUEST_TIMEOUT_MS).then((res) => {
    if (res.status === 200 && ENDED.has(res.body?.status)) pool.seenEnded(id, res.body.status);
    return res;
  });
  return { request, describe: `GET /email-validations/${id}${query ? `?${query}` : ""}` };
}

main()
  .then(async (code) => {
    await cleanupAll();
    process.exit(code);
  })
  .catch(async (err) => {
    console.error(err);
    await cleanupAll();
    process.exit(1);
  });
