// The whole local stack a script runs against: a work directory in the OS
// temporary directory, a snapshot of the app, the fixture mail world, and
// mailvet under `wrangler dev` on a fresh state directory (migrations applied,
// /health answered, an API key created).

import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type MailWorld, startMailWorld, startMailWorldProcess, worldVars } from "./mail-world";
import { createApiKey, MailvetApi } from "./mailvet-api";
import { type AppSnapshot, snapshotApp } from "./snapshot";
import { type Started, WranglerDev } from "./wrangler";

export interface Stack {
  workDir: string;
  stateDir: string;
  snapshot: AppSnapshot;
  world: MailWorld;
  wrangler: WranglerDev;
  api: MailvetApi;
  firstStart: Started;
  /** The vars passed with --var, for the report. */
  vars: Record<string, string>;
}

export interface StackOptions {
  /** Names the work directory (mailvet-<name>-XXXX). */
  name: string;
  account: string;
  /** Vars on top of the mail world's. */
  vars?: Record<string, string>;
  log: (line: string) => void;
  /** Run the mail world in a child process (keeps its work off the measuring event loop). */
  worldInChildProcess?: boolean;
  /**
   * Keep the state where `wrangler` looks by default when run in the app copy
   * (.wrangler/state), so commands run there (npm run key:create) share it.
   */
  stateInApp?: boolean;
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const workDir = await mkdtemp(join(tmpdir(), `mailvet-${opts.name}-`));
  opts.log(`work directory ${workDir}`);
  const snapshot = await snapshotApp(workDir);
  opts.log(`app snapshot of ${snapshot.commit} (+${snapshot.uncommitted} uncommitted paths)`);
  const stateDir = opts.stateInApp ? join(snapshot.dir, ".wrangler", "state") : join(workDir, "state");
  await mkdir(stateDir, { recursive: true });

  const world = opts.worldInChildProcess ? await startMailWorldProcess() : await startMailWorld();
  opts.log(
    `mail world: DoH :${world.dohPort}, SMTP :${world.smtpPort} on 127.0.0.10-19, webhooks :${world.receiverPort}`,
  );

  const vars = { ...worldVars(world), ...opts.vars };
  const wrangler = new WranglerDev({ appDir: snapshot.dir, stateDir, workDir, vars });
  opts.log("applying D1 migrations");
  await wrangler.migrate();
  opts.log("starting wrangler dev");
  const firstStart = await wrangler.start();
  opts.log(`wrangler dev up at ${firstStart.baseUrl} in ${(firstStart.startupMs / 1000).toFixed(1)} s`);
  const key = await createApiKey(firstStart.baseUrl, opts.account);
  const api = new MailvetApi(firstStart.baseUrl, key);
  return { workDir, stateDir, snapshot, world, wrangler, api, firstStart, vars };
}

/** Removes the bulky parts of a finished run (state, app copy); logs and summaries stay. */
export async function discardState(stack: Stack): Promise<void> {
  await rm(stack.stateDir, { recursive: true, force: true });
  await rm(stack.snapshot.dir, { recursive: true, force: true });
  await rm(join(stack.workDir, "wrangler-tmp"), { recursive: true, force: true });
}
