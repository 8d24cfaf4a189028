// CPU time used by wrangler dev's workerd processes, from /proc (Linux). On a
// machine shared with other work, latencies and rates move with everyone
// else's load; the CPU seconds mailvet itself burns per poll and per address
// move much less, so they are what compares two versions fairly.

import { readFileSync } from "node:fs";
import { processTree } from "../lib/processes";

const TICKS_PER_SECOND = 100;

function read(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** Fields after the command name (which may hold spaces and parentheses). */
function statFields(pid: number | string): string[] {
  const stat = read(`/proc/${pid}/stat`);
  return stat ? stat.slice(stat.lastIndexOf(")") + 2).split(" ") : [];
}

/** The root and every process below it (or in its group). */
function descendants(root: number): number[] {
  return processTree(root).map((p) => p.pid);
}

/**
 * User + system CPU seconds so far of every workerd process under `rootPid`
 * (`all`), and of the runtime among them (`runtime`: the one with the
 * inspector, which runs the worker, every Durable Object and local D1 on one
 * thread; the other is wrangler's proxy); null off Linux.
 */
export function workerdCpuSeconds(rootPid: number | null): { all: number; runtime: number } | null {
  if (rootPid === null || !read("/proc/self/stat")) return null;
  let all = 0;
  let runtime = 0;
  for (const pid of descendants(rootPid)) {
    if (read(`/proc/${pid}/comm`).trim() !== "workerd") continue;
    const f = statFields(pid);
    // utime and stime are fields 14 and 15 of stat; f starts at field 3.
    const ticks = Number(f[11]) + Number(f[12]);
    all += ticks;
    if (read(`/proc/${pid}/cmdline`).includes("--inspector-addr")) runtime += ticks;
  }
  return { all: all / TICKS_PER_SECOND, runtime: runtime / TICKS_PER_SECOND };
}
