// `npm run load`: mailvet under `wrangler dev` holding 10 concurrent jobs
// plus 200 polls per second for 60 s. A finished job is replaced at once by a
// new one (300-3,000 addresses); polls go to the running jobs round robin,
// open-loop. Reports requests sent, errors (any answer but 202 to a create and
// 200 to a poll; goal 0), p50/p99/max latency of polls and creates, and jobs
// completed. Results are printed and written as JSON to the run's directory
// in the OS temporary directory.
//
// The API's per-key rate limit (600/min) and per-account running-job cap (5)
// would refuse this load by design, so the run raises them with --var.
//
// Options: --duration <s> (60), --jobs <n> (10), --rate <polls/s> (200), --seed <n>.

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { seededRandom } from "../lib/addresses";
import { intArg, readArgs } from "../lib/args";
import { cleanupAll, installExitHandlers } from "../lib/processes";
import { discardState, startStack } from "../lib/stack";
import { Deadline, percentile, sleep, stopwatchLog, waitFor } from "../lib/time";
import { formatScan, scanLog } from "../lib/wrangler-logs";
import { JobPool } from "./job-pool";
import { pollOpenLoop } from "./poller";
import { table } from "./stats";

/** Raised for this run only: the defaults would (rightly) throttle it. */
const LOAD_VARS = { RATE_LIMIT_PER_MINUTE: "100000", MAX_RUNNING_JOBS: "20" };
const WARM_UP_DEADLINE_MS = 120_000;

const log = stopwatchLog("load");

async function main(): Promise<number> {
  installExitHandlers();
  const args = readArgs(process.argv.slice(2));
  const durationMs = intArg(args, "duration", 60) * 1000;
  const jobs = intArg(args, "jobs", 10);
  const rate = intArg(args, "rate", 200);
  const seed = intArg(args, "seed", Math.floor(Math.random() * 1_000_000));
  const keep = args.has("keep");

  const stack = await startStack({
    name: "load",
    account: "load",
    vars: LOAD_VARS,
    worldInChildProcess: true,
    log,
  });
  log(
    `raised for this run: ${Object.entries(LOAD_VARS)
      .map(([k, v]) => `${k}=${v}`)
      .join(", ")} (defaults 600 and 5)`,
  );

  // Warm-up: the first jobs are created before the clock starts.
  const pool = new JobPool(stack.api, jobs, seededRandom(seed));
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
    () => log(`running ${pool.runningCount}, ended ${pool.ended.length}, creates ${pool.creates.sent}`),
    10_000,
  );
  const windowStart = performance.now();
  const polls = await pollOpenLoop({ api: stack.api, pool, ratePerSecond: rate, durationMs });
  const windowEnd = performance.now();
  clearInterval(sampler);
  clearInterval(progress);
  loopDelay.disable();
  await pool.close();

  const inWindow = pool.ended.filter((j) => (j.endedAt ?? 0) >= windowStart && (j.endedAt ?? 0) <= windowEnd);
  const completed = inWindow.filter((j) => j.status === "completed");
  const failedJobs = pool.ended.filter((j) => j.status !== "completed");
  const jobTimes = completed.map((j) => (j.endedAt as number) - j.sentAt);
  const pollSummary = polls.stats.summary();
  const createSummary = pool.creates.summary();
  const logs = await Promise.all(stack.wrangler.logFiles.map(scanLog));

  const result = {
    seed,
    commit: `${stack.snapshot.commit}+${stack.snapshot.uncommitted}`,
    vars: stack.vars,
    raisedVars: LOAD_VARS,
    target: { jobs, pollsPerSecond: rate, durationMs },
    polls: { ...pollSummary, achievedRate: polls.achievedRate, skipped: polls.skipped },
    creates: createSummary,
    jobs: {
      created: pool.creates.ok,
      completedInWindow: completed.length,
      addressesInCompletedJobs: completed.reduce((a, j) => a + j.size, 0),
      endedNotCompleted: failedJobs.map((j) => ({ id: j.id, status: j.status })),
      jobTimeP50Ms: percentile(jobTimes, 50),
      jobTimeP99Ms: percentile(jobTimes, 99),
      runningMin: running.length ? Math.min(...running) : null,
      runningMean: running.length ? running.reduce((a, b) => a + b, 0) / running.length : null,
    },
    client: {
      scheduleLagP99Ms: polls.lagP99Ms,
      scheduleLagMaxMs: polls.lagMaxMs,
      eventLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    },
    logs,
  };
  await stack.wrangler.stop();
  const file = join(stack.workDir, "load-results.json");
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);

  const errors = pollSummary.errors + createSummary.errors + failedJobs.length;
  const line = "─".repeat(78);
  console.log(`\n${line}\nload summary (seed ${seed}, mailvet ${result.commit})\n${line}`);
  console.log(
    `${jobs} jobs kept running + ${rate} polls/s open-loop for ${durationMs / 1000} s against wrangler dev`,
  );
  console.log(`vars raised for this run: RATE_LIMIT_PER_MINUTE=100000, MAX_RUNNING_JOBS=20`);
  console.log(
    `\n${table([
      ["polls  GET /email-validations/{id}", pollSummary],
      ["creates POST /email-validations", createSummary],
    ])}\n`,
  );
  console.log(
    `polls: ${polls.achievedRate.toFixed(1)}/s achieved, ${polls.skipped} slots with no job to poll; client lag p99 ${fmt(polls.lagP99Ms)}, max ${fmt(polls.lagMaxMs)}; event-loop delay p99 ${fmt(result.client.eventLoopDelayP99Ms)}`,
  );
  console.log(
    `jobs: ${completed.length} completed in the window (${result.jobs.addressesInCompletedJobs} addresses), ${pool.creates.ok} created in all; running min ${result.jobs.runningMin}, mean ${result.jobs.runningMean?.toFixed(1)}; create→completed p50 ${fmt(result.jobs.jobTimeP50Ms)}, p99 ${fmt(result.jobs.jobTimeP99Ms)}`,
  );
  for (const [name, s] of [
    ["polls", pollSummary],
    ["creates", createSummary],
  ] as const) {
    if (!s.errors) continue;
    console.log(`${name} errors by status: ${JSON.stringify(s.errorsByStatus)}`);
    for (const e of s.errorSamples) console.log(`  ${e}`);
  }
  if (failedJobs.length) console.log(`jobs that ended other than completed: ${JSON.stringify(failedJobs)}`);
  console.log("wrangler logs:");
  for (const scan of logs) console.log(`  ${formatScan(scan)}`);
  console.log(`${errors ? `LOAD: ${errors} ERRORS` : "LOAD: 0 errors"} — results in ${file}\n${line}`);
  if (!errors && !keep) await discardState(stack);
  return errors ? 1 : 0;
}

function fmt(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? "—" : `${ms.toFixed(0)} ms`;
}

main()
  .then(async (code) => {
    await cleanupAll();
    process.exit(code);
  })
  .catch(async (err) => {
    console.error(err);
    await cleanupAll();
    await sleep(0);
    process.exit(1);
  });
