// How many webhook deliveries one job object sustains against a local
// receiver, and how long after a job completes the first delivery arrives.
//
//   npm run bench:webhooks [-- --endpoints 200 --runs 3]
//
// It registers N endpoints (all on the local receiver, one path each so the
// receiver counts them apart), runs a one-address job per run, and reads the
// receiver's arrival times. Figures are medians over the runs.

import { intArg, readArgs } from "../lib/args";
import { http } from "../lib/http";
import { installExitHandlers, runScript } from "../lib/processes";
import { discardState, startStack } from "../lib/stack";

interface Received {
  time: number;
  headers: Record<string, string>;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function main() {
  installExitHandlers();
  const args = readArgs(process.argv.slice(2));
  const endpoints = intArg(args, "endpoints", 200);
  const runs = intArg(args, "runs", 3);
  const log = (line: string) => console.error(`[webhooks] ${line}`);
  const stack = await startStack({
    name: "webhooks",
    account: "bench-webhooks",
    vars: { RATE_LIMIT_PER_MINUTE: "100000", WEBHOOK_ALLOW_LOOPBACK: "true" },
    log,
  });
  const { api, world } = stack;
  const auth = { authorization: `Bearer ${api.key}` };

  const rates: number[] = [];
  const firstLatencies: number[] = [];
  const spans: number[] = [];
  const jobTimes: number[] = [];
  const baselineJobTimes: number[] = [];

  // Job time with no endpoint registered, to see what webhooks add to the job itself.
  for (let run = 0; run < runs; run++) baselineJobTimes.push(await timedJob(api, ["alice@normal.test"]));

  for (let run = 0; run < runs; run++) {
    const tag = `run${run}-${Date.now().toString(36)}`;
    const ids: string[] = [];
    for (let i = 0; i < endpoints; i++) {
      const res = await http<{ id: string }>("POST", `${api.baseUrl}/webhook-endpoints`, {
        headers: auth,
        json: { url: `${world.receiverUrl}/ok/${tag}/${i}`, events: ["email_validation.completed"] },
      });
      if (res.status !== 201) throw new Error(`registering endpoint ${i}: ${res.status} ${res.text}`);
      ids.push(res.body.id);
    }
    const started = Date.now();
    const job = await api.createJob(["alice@normal.test"]);
    const id = job.body.id;
    let finishedAt = 0;
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
      const { body } = await api.getJob(id);
      if (body.status === "completed") {
        finishedAt = Date.parse(body.finished_at ?? "");
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!finishedAt) throw new Error(`job ${id} did not complete`);
    jobTimes.push(finishedAt - started);

    const arrivals: number[] = [];
    for (const deadline = Date.now() + 120_000; arrivals.length < endpoints && Date.now() < deadline; ) {
      arrivals.length = 0;
      for (let i = 0; i < endpoints; i++) {
        const res = await http<Received[]>(
          "GET",
          `${world.receiverUrl}/_requests?path=${encodeURIComponent(`/ok/${tag}/${i}`)}`,
        );
        const first = res.body[0];
        if (first) arrivals.push(first.time);
      }
      if (arrivals.length < endpoints) await new Promise((r) => setTimeout(r, 250));
    }
    if (arrivals.length < endpoints)
      throw new Error(`only ${arrivals.length} of ${endpoints} deliveries arrived`);
    arrivals.sort((a, b) => a - b);
    const span = (arrivals.at(-1)! - arrivals[0]!) / 1000;
    spans.push(span);
    rates.push(span > 0 ? (endpoints - 1) / span : Number.POSITIVE_INFINITY);
    firstLatencies.push(arrivals[0]! - finishedAt);
    log(
      `run ${run + 1}: ${endpoints} deliveries in ${span.toFixed(2)} s, first ${arrivals[0]! - finishedAt} ms after completion`,
    );
    for (const e of ids) await http("DELETE", `${api.baseUrl}/webhook-endpoints/${e}`, { headers: auth });
  }

  const summary = {
    endpoints,
    runs,
    deliveries_per_second_median: Number(median(rates).toFixed(1)),
    first_delivery_after_completion_ms_median: median(firstLatencies),
    all_delivered_within_s_median: Number(median(spans).toFixed(2)),
    job_time_ms_median_with_endpoints: median(jobTimes),
    job_time_ms_median_without_endpoints: median(baselineJobTimes),
  };
  console.log(JSON.stringify(summary, null, 2));
  await discardState(stack);
}

async function timedJob(
  api: Awaited<ReturnType<typeof startStack>>["api"],
  emails: string[],
): Promise<number> {
  const started = Date.now();
  const job = await api.createJob(emails);
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
    const { body } = await api.getJob(job.body.id);
    if (body.status === "completed") return Date.parse(body.finished_at ?? "") - started;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("baseline job did not complete");
}

runScript(main);
