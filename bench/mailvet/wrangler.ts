// Starts mailvet under `wrangler dev` (scripts/lib/wrangler.ts, which keeps
// wrangler off the network) with its state in a temporary directory, and
// creates an API key.

import { dirname } from "node:path";
import { createApiKey } from "../../scripts/lib/mailvet-api";
import { WranglerDev } from "../../scripts/lib/wrangler";

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
  vars: Record<string, string>;
  log: (line: string) => void;
}

export async function startMailvet(opts: MailvetStart): Promise<Mailvet> {
  const dev = new WranglerDev({
    appDir: opts.appDir,
    stateDir: opts.stateDir,
    workDir: dirname(opts.stateDir),
    logFile: opts.logFile,
    vars: opts.vars,
  });
  opts.log("mailvet: applying D1 migrations");
  await dev.migrate();
  try {
    const started = await dev.start();
    const key = await createApiKey(started.baseUrl, "bench");
    return {
      baseUrl: started.baseUrl,
      key,
      pid: started.pid,
      logFile: started.logFile,
      stop: () => dev.stop(),
    };
  } catch (err) {
    await dev.stop();
    throw err;
  }
}
