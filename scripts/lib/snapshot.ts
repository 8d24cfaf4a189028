// mailvet's sources are edited while these scripts run, and `wrangler dev`
// rebuilds and restarts the worker on every saved file: that would be an
// unplanned restart in the middle of a crash test, and a change of code
// between two restarts. So the scripts run a copy of the sources taken at
// start (node_modules is linked, not copied), and say which commit it was.

import { execFileSync } from "node:child_process";
import { cp, mkdir, symlink } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const COPIED = [
  "src",
  "public",
  "scripts",
  "bin",
  "migrations",
  "wrangler.toml",
  "package.json",
  "tsconfig.json",
];

/** The repository this script lives in. */
export const repoDir = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface AppSnapshot {
  dir: string;
  commit: string;
  /** Paths changed or added relative to that commit when the copy was taken. */
  uncommitted: number;
}

export async function snapshotApp(into: string): Promise<AppSnapshot> {
  const dir = join(into, "app");
  await mkdir(dir, { recursive: true });
  for (const name of COPIED) await cp(join(repoDir, name), join(dir, name), { recursive: true });
  await symlink(join(repoDir, "node_modules"), join(dir, "node_modules"), "dir");
  return { dir, ...gitState() };
}

function gitState(): { commit: string; uncommitted: number } {
  // Read-only: GIT_OPTIONAL_LOCKS=0 keeps `git status` from touching the index.
  const git = (...args: string[]) =>
    execFileSync("git", args, {
      cwd: repoDir,
      env: { ...process.env, GIT_OPTIONAL_LOCKS: "0" },
      stdio: ["ignore", "pipe", "ignore"],
    }).toString();
  try {
    return {
      commit: git("rev-parse", "--short", "HEAD").trim(),
      uncommitted: git("status", "--porcelain", "--", ...COPIED)
        .split("\n")
        .filter(Boolean).length,
    };
  } catch {
    return { commit: "unknown", uncommitted: -1 };
  }
}
