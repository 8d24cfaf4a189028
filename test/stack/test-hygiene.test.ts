import { execFileSync, spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoDir } from "../../scripts/lib/snapshot";
import { nodeBinary } from "../../scripts/lib/wrangler";

// What `npm test` leaves behind: a work tree as it found it (scripts/unchanged-tree.mjs
// guards the vitest run), and a quiet console when the tests pass.

describe("scripts/unchanged-tree.mjs", () => {
  let repo = "";
  const guard = (script: string) =>
    spawnSync(nodeBinary(), [join(repoDir, "scripts", "unchanged-tree.mjs"), nodeBinary(), "-e", script], {
      cwd: repo,
      encoding: "utf8",
    });

  beforeAll(async () => {
    repo = await mkdtemp(join(tmpdir(), "mailvet-tree-"));
    const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, stdio: "ignore" });
    git("init", "-q");
    await writeFile(join(repo, "tracked.txt"), "one\n");
    git("add", "tracked.txt");
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init");
    // A change from before the run: not the run's doing.
    await writeFile(join(repo, "tracked.txt"), "edited before the run\n");
  });
  afterAll(async () => {
    if (repo) await rm(repo, { recursive: true, force: true });
  });

  it("passes a run that changes nothing, whatever was changed before it", () => {
    const run = guard("");
    expect(run.status, run.stderr).toBe(0);
  });

  it("fails a run that adds a file or rewrites one, and names them", () => {
    const run = guard(
      "const fs = require('node:fs'); fs.writeFileSync('new.png', 'x'); fs.writeFileSync('tracked.txt', 'rewritten\\n');",
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("The run changed the work tree");
    expect(run.stderr).toContain("new.png");
    expect(run.stderr).toContain("tracked.txt");
  });

  it("keeps the command's own failure code", () => {
    expect(guard("process.exit(3)").status).toBe(3);
  });
});

it("prints no request log for passing worker tests", () => {
  const run = spawnSync(
    nodeBinary(),
    [
      join(repoDir, "node_modules", "vitest", "vitest.mjs"),
      "run",
      "--project",
      "worker",
      "test/health.test.ts",
    ],
    { cwd: repoDir, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", CI: "1" }, timeout: 120_000 },
  );
  const output = `${run.stdout}${run.stderr}`;
  expect(run.status, output).toBe(0);
  expect(output).toMatch(/Tests\s+\d+ passed/);
  expect(output).not.toContain('"msg":"request"');
});
