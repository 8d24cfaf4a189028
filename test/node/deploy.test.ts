import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";

// The production build, as `wrangler deploy --env production` makes it, without
// uploading: bindings, vars and the bundle's size are checked here so that a
// change that breaks production cannot pass unnoticed.

const ROOT = join(import.meta.dirname, "../..");
/** Workers Free's limit on a Worker's compressed size (paid plans allow 10 MB). */
const MAX_GZIP_KIB = 3 * 1024;
/** Secrets are set with `wrangler secret put`, never as production vars. */
const SECRETS = ["ADMIN_TOKEN", "PROBER_SECRET"];

const outdir = mkdtempSync(join(tmpdir(), "mailvet-deploy-"));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

it("builds for production with its bindings, production vars, and within the size limit", () => {
  const run = spawnSync(
    process.execPath,
    [
      join(ROOT, "node_modules/wrangler/bin/wrangler.js"),
      "deploy",
      "--dry-run",
      "--env",
      "production",
      "--outdir",
      outdir,
    ],
    { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" } },
  );
  const out = run.stdout + run.stderr;
  expect(run.status, out).toBe(0);
  expect(existsSync(join(outdir, "index.js"))).toBe(true);

  const size = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(out);
  expect(size, out).not.toBeNull();
  console.info(`production bundle: ${size![1]} KiB, ${size![2]} KiB gzipped`);
  expect(Number(size![2])).toBeLessThan(MAX_GZIP_KIB);

  for (const binding of [
    "env.JOB (JobObject)",
    "env.MX (MxObject)",
    "env.ACCOUNT (AccountObject)",
    "env.DB (mailvet)",
  ])
    expect(out).toContain(binding);
  for (const [name, value] of [
    ["SMTP_MODE", "relay"],
    ["PLATFORM_LIMITS", "off"],
    ["ALLOW_FAULT_INJECTION", "false"],
    ["WEBHOOK_ALLOW_LOOPBACK", "false"],
  ])
    expect(out).toContain(`env.${name} ("${value}")`);
  expect(out).toMatch(/env\.PROBER_URLS \("https:\/\//);

  // Vars are not inherited by environments: any local var missing from production is a mistake, bar the secrets.
  const missing = /Please add these vars to "env\.production\.vars":\n((?:\s+- \w+\n)+)/.exec(out);
  expect(out.includes("Please add these vars") === (missing !== null), out).toBe(true);
  const names = missing ? [...missing[1]!.matchAll(/- (\w+)/g)].map((m) => m[1]) : [];
  expect(names.sort()).toEqual(names.length ? SECRETS : []);
});
