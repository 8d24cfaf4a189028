// The end of a load run: a table on stdout, and the same figures as JSON in
// the run's work directory (never in the repository).

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { formatScan, type LogScan } from "../lib/wrangler-logs";
import type { RateWindow } from "./job-rate";
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
    quietMs: number;
    maxInFlight: number;
    connections: number;
    keys: number;
    pollQuery: string;
  };
  /** 1-minute load average of the machine before and after (other work shares the cores). */
  loadAverage: { before: number; after: number; cpus: number };
  calibration: PhaseFigures | null;
  polls: PhaseFigures;
  cpu: CpuFigures;
  creates: KindSummary;
  jobs: {
    created: number;
    completedInWindow: number;
    endedNotCompleted: { id: string; status: string }[];
    runningMin: number | null;
    runningMean: number | null;
    /** Addresses verified by all jobs: alone before the polls, under them, alone after. */
    quietBefore: RateWindow;
    loaded: RateWindow;
    quietAfter: RateWindow;
    /** Both quiet windows together. */
    unloadedPerSecond: number;
  };
  eventLoopDelayP99Ms: number;
  logs: LogScan[];
}

/**
 * workerd's CPU time (all its processes, user + system) per unit of work:
 * what mailvet burns, nearly independent of what else the machine runs.
 */
export interface CpuFigures {
  /** ms per GET /health in the baseline: wrangler dev's own floor. */
  perHealthMs: number | null;
  /** ms per address verified, jobs alone. */
  perAddressMs: number | null;
  /** Cores' worth busy: jobs alone, and under polls. */
  quietCores: number | null;
  loadedCores: number | null;
  /** ms per poll sent: the loaded window's CPU less what its addresses cost at the quiet rate. */
  perPollMs: number | null;
  /** The runtime process alone (worker, objects and local D1 share its one thread). */
  runtime?: { perHealthMs: number | null; quietCores: number | null; loadedCores: number | null };
}

export function cpuPerRequest(m: {
  healthCpu: number | null;
  healthRequests: number;
  quietCpu: number | null;
  quietAddresses: number;
  quietSeconds: number;
  loadedCpu: number | null;
  loadedAddresses: number;
  loadedSeconds: number;
  pollsSent: number;
}): CpuFigures {
  const perAddress = m.quietCpu !== null && m.quietAddresses > 0 ? m.quietCpu / m.quietAddresses : null;
  return {
    perHealthMs: m.healthCpu !== null && m.healthRequests ? (m.healthCpu / m.healthRequests) * 1000 : null,
    perAddressMs: perAddress === null ? null : perAddress * 1000,
    quietCores: m.quietCpu === null ? null : m.quietCpu / m.quietSeconds,
    loadedCores: m.loadedCpu === null ? null : m.loadedCpu / m.loadedSeconds,
    perPollMs:
      m.loadedCpu !== null && perAddress !== null && m.pollsSent
        ? ((m.loadedCpu - perAddress * m.loadedAddresses) / m.pollsSent) * 1000
        : null,
  };
}

/** The issue's goals: poll p99 ≤ 150 ms, 0 errors, jobs keep ≥ 80 % of their unloaded rate. */
export const GOALS = { pollP99Ms: 150, errors: 0, keptRate: 0.8 };

export function keptRate(r: LoadReport): number {
  return r.jobs.unloadedPerSecond > 0 ? r.jobs.loaded.perSecond / r.jobs.unloadedPerSecond : 0;
}

export function goalsMet(r: LoadReport): { p99: boolean; errors: boolean; rate: boolean } {
  return {
    p99: (r.polls.p99Ms ?? Number.POSITIVE_INFINITY) <= GOALS.pollP99Ms,
    errors: errorTotal(r) === GOALS.errors,
    rate: keptRate(r) >= GOALS.keptRate,
  };
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

export function printReport(r: LoadReport): void {
  const line = "─".repeat(86);
  const t = r.target;
  console.log(`\n${line}\nload summary (seed ${r.seed}, mailvet ${r.commit})\n${line}`);
  console.log(
    `${t.jobs} jobs kept running; ${t.quietMs / 1000} s alone, ${t.durationMs / 1000} s under ${t.pollsPerSecond} polls/s open-loop (GET /email-validations/{id}${t.pollQuery ? `?${t.pollQuery}` : ""}), ${t.quietMs / 1000} s alone, against wrangler dev`,
  );
  console.log(
    `client: ${t.connections} keep-alive connections, ${t.keys} API keys; vars raised for this run: ${Object.entries(
      r.raisedVars,
    )
      .map(([k, v]) => `${k}=${v}`)
      .join(", ")}`,
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
  const rate = (w: RateWindow) => `${w.perSecond.toFixed(1)}/s (${w.addresses} in ${w.seconds.toFixed(0)} s)`;
  console.log(
    `jobs: alone before ${rate(j.quietBefore)}, under polls ${rate(j.loaded)}, alone after ${rate(j.quietAfter)}; kept ${(keptRate(r) * 100).toFixed(0)} % of the unloaded ${j.unloadedPerSecond.toFixed(1)}/s`,
  );
  console.log(
    `jobs: ${j.completedInWindow} completed under polls, ${j.created} created in all; running min ${j.runningMin}, mean ${j.runningMean?.toFixed(1)}`,
  );
  const c = r.cpu;
  const num = (v: number | null, digits: number) => (v === null ? "—" : v.toFixed(digits));
  console.log(
    `workerd CPU: ${num(c.perPollMs, 2)} ms per poll, ${num(c.perAddressMs, 2)} ms per address, ${num(c.perHealthMs, 2)} ms per /health; busy ${num(c.quietCores, 2)} cores with jobs alone, ${num(c.loadedCores, 2)} under polls`,
  );
  if (c.runtime)
    console.log(
      `runtime process alone: ${num(c.runtime.perHealthMs, 2)} ms per /health; busy ${num(c.runtime.quietCores, 2)} cores with jobs alone, ${num(c.runtime.loadedCores, 2)} under polls (its one thread is the limit at 1.00)`,
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
  const met = goalsMet(r);
  const mark = (ok: boolean) => (ok ? "met" : "MISSED");
  console.log(
    `GOALS: poll p99 ${fmt(r.polls.p99Ms)} ≤ ${GOALS.pollP99Ms} ms ${mark(met.p99)}; errors/drops ${errorTotal(r)} = 0 ${mark(met.errors)}; job rate kept ${(keptRate(r) * 100).toFixed(0)} % ≥ ${GOALS.keptRate * 100} % ${mark(met.rate)}`,
  );
  console.log(`results in ${r.workDir}\n${line}`);
}

export async function writeReport(r: LoadReport): Promise<string> {
  const file = join(r.workDir, "load-results.json");
  await writeFile(file, `${JSON.stringify(r, null, 2)}\n`);
  return file;
}
