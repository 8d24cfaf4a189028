import { rm } from "node:fs/promises";
import { createApiKey } from "../../scripts/lib/mailvet-api";
import { cleanupAll } from "../../scripts/lib/processes";
import { type Stack, startStack } from "../../scripts/lib/stack";

// mailvet over real HTTP: the fixture mail world and `wrangler dev` on a fresh
// state directory (migrations applied), the same stack the chaos and load
// scripts use. Started by the tests that need it, so it only runs while they do.

export interface Server {
  baseUrl: string;
  apiKey: string;
  /** The copy of the app wrangler serves; its .wrangler/state is the server's state when `stateInApp`. */
  appDir: string;
  /** wrangler dev's output so far (for a failing test's message). */
  logFile: string;
  /** The fixture mail world's webhook receiver. */
  receiverUrl: string;
  stop(): Promise<void>;
}

export interface ServerOptions {
  /** Names the work directory and the account. */
  name: string;
  stateInApp?: boolean;
  vars?: Record<string, string>;
}

export async function startServer(opts: ServerOptions = { name: "browser" }): Promise<Server> {
  const lines: string[] = [];
  let stack: Stack | undefined;
  const stop = async () => {
    if (stack) {
      await stack.wrangler.stop();
      await stack.world.close();
      await rm(stack.workDir, { recursive: true, force: true });
    }
    await cleanupAll();
  };
  try {
    stack = await startStack({
      name: opts.name,
      account: `${opts.name}-tests`,
      stateInApp: opts.stateInApp,
      vars: opts.vars,
      log: (l) => lines.push(l),
    });
    const baseUrl = stack.firstStart.baseUrl;
    return {
      baseUrl,
      apiKey: await createApiKey(baseUrl, `${opts.name}-tests`),
      appDir: stack.snapshot.dir,
      logFile: stack.firstStart.logFile,
      receiverUrl: stack.world.receiverUrl,
      stop,
    };
  } catch (err) {
    console.error(`[${opts.name} tests] could not start mailvet:\n${lines.join("\n")}`);
    await stop();
    throw err;
  }
}
