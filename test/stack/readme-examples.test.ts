import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { repoDir } from "../../scripts/lib/snapshot";
import { quietWranglerEnv } from "../../scripts/lib/wrangler";

// Every shell example of the README, run as written against mailvet under
// `wrangler dev` (the fixture mail world behind it). Only what a reader would
// put in is put in: the address of this server instead of localhost:8787, a
// real key for `mv_…`, a job id for $ID, list files to upload, and a webhook
// receiver of their own for hooks.example.com. Each block
// runs as one bash script with `set -e`, and curl fails on an HTTP error, so a
// command that a reader would see fail fails the test. A block the README
// marks `<!-- examples: not run (why) -->` is listed, with its reason, as not run.

const run = promisify(execFile);

interface Example {
  line: number;
  code: string;
  notRun?: string;
}

function readmeExamples(): Example[] {
  const lines = readFileSync(join(repoDir, "README.md"), "utf8").split("\n");
  const out: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]?.trim() !== "```sh") continue;
    const start = i;
    const body: string[] = [];
    while (++i < lines.length && lines[i]?.trim() !== "```") body.push(lines[i] as string);
    let before = start - 1;
    while (before >= 0 && lines[before]?.trim() === "") before--;
    const marker = /<!-- examples: not run \((.+)\) -->/.exec(lines[before] ?? "");
    out.push({ line: start + 1, code: body.join("\n"), notRun: marker?.[1] });
  }
  return out;
}

const EXAMPLES = readmeExamples();
const LIST_CSV = "email,name\nalice@normal.test,Alice\nghost@normal.test,Ghost\n";

let base = "";
let receiver = "";
let key = "";
let cwd = "";
let env: NodeJS.ProcessEnv = process.env;

beforeAll(async () => {
  base = inject("stackBaseUrl");
  key = inject("stackApiKey");
  receiver = `${inject("stackReceiverUrl")}/ok`;
  // The app copy wrangler serves: `npm run key:create` there writes to the same local database.
  cwd = inject("stackAppDir");
  await writeFile(join(cwd, "list.csv"), LIST_CSV);
  await writeFile(join(cwd, "emails.csv"), LIST_CSV);
  const work = join(cwd, ".readme-examples");
  await mkdir(work, { recursive: true });
  env = await quietWranglerEnv(cwd, work);
});

/**
 * A job like the README's (a@example.com among its addresses, for its page[after]),
 * still running while a block runs: one address waits on a greylisting catch-all probe.
 */
async function runningJob(): Promise<string> {
  const res = await fetch(`${base}/email-validations`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ emails: ["a@example.com", "alice@normal.test", "bob@noprobe.test"] }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

function asARunnerWouldType(code: string): string {
  return code
    .replaceAll("localhost:8787", base.replace(/^http:\/\//, ""))
    .replaceAll("mv_…", key)
    .replaceAll("https://hooks.example.com", receiver);
}

describe("README shell examples", () => {
  it("finds the examples, and every one not run says why", () => {
    expect(EXAMPLES.filter((e) => !e.notRun).length).toBeGreaterThanOrEqual(5);
    for (const e of EXAMPLES.filter((e) => e.notRun)) expect(e.notRun?.length).toBeGreaterThan(5);
  });

  for (const example of EXAMPLES.filter((e) => !e.notRun)) {
    const title = `README.md:${example.line}: ${example.code.split("\n")[0]}`;
    it(title, async () => {
      const id = await runningJob();
      const prelude = [
        "set -eo pipefail",
        // An HTTP error fails the example, as it fails the reader.
        'curl() { command curl --fail-with-body --show-error "$@"; }',
        `export KEY='${key}' ID='${id}' ADMIN_TOKEN='dev-admin-token'`,
      ].join("\n");
      const script = `${prelude}\n${asARunnerWouldType(example.code)}\n`;
      try {
        await run("bash", ["-c", script], { cwd, env, timeout: 90_000, maxBuffer: 16 << 20 });
      } catch (err) {
        const e = err as { code?: number; stdout?: string; stderr?: string };
        throw new Error(
          `exit ${e.code} from README.md:${example.line}\n--- script\n${script}\n--- stdout\n${e.stdout?.slice(-3000)}\n--- stderr\n${e.stderr?.slice(-3000)}`,
        );
      }
    });
  }

  for (const example of EXAMPLES.filter((e) => e.notRun)) {
    it.skip(`README.md:${example.line}: not run (${example.notRun})`, () => {});
  }
});
