// Peak memory of the largest create request allowed: a JSON body of about
// 16 MiB (100,000 entries with an extra field each) sent with an
// Idempotency-Key, so the request fingerprint is computed too, under
// `wrangler dev` with SMTP off.
//
//   npx tsx scripts/measure/create-memory.ts [-- --runs 3]
//
// Memory is how far the workerd runtime process rises above its level just
// before the request, at its peak while the request runs
// (bench/mailvet/memory.ts).
// Figures are medians over the runs.

import { sampleWorkerdMemory } from "../../bench/mailvet/memory";
import { intArg, readArgs } from "../lib/args";
import { installExitHandlers, runScript } from "../lib/processes";
import { discardState, startStack } from "../lib/stack";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const ENTRIES = 100_000;
const BODY_LIMIT = 16 * 1024 * 1024;

/** The largest body the API takes: 100,000 entries padded until just under 16 MiB. */
function largestBody(run: number): string {
  const skeleton = JSON.stringify({
    emails: Array.from({ length: ENTRIES }, (_, i) => ({
      email: `u${run}x${i}@d${i % 997}.normal.test`,
      note: "",
    })),
  });
  const pad = Math.floor((BODY_LIMIT - 4096 - skeleton.length) / ENTRIES);
  const note = "n".repeat(Math.max(0, pad));
  return JSON.stringify({
    emails: Array.from({ length: ENTRIES }, (_, i) => ({
      email: `u${run}x${i}@d${i % 997}.normal.test`,
      note,
    })),
  });
}

async function main() {
  installExitHandlers();
  const args = readArgs(process.argv.slice(2));
  const runs = intArg(args, "runs", 3);
  const log = (line: string) => console.error(`[create-memory] ${line}`);
  const stack = await startStack({
    name: "create-memory",
    account: "bench-create",
    vars: { RATE_LIMIT_PER_MINUTE: "100000", MAX_RUNNING_JOBS: "50", SMTP_MODE: "off" },
    log,
  });
  const { api } = stack;
  const memory = sampleWorkerdMemory(stack.firstStart.pid);
  const headers = { authorization: `Bearer ${api.key}`, "content-type": "application/json" };
  const peaks: number[] = [];
  const anon: number[] = [];
  for (let run = 0; run < runs; run++) {
    const body = largestBody(run);
    // The runtime holds earlier jobs' objects: the request is measured against the level just before it.
    memory.mark();
    await new Promise((r) => setTimeout(r, 2000));
    const before = memory.phase();
    memory.mark();
    const res = await fetch(`${api.baseUrl}/email-validations`, {
      method: "POST",
      headers: { ...headers, "idempotency-key": `create-memory-${Date.now()}-${run}` },
      body,
    });
    const job = (await res.json()) as { id?: string };
    const peak = memory.phase();
    if (res.status !== 202 || !job.id) throw new Error(`create: ${res.status} ${JSON.stringify(job)}`);
    peaks.push(peak.runtimeRssMb - before.runtimeRssMb);
    anon.push(peak.runtimeAnonMb - before.runtimeAnonMb);
    log(
      `run ${run + 1}: ${(body.length / 1048576).toFixed(2)} MiB, runtime ${before.runtimeRssMb.toFixed(0)} → ${peak.runtimeRssMb.toFixed(0)} MB RSS`,
    );
    await api.cancelJob(job.id);
  }
  memory.stop();
  console.log(
    JSON.stringify({
      entries: ENTRIES,
      runs,
      rise_runtime_rss_mb_median: Math.round(median(peaks)),
      rise_runtime_anon_mb_median: Math.round(median(anon)),
      runs_rise_rss_mb: peaks.map(Math.round),
    }),
  );
  await discardState(stack);
}

runScript(main);
