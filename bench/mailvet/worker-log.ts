// Reads mailvet's own access log (one JSON line per request, with the time
// the Worker spent on it) out of the wrangler log, to split a request's
// latency into the Worker's share and what wrangler dev's local proxy and
// HTTP add. Also counts mailvet's error lines, and the lines its platform
// guard writes (PLATFORM_LIMITS=enforce) when a limit of production is crossed.

import { readFile } from "node:fs/promises";
import { median } from "../../scripts/lib/time";

export interface WorkerSide {
  createMs: number | null;
  pagesP50Ms: Record<string, number | null>;
  cancelP50Ms: number | null;
}

interface AccessLine {
  method: string;
  path: string;
  status: number;
  ms: number;
}

/** The guard's JSON line when a production limit (subrequests, connections, CPU, …) is crossed. */
const PLATFORM_LIMIT = /platform limit exceeded/i;
const PLATFORM_EXAMPLES = 5;

const LOG_PATTERNS: Record<string, RegExp> = {
  "batch failed": /"msg":"batch failed"/,
  "probe failed": /"msg":"probe failed"/,
  "unhandled error": /"msg":"unhandled error"/,
  "mirror failed": /"msg":"mirror failed"/,
  "uncaught exception": /Uncaught|uncaught exception/i,
  "status 5xx": /"status":5\d\d/,
  // wrangler restarted workerd (a watched file changed): in-flight work was dropped.
  "wrangler reload": /Reloading local server/,
};

export async function readWorkerLog(
  logFile: string,
  jobId: string | null,
  pageNames: string[],
  pageRuns: number,
): Promise<{
  workerSide: WorkerSide;
  errors: { counts: Record<string, number>; examples: string[] };
  platformLimits: { count: number; examples: string[] };
}> {
  let text = "";
  try {
    text = await readFile(logFile, "utf8");
  } catch {
    // no log: every figure stays empty
  }
  const counts: Record<string, number> = Object.fromEntries(Object.keys(LOG_PATTERNS).map((k) => [k, 0]));
  const examples: string[] = [];
  const requests: AccessLine[] = [];
  const platformLimits = { count: 0, examples: [] as string[] };
  for (const line of text.split("\n")) {
    if (PLATFORM_LIMIT.test(line)) {
      platformLimits.count++;
      if (platformLimits.examples.length < PLATFORM_EXAMPLES) platformLimits.examples.push(line.trim());
    }
    for (const [name, pattern] of Object.entries(LOG_PATTERNS)) {
      if (!pattern.test(line)) continue;
      counts[name] = (counts[name] ?? 0) + 1;
      if (examples.length < 5) examples.push(line.trim());
    }
    if (!line.startsWith('{"msg":"request"')) continue;
    try {
      requests.push(JSON.parse(line) as AccessLine);
    } catch {
      // a line cut by another process' output
    }
  }

  const create = requests.find((r) => r.method === "POST" && r.path === "/email-validations");
  // The page requests are the job's GETs after its download (see mailvet/phase.ts for the order).
  const pagesP50Ms: Record<string, number | null> = {};
  if (jobId) {
    const jobPath = `/email-validations/${jobId}`;
    const download = requests.findIndex((r) => r.path === `${jobPath}/download`);
    const pageLines =
      download < 0
        ? []
        : requests.slice(download + 1).filter((r) => r.method === "GET" && r.path === jobPath);
    pageNames.forEach((name, i) => {
      pagesP50Ms[name] = median(pageLines.slice(i * pageRuns, (i + 1) * pageRuns).map((r) => r.ms));
    });
  }
  const cancels = requests.filter((r) => r.method === "PATCH" && r.status === 200).map((r) => r.ms);
  return {
    workerSide: { createMs: create?.ms ?? null, pagesP50Ms, cancelP50Ms: median(cancels) },
    errors: { counts, examples },
    platformLimits,
  };
}
