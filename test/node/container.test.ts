import { execFileSync, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { validate } from "dockerfile-utils";
import { describe, expect, it } from "vitest";

// The prober's container: the Dockerfile is linted everywhere; the image is
// built only where a Docker engine answers; the bundle the image runs is
// built and started here, with the image's own health check.

const ROOT = join(import.meta.dirname, "../..");
const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
};
const has = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: "ignore" }).status === 0;
const dockerEngine = has("docker", ["info"]);
const hadolint = has("hadolint", ["--version"]);
if (!dockerEngine) console.warn("prober image build skipped: no Docker engine answers `docker info` here");

/** The instructions of each stage, continuation lines joined. */
function stages(text: string): string[][] {
  const lines = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const out: string[][] = [];
  for (const line of lines) {
    if (/^FROM\s/i.test(line)) out.push([]);
    out.at(-1)?.push(line);
  }
  return out;
}

describe("the prober's Dockerfile", () => {
  it("passes dockerfile-utils' linter with no finding", () => {
    expect(validate(dockerfile).map((d) => `${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
  });

  it.runIf(hadolint)("passes hadolint", () => {
    const out = spawnSync("hadolint", ["Dockerfile"], { cwd: ROOT, encoding: "utf8" });
    expect(out.stdout + out.stderr).toBe("");
    expect(out.status).toBe(0);
  });

  it("builds in stages on Node 22 slim and runs as a non-root user with production dependencies only", () => {
    const all = stages(dockerfile);
    expect(all.length).toBeGreaterThanOrEqual(2);
    for (const stage of all) expect(stage[0]).toMatch(/^FROM node:22-slim(\s+AS\s+\w+)?$/i);
    const final = all.at(-1)!;
    // Only copies from other stages and the manifest: no compiler, no install of dev dependencies.
    expect(final.filter((l) => /^RUN\s/i.test(l))).toEqual([]);
    const deps = all.find((stage) => stage.some((l) => /^RUN npm ci --omit=dev /.test(l)));
    expect(deps, "a stage installs with --omit=dev").toBeDefined();
    const depsStage = /AS\s+(\w+)/i.exec(deps![0]!)![1];
    expect(final).toContainEqual(
      expect.stringMatching(new RegExp(`^COPY --from=${depsStage} .*node_modules`)),
    );
    const user = final.filter((l) => /^USER\s/i.test(l)).at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER\s+(root|0)(:|$)/i);
    expect(final).toContainEqual(expect.stringMatching(/^HEALTHCHECK .*CMD \[.*\/health/));
    expect(final).toContainEqual(expect.stringMatching(/^CMD \["node", "dist\/prober\.mjs"\]$/));
  });

  // One clear line where there is no engine: the image build needs one.
  it.runIf(dockerEngine)(
    "builds the image",
    () => {
      execFileSync("docker", ["build", "-t", "mailvet-prober:test", "."], { cwd: ROOT, stdio: "inherit" });
    },
    900_000,
  );
  it.skipIf(dockerEngine)(
    "builds the image — skipped: no Docker engine answers `docker info` here",
    () => {},
  );
});

describe("the bundle the image runs", () => {
  it("imports nothing but Node built-ins and production dependencies, starts, and passes the health check", async () => {
    // The image's own build step: npm run build:prober writes dist/prober.mjs.
    execFileSync("npm", ["run", "--silent", "build:prober", "--", "--log-level=warning"], { cwd: ROOT });
    const bundle = join(ROOT, "dist/prober.mjs");
    const imports = [...readFileSync(bundle, "utf8").matchAll(/^import .* from "([^"]+)";$/gm)].map(
      (m) => m[1]!,
    );
    const packages = new Set(
      imports
        .filter((s) => !s.startsWith("node:"))
        .map((s) =>
          s
            .split("/")
            .slice(0, s.startsWith("@") ? 2 : 1)
            .join("/"),
        ),
    );
    expect(packages.size).toBeGreaterThan(0);
    for (const name of packages) expect(pkg.dependencies, name).toHaveProperty(name);

    // Started as the image starts it; the repository's node_modules hold the same packages.
    const child = spawn(process.execPath, [bundle], {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: "0",
        PROBER_SECRET: "s3cret",
        SMTP_HELO_NAME: "verify.example.test",
        SMTP_MAIL_FROM: "probe@verify.example.test",
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = once(child, "exit");
    try {
      const first = await Promise.race([once(child.stdout!, "data"), exited.then(() => [Buffer.from("")])]);
      const port = Number(/"port":(\d+)/.exec(String(first[0]))?.[1]);
      expect(port).toBeGreaterThan(0);
      // The HEALTHCHECK's own command, against this process.
      const check = /HEALTHCHECK .*CMD \["node", "-e", "(.*)"\]/.exec(dockerfile.replace(/\\\n/g, " "))![1]!;
      const healthy = spawnSync(process.execPath, ["-e", check], {
        env: { ...process.env, PORT: String(port) },
      });
      expect(healthy.status).toBe(0);
      const metrics = await fetch(`http://127.0.0.1:${port}/metrics`, {
        headers: { authorization: "Bearer s3cret" },
      });
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain("mailvet_prober_smtp_sessions_open 0");
    } finally {
      child.kill("SIGTERM");
    }
    // SIGTERM is a clean stop.
    expect(((await exited) as [number | null])[0]).toBe(0);
  }, 60_000);
});
