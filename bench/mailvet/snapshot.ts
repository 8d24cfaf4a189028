// mailvet is being edited while the bench runs, and `wrangler dev` rebuilds
// and restarts on every saved file, which would reset the very jobs being
// timed. So the bench runs a copy of the sources taken at start, and records
// which commit (and how many uncommitted changes) it measured.

import { execFileSync } from "node:child_process";
import { cp, mkdir, symlink } from "node:fs/promises";
import { join } from "node:path";

const COPIED = ["src", "migrations", "wrangler.toml", "package.json", "tsconfig.json"];

export interface Snapshot {
  dir: string;
  commit: string;
  /** Files changed or added relative to that commit when the copy was taken. */
  uncommitted: number;
}

export async function snapshotApp(repoDir: string, into: string): Promise<Snapshot> {
  const dir = join(into, "app");
  await mkdir(dir, { recursive: true });
  for (const name of COPIED) await cp(join(repoDir, name), join(dir, name), { recursive: true });
  await symlink(join(repoDir, "node_modules"), join(dir, "node_modules"), "dir");
  return { dir, ...gitState(repoDir) };
}

function gitState(repoDir: string): { commit: string; uncommitted: number } {
  // Read-only: GIT_OPTIONAL_LOCKS=0 keeps `git status` from refreshing the index.
  const git = (...args: string[]) =>
    execFileSync("git", args, { cwd: repoDir, env: { ...process.env, GIT_OPTIONAL_LOCKS: "0" } }).toString();
  try {
    const commit = git("rev-parse", "--short", "HEAD").trim();
    const uncommitted = git("status", "--porcelain").split("\n").filter(Boolean).length;
    return { commit, uncommitted };
  } catch {
    return { commit: "unknown", uncommitted: -1 };
  }
}
