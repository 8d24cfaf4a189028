// The end of a chaos run: a readable summary on stdout and the same facts as
// JSON in the run's work directory (never in the repository).

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Incident } from "../lib/incidents";
import type { Counts, ResultLine } from "../lib/mailvet-api";
import { seconds } from "../lib/time";
import { formatScan, type LogScan } from "../lib/wrangler-logs";
import { type Check, formatCounts } from "./checks";
import type { CrashRecord } from "./crash";

export interface ChaosSummary {
  seed: number;
  commit: string;
  workDir: string;
  vars: Record<string, string>;
  /** 1-minute load average before and after: other work shares the cores and stretches every timing. */
  loadAverage: { before: number; after: number; cpus: number };
  timings: Record<string, number | null>;
  jobs: {
    main?: { id: string; total: number; counts?: Counts; status?: string; byReason?: Record<string, number> };
    canceled?: { id: string; total: number; countsAtCancel?: Counts; countsAfter?: Counts; status?: string };
  };
  crashes: CrashRecord[];
  webhooks: Record<string, number>;
  checks: Check[];
  incidents: Incident[];
  logs: LogScan[];
  error?: string;
}

/** Rows per "result/reason", to see at a glance what each fixture domain became. */
export function resultsByReason(lines: readonly ResultLine[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of lines) {
    const key = `${l.result}/${l.reason ?? "?"}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

export function printSummary(s: ChaosSummary): void {
  const line = "─".repeat(78);
  console.log(`\n${line}\nchaos summary (seed ${s.seed}, mailvet ${s.commit})\n${line}`);
  const la = s.loadAverage;
  console.log(
    `machine: ${la.cpus} cores, load average ${la.before.toFixed(1)} before, ${la.after.toFixed(1)} after`,
  );
  console.log("timings:");
  for (const [k, v] of Object.entries(s.timings))
    console.log(`  ${k.padEnd(34)} ${v === null ? "—" : seconds(v)}`);
  console.log("crashes (kill -9 of wrangler + workerd, restart on the same --persist-to):");
  for (const c of s.crashes) {
    const other = c.otherBefore ? `; job 2 ${c.otherBefore.status} ${c.otherBefore.processed}` : "";
    console.log(
      `  #${c.n} at ${seconds(c.at)}: target ≥${c.targetProcessed} + ${c.jitterMs} ms; last poll main ${c.mainBefore.status} ${c.mainBefore.processed}${other}; killed ${c.killed.length} processes; down ${seconds(c.downMs)} (startup ${seconds(c.startupMs)})`,
    );
  }
  const { main, canceled } = s.jobs;
  if (main) console.log(`main job ${main.id}: ${main.status ?? "?"}, ${formatCounts(main.counts)}`);
  if (main?.byReason) {
    const parts = Object.entries(main.byReason).sort((a, b) => b[1] - a[1]);
    console.log(`  by result/reason: ${parts.map(([k, n]) => `${k} ${n}`).join(", ")}`);
  }
  if (canceled) {
    console.log(`canceled job ${canceled.id}: ${canceled.status ?? "?"}`);
    console.log(`  at cancel   ${formatCounts(canceled.countsAtCancel)}`);
    console.log(`  at the end  ${formatCounts(canceled.countsAfter)}`);
  }
  if (Object.keys(s.webhooks).length)
    console.log(
      `webhook requests received: ${Object.entries(s.webhooks)
        .map(([k, n]) => `${k} ${n}`)
        .join(", ")}`,
    );
  if (s.incidents.length) {
    console.log(`unexpected answers (${s.incidents.length}):`);
    for (const i of s.incidents)
      console.log(`  +${seconds(i.t)} ${i.what}: ${i.request} → ${i.status} ${i.body}`);
  }
  console.log("wrangler logs:");
  for (const scan of s.logs) console.log(`  ${formatScan(scan)}`);
  const failed = s.checks.filter((c) => !c.ok);
  console.log(`checks: ${s.checks.length - failed.length}/${s.checks.length} passed`);
  for (const c of failed) console.log(`  FAIL ${c.name} — ${c.detail}`);
  if (s.error) console.log(`run stopped: ${s.error}`);
  console.log(
    `${failed.length || s.error ? "CHAOS FAILED" : "CHAOS PASSED"} — details in ${s.workDir}\n${line}`,
  );
}

export async function writeSummary(s: ChaosSummary): Promise<string> {
  const file = join(s.workDir, "chaos-summary.json");
  await writeFile(file, `${JSON.stringify(s, null, 2)}\n`);
  return file;
}
