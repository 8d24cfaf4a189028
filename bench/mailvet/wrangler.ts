// Starts mailvet under `wrangler dev` with its D1 and Durable Object state in
// a temporary directory, waits for /health and creates an API key. wrangler
// is kept off the network: no telemetry, no update check, no Request.cf
// download (each would otherwise try a public host).

import type { ChildProcess } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { spawnOwned } from "../lib/processes";
import { Deadline, sleep } from "../lib/time";

export interface Mailvet {
  baseUrl: string;
  key: string;
  /** The wrangler process: the root of the tree whose workerd memory is sampled. */
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

export interface MailvetStart {
  appDir: string;
  stateDir: string;
  logFile: string;
  node: string;
  vars: Record<string, string>;
  log: (line: string) => void;
}

const ADMIN_TOKEN = "dev-admin-token";

export async function startMailvet(opts: MailvetStart): Promise<Mailvet> {
  const env = await quietEnv(opts);
  const log = createWriteStream(opts.logFile, { flags: "w" });
  const once = (what: string, args: string[]) => runOnce(what, args, opts, env, log);

  opts.log("mailvet: applying D1 migrations");
  await once("wrangler d1 migrations apply", [
    "d1",
    "migrations",
    "apply",
    "DB",
    "--local",
    "--persist-to",
    opts.stateDir,
  ]);

  const port = await freePort();
  const varArgs = Object.entries(opts.vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  const dev = spawnOwned(
    "wrangler dev",
    opts.node,
    [
      wranglerBin(opts.appDir),
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--persist-to",
      opts.stateDir,
      "--show-interactive-dev-session=false",
      ...varArgs,
    ],
    { cwd: opts.appDir, env, stdio: ["ignore", "pipe", "pipe"] },
  );
  dev.child.stdout?.pipe(log, { end: false });
  dev.child.stderr?.pipe(log, { end: false });
  const stop = async () => {
    await dev.stop();
    log.end();
  };

  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitForHealth(baseUrl, dev.child, new Deadline(120_000, "wrangler dev /health"));
    const res = await fetch(`${baseUrl}/admin/accounts/bench/keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    const body = (await res.json()) as { key?: string };
    if (res.status !== 201 || !body.key)
      throw new Error(`creating an API key: ${res.status} ${JSON.stringify(body)}`);
    return { baseUrl, key: body.key, pid: dev.child.pid as number, logFile: opts.logFile, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function wranglerBin(appDir: string): string {
  return join(appDir, "node_modules", "wrangler", "bin", "wrangler.js");
}

/** Runs one wrangler command to its end (2 minutes at most), its output into the log. */
async function runOnce(
  what: string,
  args: string[],
  opts: MailvetStart,
  env: NodeJS.ProcessEnv,
  log: WriteStream,
): Promise<void> {
  const run = spawnOwned(what, opts.node, [wranglerBin(opts.appDir), ...args], {
    cwd: opts.appDir,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  run.child.stdout?.pipe(log, { end: false });
  run.child.stderr?.pipe(log, { end: false });
  const code = await exitCode(run.child, 120_000);
  await run.stop();
  if (code !== 0) throw new Error(`${what} exited with ${code}; see ${opts.logFile}`);
}

/** The child's environment: Node 22 first on PATH, and every wrangler call home switched off. */
async function quietEnv(opts: MailvetStart): Promise<NodeJS.ProcessEnv> {
  const tmp = join(opts.stateDir, "..", "wrangler-tmp");
  // wrangler's update check reads this cache first; a fresh entry means it never asks npm.
  const pkg = JSON.parse(
    await readFile(join(opts.appDir, "node_modules", "wrangler", "package.json"), "utf8"),
  );
  await mkdir(join(tmp, "update-check"), { recursive: true });
  await writeFile(
    join(tmp, "update-check", "wrangler-latest.json"),
    JSON.stringify({ latest: String(pkg.version), lastUpdate: Date.now() + 24 * 3600_000 }),
  );
  const binDir = join(opts.appDir, "node_modules", ".bin");
  return {
    ...process.env,
    PATH: `${binDir}:${process.env.PATH ?? ""}`,
    TMPDIR: tmp,
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_SEND_ERROR_REPORTS: "false",
    WRANGLER_HIDE_BANNER: "true",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    NO_COLOR: "1",
  };
}

async function waitForHealth(baseUrl: string, child: ChildProcess, deadline: Deadline): Promise<void> {
  while (!deadline.passed) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode} before /health`);
    try {
      const res = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(500);
  }
  deadline.check();
}

function exitCode(child: ChildProcess, ms: number): Promise<number | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), ms);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
