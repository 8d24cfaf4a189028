import { type ChildProcess, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { http } from "../../scripts/lib/http";
import { spawnInGroup, stopTree } from "../../scripts/lib/processes";
import { snapshotApp } from "../../scripts/lib/snapshot";
import { Deadline, sleep } from "../../scripts/lib/time";
import { freePort, quietWranglerEnv } from "../../scripts/lib/wrangler";
import { effectiveVars, migrationArgs } from "../../scripts/start";
import { describeConfig } from "../../src/config-summary";

// `npm start` as a user runs it: extra flags reach wrangler dev, and those that
// choose the local database reach the migration step too; the effective
// configuration is printed first, without secrets.

describe("npm start's arguments", () => {
  it("gives the migration step only the flags that choose the database or configuration", () => {
    const args = ["--port", "9000", "--persist-to", "./state", "--var", "SMTP_MODE:off"];
    args.push("-e=production", "--config", "wrangler.toml", "--ip", "127.0.0.1");
    expect(migrationArgs(args)).toEqual([
      "--persist-to",
      "./state",
      "-e=production",
      "--config",
      "wrangler.toml",
    ]);
    expect(migrationArgs(["--port", "9000"])).toEqual([]);
  });

  it("reads the vars wrangler dev will run with: the config's, then --var", () => {
    const vars = effectiveVars(["--var", "SMTP_MODE:off", "--var=RESOLVE_RESERVED:test"]);
    expect(vars.SMTP_MODE).toBe("off");
    expect(vars.RESOLVE_RESERVED).toBe("test");
    expect(vars.DOH_URL).toBe("https://cloudflare-dns.com/dns-query");
    expect(effectiveVars(["--env", "production"]).SMTP_MODE).toBe("relay");
  });
});

it("describes the relay mode and its prober, and never shows a secret's value", () => {
  const vars = { ...effectiveVars([]), SMTP_MODE: "relay", PROBER_URL: "https://p.example.net" };
  const text = describeConfig({ ...vars, PROBER_SECRET: "s3cret-value", ADMIN_TOKEN: "adm1n-value" }).join(
    "\n",
  );
  expect(text).toContain("SMTP_MODE  relay: through the prober at https://p.example.net");
  expect(text).toContain("ADMIN_TOKEN set, PROBER_SECRET set");
  expect(text).not.toMatch(/s3cret-value|adm1n-value/);
});

it("describes a prober pool: how many, which, and how long a failed one rests", () => {
  const vars = {
    ...effectiveVars([]),
    SMTP_MODE: "relay",
    PROBER_URLS: "https://p1.example.net,https://p2.example.net",
    PROBER_DOWN_SECONDS: "20",
  };
  expect(describeConfig(vars).join("\n")).toContain(
    "relay: through a pool of 2 probers (https://p1.example.net, https://p2.example.net), each mail host sticky to one; a failed one rests 20 s",
  );
});

describe("npm start -- --persist-to DIR", () => {
  let work = "";
  let child: ChildProcess | undefined;
  afterAll(async () => {
    if (child) await stopTree(child);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("migrates DIR, serves requests that touch D1, and prints the configuration without secrets", async () => {
    work = await mkdtemp(join(tmpdir(), "mailvet-start-"));
    const app = await snapshotApp(work);
    const state = join(work, "my-state");
    const [port, inspector] = [await freePort(), await freePort()];
    let output = "";
    const args = ["--persist-to", state, "--ip", "127.0.0.1", "--port", String(port)];
    args.push("--inspector-port", String(inspector), "--var", "SMTP_MODE:off");
    args.push("--show-interactive-dev-session=false");
    child = spawnInGroup("npm", ["start", "--", ...args], {
      cwd: app.dir,
      env: await quietWranglerEnv(app.dir, work),
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.on("data", (d) => {
      output += d;
    });
    child.stderr?.on("data", (d) => {
      output += d;
    });

    const base = `http://127.0.0.1:${port}`;
    const deadline = new Deadline(120_000, "npm start to answer /health");
    while ((await http("GET", `${base}/health`, { timeoutMs: 2000 })).status !== 200) {
      if (child.exitCode !== null) throw new Error(`npm start ended with ${child.exitCode}:\n${output}`);
      deadline.check();
      await sleep(250);
    }
    // Creating a key writes to D1: a 500 here means DIR was never migrated.
    const res = await fetch(`${base}/admin/accounts/start-test/keys`, {
      method: "POST",
      headers: { authorization: "Bearer dev-admin-token" },
    });
    expect(res.status, output).toBe(201);
    expect(existsSync(join(state, "v3", "d1")), "the state lives in DIR").toBe(true);
    expect(existsSync(join(app.dir, ".wrangler", "state", "v3", "d1")), "nothing in the default state").toBe(
      false,
    );

    // The summary printed before wrangler's own output (wrangler lists the vars itself).
    const summary = output.slice(output.indexOf("mailvet configuration"));
    const block = summary.slice(0, summary.indexOf("\n\n"));
    expect(block).toContain("SMTP_MODE  off: DNS-level verdicts only");
    expect(block).toContain("resolver   https://cloudflare-dns.com/dns-query, 5000 ms per query");
    expect(block).toContain("ADMIN_TOKEN set, PROBER_SECRET not set (values never shown)");
    expect(block).not.toContain("dev-admin-token");

    // npm run key:create with the same --persist-to: a key the running server accepts.
    const created = spawnSync("npm", ["run", "--silent", "key:create", "--", "acme", "--persist-to", state], {
      cwd: app.dir,
      env: await quietWranglerEnv(app.dir, work),
      encoding: "utf8",
    });
    expect(created.status, created.stderr).toBe(0);
    const { key } = JSON.parse(created.stdout) as { key: string };
    const jobs = await fetch(`${base}/email-validations`, { headers: { authorization: `Bearer ${key}` } });
    expect(jobs.status).toBe(200);
  });
});
