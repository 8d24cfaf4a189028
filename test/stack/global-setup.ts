import type { TestProject } from "vitest/node";
import { startServer } from "./server";

// One mailvet under `wrangler dev` (with the fixture mail world) for every
// test file of the "stack" project; its state lives in the app copy's
// .wrangler/state, where wrangler run in that copy looks by default.
export default async function setup(project: TestProject) {
  const server = await startServer({ name: "stack", stateInApp: true });
  project.provide("stackBaseUrl", server.baseUrl);
  project.provide("stackApiKey", server.apiKey);
  project.provide("stackAppDir", server.appDir);
  project.provide("stackReceiverUrl", server.receiverUrl);
  return () => server.stop();
}

declare module "vitest" {
  export interface ProvidedContext {
    stackBaseUrl: string;
    stackApiKey: string;
    stackAppDir: string;
    stackReceiverUrl: string;
  }
}
