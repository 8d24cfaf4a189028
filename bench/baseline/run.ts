// Runs the baseline worker on a list, under a time cap, and reads its answers.

import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { spawnOwned } from "../../scripts/lib/processes";
import type { ResultClass } from "../world/truth";
import { type BaselineLine, baselineClass } from "./mapping";

export interface BaselineRun {
  finished: boolean;
  /** Wall time until the last answer, or until the cap when it did not finish. */
  ms: number;
  answered: number;
  total: number;
  /** email → mapped class (answered addresses only). */
  results: Map<string, { result: ResultClass; catch_all: boolean; raw: BaselineLine }>;
  /** Per-address latency p50 and p95 in ms. */
  callMs: number[];
}

export async function runBaseline(opts: {
  list: string[];
  dnsPort: number;
  dir: string;
  concurrency: number;
  capMs: number;
  tsxCli: string;
  node: string;
  log: (line: string) => void;
}): Promise<BaselineRun> {
  const listFile = join(opts.dir, "baseline-list.txt");
  const outFile = join(opts.dir, "baseline-answers.ndjson");
  await writeFile(listFile, `${opts.list.join("\n")}\n`);
  await writeFile(outFile, "");
  const worker = new URL("./worker.ts", import.meta.url).pathname;
  const started = performance.now();
  const { child, stop } = spawnOwned(
    "baseline",
    opts.node,
    [
      opts.tsxCli,
      worker,
      "--list",
      listFile,
      "--dns",
      `127.0.0.1:${opts.dnsPort}`,
      "--out",
      outFile,
      "--concurrency",
      String(opts.concurrency),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    for (const line of chunk.split("\n").filter(Boolean)) opts.log(`baseline: ${line}`);
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const capped = new Promise<"cap">((resolve) => setTimeout(() => resolve("cap"), opts.capMs).unref());
  const outcome = await Promise.race([exit, capped]);
  const ms = performance.now() - started;
  await stop();
  if (outcome !== "cap" && outcome !== 0)
    throw new Error(`baseline worker exited with ${outcome}: ${stderr}`);

  const results = new Map<string, { result: ResultClass; catch_all: boolean; raw: BaselineLine }>();
  const callMs: number[] = [];
  for (const text of (await readFile(outFile, "utf8")).split("\n")) {
    if (!text) continue;
    let line: BaselineLine;
    try {
      line = JSON.parse(text) as BaselineLine;
    } catch {
      continue; // the last line of a run cut by the cap may be half-written
    }
    results.set(line.email, { result: baselineClass(line), catch_all: false, raw: line });
    callMs.push(line.ms);
  }
  return {
    finished: outcome !== "cap",
    ms,
    answered: results.size,
    total: opts.list.length,
    results,
    callMs,
  };
}
