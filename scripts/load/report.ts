// The end of a load run: a table on stdout, and the same figures as JSON in
// the run's work directory (never in the repository).

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { formatScan, type LogScan } from "../lib/wrangler-logs";
import type { OpenLoopResult } from "./open-loop";
import { type KindSummary, table } from "./stats";

export interface LoadReport {
  seed: number;
  commit: string;
  workDir: string;
  raisedVars: Record<string, string>;
  target: {
    jobs: number;
    pollsPerSecond: number;
    durationMs: number;
    maxInFlight: number;
    pollQuery: string;
  };
  /** 1-minute load average of the machine before and after (other work shares the cores). */
  loadAverage: { before: number; after: number; cpus: number };
  calibration: PhaseFigures | null;
  polls: PhaseFigures;
  creates: KindSummary;
  jobs: {
    created: number;
    completedInWindow: number;
    addressesInCompletedJobs: number;
    addressesDoneInWindow: number;
    stillRunning: number;
    endedNotCompleted: { id: string; status: string }[];
    createToCompletedP50Ms: number | null;
    createToCompletedP99Ms: number | null;
    runningMin: number | null;
    runningMean: number | null;
  };
  eventLoopDelayP99Ms: number;
  logs: LogScan[];
}

export interface PhaseFigures extends KindSummary {
  dropped: number;
  idle: number;
  maxInFlight: number;
  sentPerSecond: number;
  lagP99Ms: number | null;
  lagMaxMs: number | null;
}

export function phaseFigures(r: OpenLoopResult): PhaseFigures {
  return {
    ...r.stats.summary(),
    dropped: r.dropped,
    idle: r.idle,
    maxInFlight: r.maxInFlight,
    sentPerSecond: r.sentPerSecond,
    lagP99Ms: r.lagP99Ms,
    lagMaxMs: r.lagMaxMs,
  };
}

const fmt = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? "—" : `${ms.toFixed(0)} ms`;

/** Errors that count against the goal of 0: bad answers, dropped polls, jobs that did not complete. */
export function errorTotal(r: LoadReport): number {
  return r.polls.errors + r.polls.dropped + r.creates.errors + r.jobs.endedNotCompleted.length;
}

/** Jobs are meant to finish and be replaced; a window in which none finished means they were starved. */
export function jobsStarved(r: LoadReport): boolean {
  return r.jobs.completedInWindow === 0;
}

export function printReport(r: LoadReport): void {
  const line = "─".repeat(86);
  const t = r.target;
  console.log(`\n${line}\nload summary (seed ${r.seed}, mailvet ${r.commit})\n${line}`);
  console.log(
    `${t.jobs} jobs kept running + ${t.pollsPerSecond} polls/s open-loop (GET /email-validations/{id}${t.pollQuery ? `?${t.pollQuery}` : ""}) for ${t.durationMs / 1000} s against wrangler dev`,
  );
  console.log(
    `vars raised for this run: ${Object.entries(r.raisedVars)
      .map(([k, v]) => `${k}=${v}`)
      .join(", ")} (defaults 600 and 5 would refuse this load)`,
  );
  console.log(
    `machine: ${r.loadAverage.cpus} cores, load average ${r.loadAverage.before.toFixed(1)} before, ${r.loadAverage.after.toFixed(1)} after`,
  );
  const rows = [
    { name: "polls    GET /email-validations/{id}", summary: r.polls, dropped: r.polls.dropped },
    { name: "creates  POST /email-validations", summary: r.creates, dropped: null },
  ];
  if (r.calibration)
    rows.unshift({
      name: "baseline GET /health (no jobs)",
      summary: r.calibration,
      dropped: r.calibration.dropped,
    });
  console.log(`\n${table(rows)}\n`);
  console.log(
    `polls: ${r.polls.sentPerSecond.toFixed(1)}/s sent, ${r.polls.dropped} dropped (over ${t.maxInFlight} unanswered), ${r.polls.idle} slots with no job; most unanswered at once ${r.polls.maxInFlight}; send lag p99 ${fmt(r.polls.lagP99Ms)}, max ${fmt(r.polls.lagMaxMs)}; client event-loop delay p99 ${fmt(r.eventLoopDelayP99Ms)}`,
  );
  const j = r.jobs;
  console.log(
    `jobs: ${j.completedInWindow} completed in the window (${j.addressesInCompletedJobs} addresses), ${j.created} created in all, ${j.stillRunning} still running at the end; ${j.addressesDoneInWindow} addresses verified in the window (${(j.addressesDoneInWindow / (t.durationMs / 1000)).toFixed(0)}/s); running min ${j.runningMin}, mean ${j.runningMean?.toFixed(1)}; create→completed p50 ${fmt(j.createToCompletedP50Ms)}, p99 ${fmt(j.createToCompletedP99Ms)}`,
  );
  for (const [name, s] of [
    ["baseline", r.calibration],
    ["polls", r.polls],
    ["creates", r.creates],
  ] as const) {
    if (!s?.errors) continue;
    console.log(`${name} errors by status ("0" = no answer): ${JSON.stringify(s.errorsByStatus)}`);
    for (const e of s.errorSamples) console.log(`  ${e.slice(0, 300)}`);
  }
  if (j.endedNotCompleted.length)
    console.log(`jobs that ended other than completed: ${JSON.stringify(j.endedNotCompleted)}`);
  console.log("wrangler logs:");
  for (const scan of r.logs) console.log(`  ${formatScan(scan)}`);
  if (jobsStarved(r))
    console.log(
      `WARNING: no job completed in the ${t.durationMs / 1000} s window: the jobs verified ${j.addressesDoneInWindow} addresses in all while the polls ran`,
    );
  const errors = errorTotal(r);
  const verdict = errors ? `LOAD: ${errors} errors/drops (goal 0)` : "LOAD: 0 errors";
  console.log(`${verdict}${jobsStarved(r) ? ", no job completed" : ""} — results in ${r.workDir}\n${line}`);
}

export async function writeReport(r: LoadReport): Promise<string> {
  const file = join(r.workDir, "load-results.json");
  await writeFile(file, `${JSON.stringify(r, null, 2)}\n`);
  return file;
}
