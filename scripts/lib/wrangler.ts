// mailvet under `wrangler dev`, with its D1 and Durable Object state in a
// directory of our choosing, so it can be killed and started again on the
// same state. wrangler is kept off the network: no telemetry, no update
// check, no Request.cf download (each would otherwise call a public host),
// and it listens on 127.0.0.1 only.

import type { ChildProcess } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { http } from "./http";
import { exitOf, killTree, onCleanup, spawnInGroup, stopTree } from "./processes";
import { repoDir } from "./snapshot";
import { Deadline, sleep } from "./time";

export interface WranglerDevOptions {
  /** The app to serve (a snapshot of the repository). */
  appDir: string;
  /** --persist-to: D1, Durable Objects, caches. Kept across restarts. */
  stateDir: string;
  /** wrangler's output goes to one file per start here, plus its temporary files. */
  workDir: string;
  /** One file for all of wrangler's output instead. */
  logFile?: string;
  vars: Record<string, string>;
}

export interface Started {
  baseUrl: string;
  pid: number;
  /** spawn → /health answered */
  startupMs: number;
  logFile: string;
}

const HEALTH_DEADLINE_MS = 120_000;

/** Node 22 from node_modules when present (wrangler refuses older ones), else this process's node. */
export function nodeBinary(): string {
  const local = join(repoDir, "node_modules", ".bin", "node");
  return existsSync(local) ? local : process.execPath;
}

export class WranglerDev {
  private child: ChildProcess | null = null;
  private closeChild: (() => Promise<void>) | null = null;
  private starts = 0;
  readonly logFiles: string[] = [];
  baseUrl = "";
  /** wrangler's DevTools inspector (CDP over a websocket), for profiles. */
  inspectorPort = 0;

  constructor(private readonly opts: WranglerDevOptions) {}

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** `wrangler d1 migrations apply DB --local --persist-to <stateDir>`. */
  async migrate(): Promise<void> {
    const logFile = this.opts.logFile ?? join(this.opts.workDir, "wrangler-migrations.log");
    const child = await this.spawn(["d1", "migrations", "apply", "DB", "--local"], logFile);
    const code = await exitOf(child, 120_000);
    if (code !== 0) {
      await stopTree(child);
      throw new Error(`wrangler d1 migrations apply ended with ${code}; see ${logFile}`);
    }
  }

  /** Starts `wrangler dev` on a free port and waits for GET /health. */
  async start(): Promise<Started> {
    if (this.child) throw new Error("wrangler dev is already running");
    this.starts++;
    const [port, inspectorPort] = [await freePort(), await freePort()];
    const logFile = this.opts.logFile ?? join(this.opts.workDir, `wrangler-dev-${this.starts}.log`);
    this.logFiles.push(logFile);
    const varArgs = Object.entries(this.opts.vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
    const started = performance.now();
    const child = await this.spawn(
      [
        "dev",
        "--ip",
        "127.0.0.1",
        "--port",
        String(port),
        "--inspector-ip",
        "127.0.0.1",
        "--inspector-port",
        String(inspectorPort),
        "--show-interactive-dev-session=false",
        ...varArgs,
      ],
      logFile,
    );
    this.child = child;
    this.closeChild = onCleanup(`wrangler dev (pid ${child.pid})`, () => stopTree(child));
    this.baseUrl = `http://127.0.0.1:${port}`;
    this.inspectorPort = inspectorPort;
    await this.waitForHealth(
      child,
      new Deadline(HEALTH_DEADLINE_MS, `wrangler dev /health (see ${logFile})`),
    );
    return {
      baseUrl: this.baseUrl,
      pid: child.pid as number,
      startupMs: performance.now() - started,
      logFile,
    };
  }

  /** kill -9 of wrangler and every process under it (workerd); throws if any survives. */
  async crash(): Promise<{ pid: number; comm: string }[]> {
    const child = this.child;
    if (!child?.pid) throw new Error("wrangler dev is not running");
    const killed = await killTree(child.pid);
    await exitOf(child, 5000);
    this.forget();
    return killed;
  }

  /** A polite stop (SIGTERM, then SIGKILL), for the end of a run. */
  async stop(): Promise<void> {
    const close = this.closeChild;
    this.forget();
    if (close) await close();
  }

  private forget(): void {
    this.child = null;
    this.closeChild = null;
  }

  private async spawn(args: string[], logFile: string): Promise<ChildProcess> {
    const env = await quietWranglerEnv(this.opts.appDir, this.opts.workDir);
    const wrangler = join(this.opts.appDir, "node_modules", "wrangler", "bin", "wrangler.js");
    const out = createWriteStream(logFile, { flags: "a" });
    const child = spawnInGroup(nodeBinary(), [wrangler, ...args, "--persist-to", this.opts.stateDir], {
      cwd: this.opts.appDir,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.pipe(out, { end: false });
    child.stderr?.pipe(out, { end: false });
    child.once("close", () => out.end());
    return child;
  }

  private async waitForHealth(child: ChildProcess, deadline: Deadline): Promise<void> {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`wrangler dev ended (${child.exitCode ?? child.signalCode}) before /health answered`);
      // Not listening yet answers status 0.
      if ((await http("GET", `${this.baseUrl}/health`, { timeoutMs: 2000 })).status === 200) return;
      deadline.check();
      await sleep(250);
    }
  }
}

/** The environment of a wrangler child: Node 22 first on PATH, every call home switched off. */
export async function quietWranglerEnv(appDir: string, workDir: string): Promise<NodeJS.ProcessEnv> {
  const tmp = join(workDir, "wrangler-tmp");
  // wrangler's update check reads this cache first; an entry that is fresh means it never asks npm.
  const pkg = JSON.parse(
    await readFile(join(appDir, "node_modules", "wrangler", "package.json"), "utf8"),
  ) as {
    version: string;
  };
  await mkdir(join(tmp, "update-check"), { recursive: true });
  await writeFile(
    join(tmp, "update-check", "wrangler-latest.json"),
    JSON.stringify({ latest: pkg.version, lastUpdate: Date.now() + 24 * 3600_000 }),
  );
  return {
    ...process.env,
    PATH: `${join(repoDir, "node_modules", ".bin")}:${process.env.PATH ?? ""}`,
    TMPDIR: tmp,
    WRANGLER_LOG_PATH: join(workDir, "wrangler-debug-logs"),
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_SEND_ERROR_REPORTS: "false",
    WRANGLER_HIDE_BANNER: "true",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    NO_COLOR: "1",
    FORCE_COLOR: "0",
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
