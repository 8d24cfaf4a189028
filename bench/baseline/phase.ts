// The baseline side of one list size: run deep-email-validator on the same
// world (reset first, so it meets greylisting and rate limits afresh) and
// score it.

import { percentile } from "../../scripts/lib/time";
import type { BenchOptions } from "../cli";
import { score } from "../report/accuracy";
import type { BaselineFigures } from "../report/types";
import { summarizeWire } from "../report/world-stats";
import type { RunningWorld } from "../world/start";
import { runBaseline } from "./run";

export async function measureBaseline(
  running: RunningWorld,
  opts: BenchOptions,
  ctx: { tmpDir: string; node: string; tsxCli: string; log: (line: string) => void; lowerBoundMs: number },
): Promise<BaselineFigures> {
  running.reset();
  ctx.log(`baseline: ${running.world.list.length} addresses, ${opts.baseline.concurrency} at a time`);
  const run = await runBaseline({
    list: running.world.list,
    dnsPort: running.dns.udpPort,
    dir: ctx.tmpDir,
    concurrency: opts.baseline.concurrency,
    capMs: opts.baseline.capMs,
    tsxCli: ctx.tsxCli,
    node: ctx.node,
    log: ctx.log,
  });
  const wire = summarizeWire(running.smtp.stats(), running.world);
  const accuracy = score(running.world.truth, run.results);
  const details: Record<string, number> = {};
  for (const { raw } of run.results.values()) {
    const key = raw.valid
      ? "valid"
      : `${raw.reason}: ${(raw.detail ?? "").replace(/\d+\.\d+\.\d+\.\d+:\d+/, "<ip>:<port>").slice(0, 70)}`;
    details[key] = (details[key] ?? 0) + 1;
  }
  ctx.log(`baseline: ${run.finished ? "finished" : "did not finish"} in ${(run.ms / 1000).toFixed(1)} s`);
  return {
    finished: run.finished,
    ms: run.ms,
    ratioToLowerBound: run.ms / ctx.lowerBoundMs,
    answered: run.answered,
    total: run.total,
    accuracy,
    answeredAccuracy: run.answered ? accuracy.correct / run.answered : 0,
    callP50Ms: percentile(run.callMs, 50),
    callP95Ms: percentile(run.callMs, 95),
    wire,
    details,
  };
}
