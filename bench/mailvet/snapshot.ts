// mailvet is being edited while the bench runs, and `wrangler dev` rebuilds
// and restarts workerd whenever a bundled file changes (sources, or any
// package in node_modules after an npm install), dropping the job's
// in-flight batch. So the bench runs a copy taken at start: the sources
// copied, node_modules hard-linked (instant, no space; npm replaces files
// rather than rewriting them, so the copy keeps the old ones). It records
// which commit (and how many uncommitted changes) it measured.

import { execFileSync } from "node:child_process";
import { cp, mkdir, rm, symlink } from "node:fs/promises";
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
  await linkNodeModules(join(repoDir, "node_modules"), join(dir, "node_modules"));
  return { dir, ...gitState(repoDir) };
}

/** A hard-linked copy where the file system allows it, else a symlink (then npm installs reach the run). */
async function linkNodeModules(from: string, to: string): Promise<void> {
  try {
    execFileSync("cp", ["-al", from, to]);
    // Caches are written in place: a hard link would carry those writes back to the original.
    for (const cache of [".cache", ".mf", ".vite", ".vitest-cache"]) {
      await rm(join(to, cache), { recursive: true, force: true });
    }
  } catch {
    await rm(to, { recursive: true, force: true });
    await symlink(from, to, "dir");
  }
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
