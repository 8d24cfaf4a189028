#!/usr/bin/env node
// Runs a command, then fails if it changed the git work tree: a test run must
// leave `git status` (and every file it lists) as it found them. Changes made
// before the run are fine; only what the command itself did counts.
//   node scripts/unchanged-tree.mjs vitest run
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error("usage: node scripts/unchanged-tree.mjs <command> [args...]");
  process.exit(2);
}

/** Each path git reports as changed or untracked, with a hash of its content; null outside a git tree. */
function fingerprint() {
  const status = spawnSync("git", ["status", "--porcelain=v1", "-uall", "-z"], { encoding: "utf8" });
  if (status.status !== 0) return null;
  const entries = new Map();
  for (const entry of status.stdout.split("\0").filter(Boolean)) {
    const path = entry.slice(3);
    const content =
      existsSync(path) && statSync(path).isFile()
        ? createHash("sha1").update(readFileSync(path)).digest("hex")
        : "-";
    entries.set(path, `${entry.slice(0, 2)} ${content}`);
  }
  return entries;
}

const before = fingerprint();
const run = spawnSync(command, args, { stdio: "inherit" });
const code = run.status ?? 1;
const after = fingerprint();
if (!before || !after) process.exit(code);

const changed = [...new Set([...before.keys(), ...after.keys()])].filter(
  (p) => before.get(p) !== after.get(p),
);
if (changed.length) {
  console.error(
    `\nThe run changed the work tree; tests must leave it as they found it:\n  ${changed.join("\n  ")}`,
  );
  process.exit(code || 1);
}
process.exit(code);
