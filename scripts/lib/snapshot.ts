// mailvet's sources are edited while these scripts run, and `wrangler dev`
// rebuilds and restarts the worker on every saved file: that would be an
// unplanned restart in the middle of a crash test, and a change of code
// between two restarts. So the scripts run a copy of the sources taken at
// start (node_modules is linked, not copied), and say which commit it was.
// The bench hard-links node_modules (instant, no space): npm replaces files
// rather than rewriting them, so an install during a long run never reaches it.

import { execFileSync } from "node:child_process";
import { cp, mkdir, rm, symlink } from "node:fs/promises";
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

export async function snapshotApp(
  into: string,
  { hardLinkModules = false }: { hardLinkModules?: boolean } = {},
): Promise<AppSnapshot> {
  const dir = join(into, "app");
  await mkdir(dir, { recursive: true });
  for (const name of COPIED) await cp(join(repoDir, name), join(dir, name), { recursive: true });
  const modules = join(repoDir, "node_modules");
  if (!hardLinkModules || !(await hardLinked(modules, join(dir, "node_modules")))) {
    await symlink(modules, join(dir, "node_modules"), "dir");
  }
  return { dir, ...gitState() };
}

/** A hard-linked copy where the file system allows it; false when it does not. */
async function hardLinked(from: string, to: string): Promise<boolean> {
  try {
    execFileSync("cp", ["-al", from, to]);
  } catch {
    await rm(to, { recursive: true, force: true });
    return false;
  }
  // Caches are written in place: a hard link would carry those writes back to the original.
  for (const cache of [".cache", ".mf", ".vite", ".vitest-cache"]) {
    await rm(join(to, cache), { recursive: true, force: true });
  }
  return true;
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
