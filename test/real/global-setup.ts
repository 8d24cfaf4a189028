import type { TestProject } from "vitest/node";
import { missingSoftware, startRealWorld } from "./daemons";

// Starts the real mail software for the "real" project. Where it cannot run
// (packages missing, not root), the suite is skipped with one line saying why.
export default async function setup(project: TestProject) {
  const missing = missingSoftware();
  if (missing) {
    console.log(`real mail software suite skipped: ${missing}`);
    project.provide("realSkip", missing);
    project.provide("realSmtpPort", 0);
    project.provide("realDohUrl", "http://127.0.0.1:9/dns-query");
    return;
  }
  const world = await startRealWorld();
  project.provide("realSkip", "");
  project.provide("realSmtpPort", world.smtpPort);
  project.provide("realDohUrl", world.dohUrl);
  return () => world.stop();
}

declare module "vitest" {
  export interface ProvidedContext {
    realSkip: string;
    realSmtpPort: number;
    realDohUrl: string;
  }
}
