// `npm run load`: mailvet under `wrangler dev` holding 10 concurrent jobs,
// first alone and then under 200 polls per second, in one invocation:
//
//   1. baseline: GET /health at the poll rate for 10 s (what wrangler dev
//      itself answers on this machine, with no mailvet work behind it);
//   2. jobs alone for --quiet s (30), then jobs + polls for --duration s
//      (60), then jobs alone again for --quiet s: the jobs' unloaded rate is
//      taken from both quiet windows, so the jobs' own slowing or speeding
//      up over their life does not pass for the polls' effect.
//
// A finished job is replaced at once by a new one (300-3,000 addresses).
// Polls go to the running jobs round robin, open-loop, over a fixed pool of
// keep-alive connections (--connections, 32). Reports poll p50/p99/max,
// errors (any answer but 202 to a create and 200 to a poll, and polls
// dropped; goal 0), and the jobs' rate in addresses/s with and without polls
// (goal: ≥ 80 % kept). Results are printed and written as JSON to the run's
// directory in the OS temporary directory.
//
// The per-account running-job cap (5) would refuse this load by design, so
// the run raises it with --var; the per-key request limit is respected by
// spreading the polls over enough API keys (--keys).
//
// Options: --duration <s> (60), --quiet <s> (30), --jobs <n> (10),
// --rate <polls/s> (200), --connections <n> (32), --max-in-flight <n> (1000),
// --keys <n> (0 = as many as the rate needs), --page-size <n> (polls ask for
// that page size instead of the default 100 results), --seed <n>,
// --no-baseline, --keep, --profile <file> (a CPU profile of the worker over
// the loaded window, from wrangler's inspector).

import { writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { intArg, readArgs } from "../lib/args";
import { createApiKey, type JobView } from "../lib/mailvet-api";
import { installExitHandlers, runScript } from "../lib/processes";
import { seededRandom } from "../lib/random";
import { discardState, startStack } from "../lib/stack";
import { Deadline, sleep, stopwatchLog, waitFor } from "../lib/time";
import { scanLog } from "../lib/wrangler-logs";
import { PooledClient } from "./client";
import { workerdCpuSeconds } from "./cpu";
import { JobPool } from "./job-pool";
import { JobWatcher } from "./job-rate";
import { openLoop } from "./open-loop";
import { startProfile } from "./profile";
import {
  type CpuFigures,
  cpuPerRequest,
  errorTotal,
  type LoadReport,
  phaseFigures,
  printReport,
  writeReport,
} from "./report";

/** Raised for this run only: the default would (rightly) queue the extra jobs. */
const LOAD_VARS = { MAX_RUNNING_JOBS: "20" };
/** The per-key request limit the worker enforces (wrangler.toml). */
const KEY_LIMIT_PER_MINUTE = 600;
const WARM_UP_DEADLINE_MS = 120_000;
const BASELINE_MS = 10_000;
const REQUEST_TIMEOUT_MS = 10_000;
/** The watcher's samples bound the rate windows: they wait longer than a poll would. */
const WATCH_TIMEOUT_MS = 60_000;
const ENDED = new Set(["completed", "canceled", "error"]);

const log = stopwatchLog("load");

async function main(): Promise<number> {
  installExitHandlers();
  const args = readArgs(process.argv.slice(2));
  const durationMs = intArg(args, "duration", 60) * 1000;
  const quietMs = intArg(args, "quiet", 30) * 1000;
  const jobs = intArg(args, "jobs", 10);
  const rate = intArg(args, "rate", 200);
  const connections = intArg(args, "connections", 32);
  const maxInFlight = intArg(args, "max-in-flight", 1000);
  const seed = intArg(args, "seed", Math.floor(Math.random() * 1_000_000));
  // Enough keys that none goes over its per-minute limit, with room to spare.
  const keys = intArg(args, "keys", 0) || Math.ceil((rate * 60 * 1.5) / KEY_LIMIT_PER_MINUTE) + 1;
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
  const { api } = stack;
  const pollKeys = [api.key];
  while (pollKeys.length < keys) pollKeys.push(await createApiKey(api.baseUrl, "load"));
  log(`${pollKeys.length} API keys, ${connections} keep-alive connections`);
  const client = new PooledClient(api.baseUrl, connections);
  const auth = (i: number) => ({ authorization: `Bearer ${pollKeys[i % pollKeys.length]}` });

  const cpu = () => workerdCpuSeconds(stack.wrangler.pid);
  const cpuUsed = async <T>(during: () => Promise<T>) => {
    const before = cpu();
    const result = await during();
    const after = cpu();
    const used = before === null || after === null ? null : after.all - before.all;
    const runtime = before === null || after === null ? null : after.runtime - before.runtime;
    return { result, cpuSeconds: used, runtimeSeconds: runtime };
  };
  let calibration = null;
  let healthCpu: number | null = null;
  let healthRuntimeCpu: number | null = null;
  if (!args.has("no-baseline")) {
    log(`baseline: GET /health at ${rate}/s for ${BASELINE_MS / 1000} s`);
    const health = await cpuUsed(() =>
      openLoop({
        ratePerSecond: rate,
        durationMs: BASELINE_MS,
        maxInFlight,
        expected: [200],
        send: () => ({
          request: client.call("GET", "/health", { timeoutMs: REQUEST_TIMEOUT_MS }),
          describe: "GET /health",
        }),
      }),
    );
    calibration = phaseFigures(health.result);
    healthCpu = health.cpuSeconds;
    healthRuntimeCpu = health.runtimeSeconds;
  }

  // Warm-up: the first jobs are created before any clock starts.
  const pool = new JobPool(api, jobs, seededRandom(seed));
  const watchClient = new PooledClient(api.baseUrl, 1);
  const watcher = new JobWatcher(
    () =>
      watchClient.call("GET", "/email-validations?include=details&page[size]=1000", {
        headers: auth(0),
        timeoutMs: WATCH_TIMEOUT_MS,
      }),
    pool,
  );
  pool.fill();
  await waitFor(new Deadline(WARM_UP_DEADLINE_MS, `${jobs} jobs created`), 100, async () =>
    pool.runningCount >= jobs ? true : undefined,
  );
  watcher.start();
  const running: number[] = [];
  const sampler = setInterval(() => running.push(pool.runningCount), 250);
  const progress = setInterval(
    () => log(`running ${pool.runningCount}, ended ${pool.ended.length}, created ${pool.creates.ok}`),
    10_000,
  );

  log(`${jobs} jobs running; jobs alone for ${quietMs / 1000} s`);
  const quietBefore = await cpuUsed(() => watcher.window(() => sleep(quietMs)));

  log(`jobs + ${rate} polls/s for ${durationMs / 1000} s`);
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const profile = args.has("profile") ? await startProfile(stack.wrangler.inspectorPort) : null;
  let k = 0;
  const windowStart = performance.now();
  const loaded = await cpuUsed(() =>
    watcher.window(() =>
      openLoop({
        ratePerSecond: rate,
        durationMs,
        maxInFlight,
        expected: [200],
        send: () => pollNext(client, pool, pollQuery, auth(k++)),
      }),
    ),
  );
  const windowEnd = performance.now();
  loopDelay.disable();
  if (profile) {
    const file = args.get("profile") as string;
    await writeFile(file, JSON.stringify(await profile.stop()));
    log(`CPU profile of the loaded window written to ${file}`);
  }

  log(`jobs alone again for ${quietMs / 1000} s`);
  const quietAfter = await cpuUsed(() => watcher.window(() => sleep(quietMs)));
  clearInterval(sampler);
  clearInterval(progress);
  await watcher.stop();
  await pool.close();

  const inWindow = pool.ended.filter((j) => (j.endedAt ?? 0) >= windowStart && (j.endedAt ?? 0) <= windowEnd);
  await stack.wrangler.stop();
  await client.close();
  await watchClient.close();
  const quietAddresses = quietBefore.result.rate.addresses + quietAfter.result.rate.addresses;
  const quietSeconds = quietBefore.result.rate.seconds + quietAfter.result.rate.seconds;
  // Polls that timed out were worked on too: the CPU is shared over every poll sent.
  const pollsSent = loaded.result.result.stats.sent;
  const cpuFigures: CpuFigures = cpuPerRequest({
    healthCpu,
    healthRequests: calibration?.ok ?? 0,
    quietCpu: sumOrNull(quietBefore.cpuSeconds, quietAfter.cpuSeconds),
    quietAddresses,
    quietSeconds,
    loadedCpu: loaded.cpuSeconds,
    loadedAddresses: loaded.result.rate.addresses,
    loadedSeconds: loaded.result.rate.seconds,
    pollsSent,
  });
  const runtimeCores = (seconds: number | null, window: number) =>
    seconds === null ? null : seconds / window;
  cpuFigures.runtime = {
    perHealthMs:
      healthRuntimeCpu !== null && calibration?.ok ? (healthRuntimeCpu / calibration.ok) * 1000 : null,
    quietCores: runtimeCores(sumOrNull(quietBefore.runtimeSeconds, quietAfter.runtimeSeconds), quietSeconds),
    loadedCores: runtimeCores(loaded.runtimeSeconds, loaded.result.rate.seconds),
  };
  const report: LoadReport = {
    seed,
    commit: `${stack.snapshot.commit}+${stack.snapshot.uncommitted}`,
    workDir: stack.workDir,
    raisedVars: LOAD_VARS,
    target: { jobs, pollsPerSecond: rate, durationMs, quietMs, maxInFlight, connections, keys, pollQuery },
    loadAverage: { before: loadBefore, after: loadavg()[0] ?? 0, cpus: cpus().length },
    calibration,
    polls: phaseFigures(loaded.result.result),
    cpu: cpuFigures,
    creates: pool.creates.summary(),
    jobs: {
      created: pool.creates.ok,
      completedInWindow: inWindow.filter((j) => j.status === "completed").length,
      endedNotCompleted: pool.ended
        .filter((j) => j.status !== "completed")
        .map(({ id, status }) => ({ id, status })),
      runningMin: running.length ? Math.min(...running) : null,
      runningMean: running.length ? running.reduce((a, b) => a + b, 0) / running.length : null,
      quietBefore: quietBefore.result.rate,
      loaded: loaded.result.rate,
      quietAfter: quietAfter.result.rate,
      unloadedPerSecond: quietAddresses / quietSeconds,
    },
    eventLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    logs: await Promise.all(stack.wrangler.logFiles.map(scanLog)),
  };
  const file = await writeReport(report);
  printReport(report);
  log(`results written to ${file}`);
  const failed = errorTotal(report) > 0 || report.jobs.loaded.addresses === 0;
  if (!failed && !args.has("keep")) await discardState(stack);
  // Errors and stalled jobs fail the run; a missed latency or rate goal is a finding, printed above.
  return failed ? 1 : 0;
}

function sumOrNull(a: number | null, b: number | null): number | null {
  return a === null || b === null ? null : a + b;
}

/** One poll of the next running job; an answer showing the job ended makes the pool replace it. */
function pollNext(client: PooledClient, pool: JobPool, query: string, headers: Record<string, string>) {
  const id = pool.nextToPoll();
  if (!id) return null;
  const path = `/email-validations/${id}${query ? `?${query}` : ""}`;
  const request = client
    .call<JobView>("GET", path, { headers, timeoutMs: REQUEST_TIMEOUT_MS })
    .then((res) => {
      if (res.status === 200 && ENDED.has(res.body?.status)) pool.seenEnded(id, res.body.status);
      return res;
    });
  return { request, describe: `GET ${path}` };
}

runScript(main);
