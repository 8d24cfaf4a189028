// The fixture mail world of the test suite, started in this process: the DoH
// server over the fixture zone, the scripted SMTP servers (127.0.0.10-19) and
// the webhook receiver. Reused as is, so the scripts and the tests agree on
// what every fixture domain does.

import { startDohServer } from "../../test/fixtures/doh-server";
import { startSmtpWorld } from "../../test/fixtures/smtp-server";
import { startWebhookReceiver } from "../../test/fixtures/webhook-receiver";
import { SERVFAIL_NAMES, SMTP_SERVERS, ZONE } from "../../test/fixtures/world";
import { onCleanup } from "./processes";

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

/** The worker vars that point mailvet at this world, with the short timeouts the tests use. */
export function worldVars(world: MailWorld): Record<string, string> {
  return {
    DOH_URL: `http://127.0.0.1:${world.dohPort}/dns-query`,
    SMTP_PORT: String(world.smtpPort),
    SMTP_CONNECT_TIMEOUT_MS: "1000",
    SMTP_REPLY_TIMEOUT_MS: "1500",
    GREYLIST_DELAY_SECONDS: "1",
    GREYLIST_DEADLINE_SECONDS: "8",
    WEBHOOK_ALLOW_LOOPBACK: "true",
  };
}
