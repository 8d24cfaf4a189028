// The shape of latest.json: everything the markdown table and the chart show,
// and the raw material behind them.

import type { CancelRun, Incident, PageTiming } from "../mailvet/measure";
import type { MemoryPeaks } from "../mailvet/memory";
import type { WorkerSide } from "../mailvet/worker-log";
import type { LowerBound } from "../world/lower-bound";
import type { WorldParams } from "../world/params";
import type { Accuracy } from "./accuracy";
import type { ActivityProfile } from "./activity";
import type { WireSummary } from "./world-stats";

export interface MailvetFigures {
  createMs: number;
  createStatus: number;
  finalStatus: string;
  endToEndMs: number | null;
  serverMs: number | null;
  ratioToLowerBound: number | null;
  /** When 50/90/99/100 % of the list had results (ms after create). */
  milestones: Record<string, number | null>;
  /** Results per second between 10 % and 90 % of the list. */
  steadyRatePerS: number | null;
  retryAfterSeconds: { min: number | null; max: number | null };
  downloadMs: number | null;
  downloadLines: number;
  accuracy: Accuracy | null;
  pages: PageTiming[];
  cancel: { p50Ms: number | null; runs: CancelRun[] };
  memory: { duringJob: MemoryPeaks; overall: MemoryPeaks };
  /** DNS queries mailvet sent to the world's DoH server during the job. */
  dohQueries: number;
  /** The job's wall time by what was on the wire. */
  activity: ActivityProfile;
  /** GET /health through wrangler dev: the floor of any request's latency. */
  healthP50Ms: number | null;
  /** [ms after create, processed] for every poll. */
  progress: [number, number][];
  /** How results land: jumps of the processed count between polls. */
  steps: { count: number; medianSize: number | null; medianGapMs: number | null; maxGapMs: number | null };
  wire: WireSummary;
  /** mailvet's reason codes, by count. */
  reasons: Record<string, number>;
  logErrors: { counts: Record<string, number>; examples: string[] };
  /** Lines of the platform guard (PLATFORM_LIMITS=enforce) in the wrangler log: production limits crossed. */
  platformLimits: { count: number; examples: string[] };
  jobId: string | null;
  /** The Worker's own time for the same requests, from its access log. */
  workerSide: WorkerSide | null;
  incidents: Incident[];
  vars: Record<string, string>;
  /** Relay mode (--probers N): RCPTs each prober sent; null in direct mode. */
  probers: { url: string; rcpts: number }[] | null;
}

export interface BaselineFigures {
  finished: boolean;
  ms: number;
  ratioToLowerBound: number;
  answered: number;
  total: number;
  accuracy: Accuracy;
  /** correct / answered, for a run cut short by the cap. */
  answeredAccuracy: number;
  callP50Ms: number | null;
  callP95Ms: number | null;
  wire: WireSummary;
  /** The tool's raw failure messages, by count. */
  details: Record<string, number>;
}

export interface SizeReport {
  size: number;
  world: {
    params: WorldParams;
    domains: number;
    servers: number;
    deadIps: number;
    behaviours: Record<string, number>;
    truthClasses: Record<string, number>;
    /** Servers that more than one domain names as MX (under any of its names). */
    sharedServers: { host: string; ip: string; behaviour: string; role: string; domains: number }[];
    dir: string;
  };
  lowerBound: LowerBound;
  /** null when skipped (--no-mailvet). */
  mailvet: MailvetFigures | { error: string } | null;
  baseline: BaselineFigures | { error: string } | null;
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  commit: string;
  uncommitted: number;
  machine: { cpus: number; node: string; platform: string };
  command: string;
  sizes: SizeReport[];
}

export const TARGETS = {
  ratio: "≤ 2× lower bound (100k)",
  accuracy: "≥ 99.5 %",
  create: "≤ 1 s (100k)",
  page: "≤ 10 ms p50",
  cancel: "≤ 50 ms p50",
  memory: "≤ 400 MB",
  fill: "≥ 80 % of the limit",
  platformLimits: "0",
  faster: "yes",
};
