// Child processes and servers the harness owns, and their clean-up. Every
// child starts in its own process group, so stopping it stops everything it
// spawned (wrangler → workerd) — by that group's id, never by name.

import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";

type Closer = () => Promise<void> | void;

const closers = new Map<number, { name: string; close: Closer }>();
let nextId = 0;
let exiting = false;

/** Registers something to close on exit; returns a function that closes it now and unregisters it. */
export function onCleanup(name: string, close: Closer): () => Promise<void> {
  const id = nextId++;
  closers.set(id, { name, close });
  return async () => {
    if (!closers.delete(id)) return;
    await close();
  };
}

/** Spawns a child in its own process group; stopping it signals the whole group. */
export function spawnOwned(
  name: string,
  command: string,
  args: string[],
  options: SpawnOptions,
): { child: ChildProcess; stop: () => Promise<void> } {
  const child = spawn(command, args, { ...options, detached: true });
  const stop = onCleanup(name, () => stopGroup(child));
  return { child, stop };
}

/** SIGTERM to the group, then SIGKILL if it is still there after `graceMs`. */
export async function stopGroup(child: ChildProcess, graceMs = 5000): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  signalGroup(pid, "SIGTERM");
  const timer = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), graceMs).unref());
  if ((await Promise.race([exited, timer])) === "timeout") signalGroup(pid, "SIGKILL");
  // The leader may be gone while grandchildren (workerd) linger: make sure of the group.
  signalGroup(pid, "SIGKILL");
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

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

/** Cleans up on SIGINT, SIGTERM and uncaught errors, then exits. */
export function installExitHandlers(): void {
  const bail = (code: number, why: string) => {
    if (exiting) return;
    exiting = true;
    console.error(`\n${why}: cleaning up children…`);
    const hardStop = setTimeout(() => process.exit(code), 20_000);
    hardStop.unref();
    void cleanupAll().finally(() => process.exit(code));
  };
  process.on("SIGINT", () => bail(130, "interrupted"));
  process.on("SIGTERM", () => bail(143, "terminated"));
  process.on("uncaughtException", (err) => {
    console.error(err);
    bail(1, "uncaught error");
  });
  process.on("unhandledRejection", (err) => {
    console.error(err);
    bail(1, "unhandled rejection");
  });
}
