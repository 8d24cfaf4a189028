import { rm } from "node:fs/promises";
import { createApiKey } from "../../scripts/lib/mailvet-api";
import { cleanupAll } from "../../scripts/lib/processes";
import { type Stack, startStack } from "../../scripts/lib/stack";

// mailvet over real HTTP for the browser: the fixture mail world and
// `wrangler dev` on a fresh state directory (migrations applied), the same
// stack the chaos and load scripts use. Started by the test file itself, so
// it only runs while the browser tests do.

export interface Server {
  baseUrl: string;
  apiKey: string;
  stop(): Promise<void>;
}

export async function startServer(): Promise<Server> {
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
    stack = await startStack({ name: "browser", account: "browser-tests", log: (l) => lines.push(l) });
    const baseUrl = stack.firstStart.baseUrl;
    return { baseUrl, apiKey: await createApiKey(baseUrl, "browser-tests"), stop };
  } catch (err) {
    console.error(`[browser tests] could not start mailvet:\n${lines.join("\n")}`);
    await stop();
    throw err;
  }
}
