// The fixture mail world of the test suite, started in this process: the DoH
// server over the fixture zone, the scripted SMTP servers (127.0.0.10-19) and
// the webhook receiver. Reused as is, so the scripts and the tests agree on
// what every fixture domain does.

import { join } from "node:path";
import { createInterface } from "node:readline";
import { startDohServer } from "../../test/fixtures/doh-server";
import { startSmtpWorld } from "../../test/fixtures/smtp-server";
import { startWebhookReceiver } from "../../test/fixtures/webhook-receiver";
import { SERVFAIL_NAMES, SMTP_SERVERS, ZONE } from "../../test/fixtures/world";
import { exitOf, onCleanup, spawnInGroup, stopTree } from "./processes";
import { repoDir } from "./snapshot";
import { Deadline } from "./time";
import { nodeBinary } from "./wrangler";

export interface MailWorld {
  dohPort: number;
  smtpPort: number;
  smtpStatsPort: number;
  receiverPort: number;
  /** Base URL of the webhook receiver (its control API included). */
  receiverUrl: string;
  close(): Promise<void>;
}

export async function startMailWorld(): Promise<MailWorld> {
  const doh = await startDohServer({ zone: ZONE, servfail: SERVFAIL_NAMES });
  const closeDoh = onCleanup("DoH server", () => doh.close());
  const smtp = await startSmtpWorld({ servers: SMTP_SERVERS });
  const closeSmtp = onCleanup("SMTP servers", () => smtp.close());
  const receiver = await startWebhookReceiver();
  const closeReceiver = onCleanup("webhook receiver", () => receiver.close());
  return {
    dohPort: doh.port,
    smtpPort: smtp.port,
    smtpStatsPort: smtp.statsPort,
    receiverPort: receiver.port,
    receiverUrl: `http://127.0.0.1:${receiver.port}`,
    async close() {
      await Promise.all([closeReceiver(), closeSmtp(), closeDoh()]);
    },
  };
}

/**
 * The same world in a child process (see mail-world-server.ts), so that its
 * work does not delay the measuring client's event loop.
 */
export async function startMailWorldProcess(): Promise<MailWorld> {
  const tsx = join(repoDir, "node_modules", "tsx", "dist", "cli.mjs");
  const child = spawnInGroup(nodeBinary(), [tsx, join(repoDir, "scripts", "lib", "mail-world-server.ts")], {
    cwd: repoDir,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const close = onCleanup("mail world process", async () => {
    child.stdin?.end();
    if ((await exitOf(child, 5000)) === "timeout") await stopTree(child);
  });
  const deadline = new Deadline(60_000, "the mail world process to start");
  const firstLine = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const timer = setTimeout(() => reject(new Error(deadline.what)), deadline.left);
    lines.once("line", (line) => {
      clearTimeout(timer);
      resolve(line);
    });
    child.once("exit", (code) => reject(new Error(`the mail world process ended with ${code}`)));
  });
  const ports = JSON.parse(firstLine) as Omit<MailWorld, "close">;
  return { ...ports, close };
}

/** The worker vars that point mailvet at this world, with the short timeouts the tests use. */
export function worldVars(world: MailWorld): Record<string, string> {
  return {
    DOH_URL: `http://127.0.0.1:${world.dohPort}/dns-query`,
    // The fixture domains end in .test; every other reserved name stays reserved.
    RESOLVE_RESERVED: "test",
    SMTP_PORT: String(world.smtpPort),
    SMTP_CONNECT_TIMEOUT_MS: "1000",
    SMTP_REPLY_TIMEOUT_MS: "1500",
    GREYLIST_DELAY_SECONDS: "1",
    GREYLIST_DEADLINE_SECONDS: "8",
    WEBHOOK_ALLOW_LOOPBACK: "true",
  };
}
