import type { TestProject } from "vitest/node";
import { startDohServer } from "./fixtures/doh-server";
import { ProberProcess, startProberControl } from "./fixtures/prober-processes";
import { startSmtpWorld } from "./fixtures/smtp-server";
import { startWebhookReceiver } from "./fixtures/webhook-receiver";
import { PROBER_SOURCES, SERVFAIL_NAMES, SMTP_SERVERS, ZONE } from "./fixtures/world";

// Starts the local mail world that the worker under test reaches over loopback:
// a DoH server, the SMTP servers, two probers (child processes: the relay
// project's pool) with a control server to kill and restart them, and a
// webhook receiver.
export default async function setup(project: TestProject) {
  const doh = await startDohServer({ zone: ZONE, servfail: SERVFAIL_NAMES });
  const smtp = await startSmtpWorld({ servers: SMTP_SERVERS });
  const probers = PROBER_SOURCES.map(
    (source, i) =>
      new ProberProcess({
        name: `p${i + 1}`,
        secret: "test-prober-secret",
        source,
        smtpPort: smtp.port,
        heloName: "prober.mailvet.test",
        connectTimeoutMs: 1000,
        replyTimeoutMs: 1500,
      }),
  );
  const needsProbers = project.name === "relay";
  if (needsProbers) await Promise.all(probers.map((p) => p.start()));
  const control = await startProberControl(probers);
  project.provide("dohPort", doh.port);
  project.provide("smtpPort", smtp.port);
  project.provide("smtpStatsPort", smtp.statsPort);
  project.provide("proberPorts", probers.map((p) => p.port).join(","));
  project.provide("proberControlPort", control.port);
  const webhooks = await startWebhookReceiver();
  project.provide("webhookPort", webhooks.port);
  return async () => {
    await Promise.all([
      doh.close(),
      smtp.close(),
      control.close(),
      webhooks.close(),
      ...probers.map((p) => p.stop()),
    ]);
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    dohPort: number;
    smtpPort: number;
    smtpStatsPort: number;
    /** The probers' ports, comma-separated (0 where a project starts none). */
    proberPorts: string;
    proberControlPort: number;
    webhookPort: number;
  }
}
