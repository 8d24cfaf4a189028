// Child processes the scripts own, and how they end. Every child starts in its
// own process group; ending it signals that group AND every descendant found
// through /proc, because a grandchild (workerd under wrangler) may have moved
// to another group, and after its parent dies it is re-parented out of sight.
// Processes are only ever signalled by the ids we found under our own child.

import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { Deadline, sleep } from "./time";

type Closer = () => Promise<void> | void;

const closers = new Map<number, { name: string; close: Closer }>();
let nextCloserId = 0;
let exiting = false;

/** Registers something to close at exit; returns a function that closes it now (once). */
export function onCleanup(name: string, close: Closer): () => Promise<void> {
  const id = nextCloserId++;
  closers.set(id, { name, close });
  return async () => {
    if (!closers.delete(id)) return;
    await close();
  };
}

/** Closes everything still registered, newest first. */
export async function cleanupAll(): Promise<void> {
  const all = [...closers.values()].reverse();
  closers.clear();
  for (const { name, close } of all) {
    try {
      await close();
    } catch (err) {
      console.error(`clean-up of ${name} failed: ${String(err)}`);
    }
  }
}

/**
 * Runs a script's main and cleans up after it, whatever happens: an error is
 * printed and exits 1; a number that main returns is the exit code.
 */
export function runScript(main: () => Promise<unknown>): void {
  main().then(
    async (code) => {
      await cleanupAll();
      if (typeof code === "number") process.exit(code);
    },
    async (err: unknown) => {
      console.error(err);
      await cleanupAll();
      process.exit(1);
    },
  );
}

/** On SIGINT, SIGTERM or an uncaught error: clean up the children, then exit. */
export function installExitHandlers(): void {
  const bail = (code: number, why: string) => {
    if (exiting) return;
    exiting = true;
    console.error(`\n${why}: cleaning up children…`);
    setTimeout(() => process.exit(code), 20_000).unref();
    void cleanupAll().finally(() => process.exit(code));
  };
  process.on("SIGINT", () => bail(130, "interrupted"));
  process.on("SIGTERM", () => bail(143, "terminated"));
  process.on("SIGHUP", () => bail(129, "hang-up"));
  process.on("uncaughtException", (err) => {
    console.error(err);
    bail(1, "uncaught error");
  });
  process.on("unhandledRejection", (err) => {
    console.error(err);
    bail(1, "unhandled rejection");
  });
}

// ── The process tree, read from /proc ──────────────────────────────────

interface ProcStat {
  pid: number;
  ppid: number;
  pgid: number;
  state: string;
  comm: string;
}

function readStat(pid: number): ProcStat | null {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm is in parentheses and may itself hold spaces or parentheses: split after the last ')'.
    const close = raw.lastIndexOf(")");
    const comm = raw.slice(raw.indexOf("(") + 1, close);
    const [state, ppid, pgid] = raw
      .slice(close + 2)
      .split(" ")
      .slice(0, 3);
    return { pid, ppid: Number(ppid), pgid: Number(pgid), state: state ?? "?", comm };
  } catch {
    return null;
  }
}

function allProcesses(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat) out.push(stat);
  }
  return out;
}

/** A process that still runs: present in /proc and not a zombie waiting to be reaped. */
export function isAlive(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== null && stat.state !== "Z" && stat.state !== "X";
}

/** The root, every descendant of it, and every other member of its process group. */
export function processTree(rootPid: number): { pid: number; comm: string }[] {
  const procs = allProcesses();
  const children = new Map<number, ProcStat[]>();
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const found = new Map<number, string>();
  const queue = [rootPid];
  const root = procs.find((p) => p.pid === rootPid);
  if (root) found.set(root.pid, root.comm);
  while (queue.length) {
    const pid = queue.shift() as number;
    for (const child of children.get(pid) ?? []) {
      if (found.has(child.pid)) continue;
      found.set(child.pid, child.comm);
      queue.push(child.pid);
    }
  }
  // Members of the group that were re-parented already (a parent died before us).
  for (const p of procs) if (p.pgid === rootPid && !found.has(p.pid)) found.set(p.pid, p.comm);
  return [...found].map(([pid, comm]) => ({ pid, comm }));
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

/**
 * SIGKILL to the whole tree at once (group and each member), then waits until
 * none of them runs any more. Returns what was killed; throws if anything survives.
 */
export async function killTree(
  rootPid: number,
  deadlineMs = 10_000,
): Promise<{ pid: number; comm: string }[]> {
  const tree = processTree(rootPid);
  signal(-rootPid, "SIGKILL");
  for (const p of tree) signal(p.pid, "SIGKILL");
  const deadline = new Deadline(deadlineMs, `processes of ${rootPid} to die`);
  for (;;) {
    // A member could have forked between the scan and the kill: scan again by group.
    const late = allProcesses().filter((p) => p.pgid === rootPid && p.state !== "Z" && p.state !== "X");
    for (const p of late) signal(p.pid, "SIGKILL");
    const survivors = tree.filter((p) => isAlive(p.pid));
    if (survivors.length === 0 && late.length === 0) return tree;
    if (deadline.passed) {
      const list = [...survivors, ...late].map((p) => `${p.pid} (${p.comm})`).join(", ");
      throw new Error(`still running after SIGKILL: ${list}`);
    }
    await sleep(50);
  }
}

/** Spawns a child as the leader of its own process group. */
export function spawnInGroup(command: string, args: string[], options: SpawnOptions): ChildProcess {
  return spawn(command, args, { ...options, detached: true });
}

/** Spawns a child in its own group and registers it for clean-up; `stop` ends its whole tree now. */
export function spawnOwned(
  name: string,
  command: string,
  args: string[],
  options: SpawnOptions,
): { child: ChildProcess; stop: () => Promise<void> } {
  const child = spawnInGroup(command, args, options);
  const stop = onCleanup(name, () => stopTree(child));
  return { child, stop };
}

/** Resolves with the exit code (null when killed by a signal), or "timeout". */
export function exitOf(child: ChildProcess, timeoutMs: number): Promise<number | null | "timeout"> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve("timeout"), timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** SIGTERM to the tree, a grace period, then SIGKILL to whatever is left. */
export async function stopTree(child: ChildProcess, graceMs = 5000): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const tree = processTree(pid);
  signal(-pid, "SIGTERM");
  for (const p of tree) signal(p.pid, "SIGTERM");
  await exitOf(child, graceMs);
  await killTree(pid).catch((err) => console.error(String(err)));
  for (const p of tree) signal(p.pid, "SIGKILL");
}
