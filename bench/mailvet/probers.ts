// Relay mode for the bench (--probers N): N prober processes, each sending
// its SMTP from a loopback address of its own, as several egress IPs would.
// After the job, each prober's /metrics says how many RCPTs it sent.

import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { spawnOwned } from "../../scripts/lib/processes";

const SECRET = "bench-prober-secret";

export interface RunningProbers {
  urls: string[];
  secret: string;
  /** RCPTs each prober has sent, in the order of `urls`. */
  rcpts(): Promise<number[]>;
  stop(): Promise<void>;
}

export async function startProbers(opts: {
  count: number;
  appDir: string;
  node: string;
  smtpPort: number;
  connectTimeoutMs: number;
  replyTimeoutMs: number;
  mxConcurrency: number;
}): Promise<RunningProbers> {
  const started = await Promise.all(
    Array.from({ length: opts.count }, async (_, i) => {
      const { child, stop } = spawnOwned(
        `prober ${i + 1}`,
        opts.node,
        ["--import", "tsx", join(opts.appDir, "src/prober/main.ts")],
        {
          cwd: opts.appDir,
          stdio: ["ignore", "pipe", "inherit"],
          env: {
            ...process.env,
            PORT: "0",
            PROBER_SECRET: SECRET,
            SMTP_PORT: String(opts.smtpPort),
            SMTP_HELO_NAME: "bench.mailvet.test",
            SMTP_MAIL_FROM: "probe@bench.mailvet.test",
            // Outside the world's 127.x.y.z servers (see world/generate.ts).
            SMTP_SOURCE_ADDRESS: `127.255.0.${i + 1}`,
            SMTP_CONNECT_TIMEOUT_MS: String(opts.connectTimeoutMs),
            SMTP_REPLY_TIMEOUT_MS: String(opts.replyTimeoutMs),
            MX_CONCURRENCY: String(opts.mxConcurrency),
          },
        },
      );
      return { url: `http://127.0.0.1:${await listening(child)}`, stop };
    }),
  );
  const urls = started.map((p) => p.url);
  return {
    urls,
    secret: SECRET,
    rcpts: () =>
      Promise.all(
        urls.map(async (url) => {
          const text = await (
            await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${SECRET}` } })
          ).text();
          return text
            .split("\n")
            .filter((l) => l.startsWith("mailvet_prober_smtp_rcpts_total{"))
            .reduce((sum, l) => sum + Number(l.split(" ").pop()), 0);
        }),
      ),
    stop: async () => {
      await Promise.all(started.map((p) => p.stop()));
    },
  };
}

function listening(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("prober did not start within 30 s")), 30_000);
    child.stdout?.on("data", (chunk) => {
      out += chunk;
      const port = /"prober listening","port":(\d+)/.exec(out)?.[1];
      if (port) {
        clearTimeout(timer);
        resolve(Number(port));
      }
    });
    child.once("exit", (code) => reject(new Error(`prober exited with ${code}`)));
  });
}
