// Starts a generated world on loopback and writes it to disk (list, ground
// truth, zone, servers) so every figure can be checked by hand afterwards.

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startWorldDns, type WorldDns } from "./dns";
import type { World } from "./generate";
import { type SmtpWorld, startSmtpWorld } from "./smtp";

export interface RunningWorld {
  world: World;
  dns: WorldDns;
  smtp: SmtpWorld;
  /** Fresh greylist and rate-limit memory, zeroed counters: the next tool meets the world as the first did. */
  reset(): void;
  close(): Promise<void>;
}

export async function startWorld(world: World, smtpPort: number): Promise<RunningWorld> {
  const dns = await startWorldDns(world.zone);
  let smtp: SmtpWorld;
  try {
    smtp = await startSmtpWorld({
      servers: world.servers,
      mailboxes: world.mailboxes,
      port: smtpPort,
      rules: world.params,
    });
  } catch (err) {
    await dns.close();
    throw err;
  }
  return {
    world,
    dns,
    smtp,
    reset() {
      smtp.reset();
      dns.resetCount();
    },
    async close() {
      await Promise.all([smtp.close(), dns.close()]);
    },
  };
}

/** Writes list.txt, truth.ndjson, zone.json, servers.json and params.json into `dir`. */
export async function writeWorld(world: World, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const truth = world.list.map((email) => JSON.stringify(world.truth.get(email))).join("\n");
  await Promise.all([
    writeFile(join(dir, "list.txt"), `${world.list.join("\n")}\n`),
    writeFile(join(dir, "truth.ndjson"), `${truth}\n`),
    writeFile(join(dir, "zone.json"), JSON.stringify(world.zone, null, 1)),
    writeFile(
      join(dir, "servers.json"),
      JSON.stringify({ servers: world.servers, deadIps: world.deadIps }, null, 1),
    ),
    writeFile(join(dir, "params.json"), JSON.stringify(world.params, null, 2)),
  ]);
}
