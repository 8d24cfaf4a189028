// CPU time used by wrangler dev's workerd processes, from /proc (Linux). On a
// machine shared with other work, latencies and rates move with everyone
// else's load; the CPU seconds mailvet itself burns per poll and per address
// move much less, so they are what compares two versions fairly.

import { readdirSync, readFileSync } from "node:fs";

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

function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const ppid = Number(statFields(name)[1]);
    if (!ppid) continue;
    children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift() as number;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
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
