// Peak memory of the workerd processes under `wrangler dev`, sampled from
// /proc every 200 ms. wrangler runs two: a small proxy in front, and the
// runtime that holds the Worker and its Durable Objects. wrangler's own Node
// process is not counted.
//
// Three figures, because VmRSS alone overstates a tree: both workerd
// processes map the same ~100 MB binary, and VmRSS counts it in each.
//   rssMb      summed VmRSS (what the issue asks for)
//   pssMb      summed Pss from smaps_rollup: shared pages counted once
//   runtimeMb  the runtime process alone: VmRSS and its anonymous part (heap)

import { readFileSync } from "node:fs";
import { processTree } from "../../scripts/lib/processes";

export interface MemoryPeaks {
  rssMb: number;
  pssMb: number;
  runtimeRssMb: number;
  runtimeAnonMb: number;
}

export interface MemorySampler {
  /** Peaks since the last mark(). */
  phase(): MemoryPeaks;
  mark(): void;
  /** Peaks over the sampler's whole life. */
  overall(): MemoryPeaks;
  stop(): void;
}

const zero = (): MemoryPeaks => ({ rssMb: 0, pssMb: 0, runtimeRssMb: 0, runtimeAnonMb: 0 });

function raise(peaks: MemoryPeaks, now: MemoryPeaks): void {
  peaks.rssMb = Math.max(peaks.rssMb, now.rssMb);
  peaks.pssMb = Math.max(peaks.pssMb, now.pssMb);
  peaks.runtimeRssMb = Math.max(peaks.runtimeRssMb, now.runtimeRssMb);
  peaks.runtimeAnonMb = Math.max(peaks.runtimeAnonMb, now.runtimeAnonMb);
}

export function sampleWorkerdMemory(rootPid: number, everyMs = 200): MemorySampler {
  let phase = zero();
  const overall = zero();
  const sample = () => {
    const now = zero();
    for (const pid of descendants(rootPid)) {
      if (read(`/proc/${pid}/comm`).trim() !== "workerd") continue;
      const status = read(`/proc/${pid}/status`);
      const rss = kb(status, "VmRSS") / 1024;
      now.rssMb += rss;
      now.pssMb += kb(read(`/proc/${pid}/smaps_rollup`), "Pss") / 1024;
      // The runtime is the one with an inspector; the proxy has none.
      if (read(`/proc/${pid}/cmdline`).includes("--inspector-addr")) {
        now.runtimeRssMb += rss;
        now.runtimeAnonMb += kb(status, "RssAnon") / 1024;
      }
    }
    raise(phase, now);
    raise(overall, now);
  };
  const timer = setInterval(sample, everyMs);
  timer.unref();
  return {
    phase: () => ({ ...phase }),
    mark: () => {
      phase = zero();
    },
    overall: () => ({ ...overall }),
    stop: () => clearInterval(timer),
  };
}

/** The root and every process below it (or in its group). */
function descendants(root: number): number[] {
  return processTree(root).map((p) => p.pid);
}

function read(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

function kb(text: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
  return match ? Number(match[1]) : 0;
}
