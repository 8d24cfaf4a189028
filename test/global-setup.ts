import type { TestProject } from "vitest/node";
import { startProber } from "../src/prober/server";
import { startDohServer } from "./fixtures/doh-server";
import { startSmtpWorld } from "./fixtures/smtp-server";
import { startWebhookReceiver } from "./fixtures/webhook-receiver";
import { SERVFAIL_NAMES, SMTP_SERVERS, ZONE } from "./fixtures/world";

// Starts the local mail world that the worker under test reaches over loopback.
export default async function setup(project: TestProject) {
  const doh = await startDohServer({ zone: ZONE, servfail: SERVFAIL_NAMES });
  const smtp = await startSmtpWorld({ servers: SMTP_SERVERS });
  const prober = await startProber({
    port: 0,
    secret: "test-prober-secret",
    smtp: {
      port: smtp.port,
      heloName: "prober.mailvet.test",
      mailFrom: "probe@mailvet.test",
      connectTimeoutMs: 1000,
      replyTimeoutMs: 1500,
    },
  });
  project.provide("dohPort", doh.port);
  project.provide("smtpPort", smtp.port);
  project.provide("smtpStatsPort", smtp.statsPort);
  project.provide("proberPort", prober.port);
  const webhooks = await startWebhookReceiver();
  project.provide("webhookPort", webhooks.port);
  return async () => {
    await Promise.all([doh.close(), smtp.close(), prober.close(), webhooks.close()]);
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    dohPort: number;
    smtpPort: number;
    smtpStatsPort: number;
    proberPort: number;
    webhookPort: number;
  }
}
