import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validate } from "@readme/openapi-parser";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { repoDir } from "../../scripts/lib/snapshot";
import { nodeBinary } from "../../scripts/lib/wrangler";

// /openapi.json as API tools read it: a strict validator, and a generator of
// TypeScript types whose output must compile.

let doc: Record<string, unknown>;
let dir: string;

beforeAll(async () => {
  const res = await fetch(`${inject("stackBaseUrl")}/openapi.json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as Record<string, unknown>;
  dir = await mkdtemp(join(tmpdir(), "mailvet-openapi-"));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

it("passes @readme/openapi-parser's validate with no error and no warning", async () => {
  // validate dereferences in place: give it a copy.
  const result = await validate(structuredClone(doc) as never);
  const problems = [...(result.valid ? [] : result.errors), ...result.warnings].map((e) => e.message);
  expect(problems).toEqual([]);
  expect(result.valid).toBe(true);
});

it("gives openapi-typescript types that compile under tsc --strict", async () => {
  const spec = join(dir, "openapi.json");
  const types = join(dir, "mailvet.d.ts");
  await writeFile(spec, JSON.stringify(doc));
  const bin = (name: string) => join(repoDir, "node_modules", name);
  const run = (args: string[]) =>
    execFileSync(nodeBinary(), args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  run([bin("openapi-typescript/bin/cli.js"), spec, "--output", types]);
  // A consumer's file using the generated types, so that tsc checks them in use too.
  await writeFile(
    join(dir, "use.ts"),
    `import type { paths } from "./mailvet";
type Job = paths["/email-validations/{id}"]["get"]["responses"][200]["content"]["application/json"];
export const id = (job: Job): string => job.id;
`,
  );
  let output = "";
  try {
    run([bin("typescript/bin/tsc"), "--noEmit", "--strict", "use.ts", "mailvet.d.ts"]);
  } catch (err) {
    output = String((err as { stdout?: string }).stdout ?? err);
  }
  expect(output).toBe("");
});
