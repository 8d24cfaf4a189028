import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { exitOf } from "../../scripts/lib/processes";
import { repoDir } from "../../scripts/lib/snapshot";
import { nodeBinary } from "../../scripts/lib/wrangler";

// Ctrl-C on `mailvet validate … --out FILE` while the job runs: the results
// answered so far are written to FILE, and the CLI says so.

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mailvet-cli-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

it("writes the partial results to --out on Ctrl-C and says where", async () => {
  // One address answers at once; the other waits for a catch-all probe that is greylisted for good.
  await writeFile(join(dir, "list.txt"), "alice@normal.test\nbob@noprobe.test\n");
  const out = join(dir, "results.csv");
  const cli = spawn(
    nodeBinary(),
    [join(repoDir, "bin", "mailvet.mjs"), "validate", "list.txt", "--out", out],
    {
      cwd: dir,
      env: { ...process.env, MAILVET_URL: inject("stackBaseUrl"), MAILVET_API_KEY: inject("stackApiKey") },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stderr = "";
  cli.stderr.on("data", (d) => {
    stderr += d;
  });
  // Interrupt once the first address is answered and the job is still running.
  const deadline = Date.now() + 30_000;
  while (!/processing 1\/2/.test(stderr)) {
    if (cli.exitCode !== null) throw new Error(`the CLI ended early:\n${stderr}`);
    if (Date.now() > deadline) throw new Error(`no progress seen:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  cli.kill("SIGINT");
  expect(await exitOf(cli, 30_000)).toBe(130);

  expect(stderr).toContain(`Partial results (1 of 2 addresses answered) written to ${out}.`);
  expect(existsSync(out)).toBe(true);
  const rows = (await readFile(out, "utf8")).trim().split(/\r?\n/);
  expect(rows.length).toBe(2);
  expect(rows[1]).toMatch(/^alice@normal\.test,/);
});
