// How a host object reaches its server: straight over a socket (local
// development, where port 25 is open), or through the prober over HTTP
// (production: Cloudflare forbids outbound port 25). Both run the same
// session code; the prober runs it on its side of the wire.

import { InfrastructureError } from "../lib/infrastructure";
import type { SmtpConfig } from "../verify/smtp";
import { runSession, type SessionEnd, type SessionPlan } from "../verify/smtp-session";
import { connectSocket } from "../verify/smtp-socket";
import type { RelaySessionRequest, RelaySessionResponse } from "./protocol";

export type SessionRunner = (plan: SessionPlan, signal: AbortSignal) => Promise<SessionEnd>;

export function directSessions(smtp: SmtpConfig): SessionRunner {
  return (plan) => runSession(plan, smtp, connectSocket);
}

/**
 * Relay: the recipients of one session go to the prober in one call; its
 * answers come back with the session's end. Aborting the call (a cancel)
 * makes the prober stop before its next RCPT.
 */
export function relaySessions(url: string, secret: string, smtp: SmtpConfig): SessionRunner {
  return async (plan, signal) => {
    if (!url) throw new InfrastructureError("prober", "SMTP_MODE=relay needs PROBER_URL");
    const recipients = await plan.next(plan.maxRcpts);
    const body: RelaySessionRequest = {
      targets: plan.targets,
      recipients,
      maxRcpts: plan.maxRcpts,
      maxErrors: plan.maxErrors ?? null,
    };
    // Every step of the session at its timeout, and then some: an honest prober is never slower.
    const budgetMs =
      (plan.targets.length + 1) * smtp.connectTimeoutMs + (recipients.length + 8) * smtp.replyTimeoutMs;
    let answer: RelaySessionResponse;
    try {
      const res = await fetch(`${url.replace(/\/+$/, "")}/session`, {
        method: "POST",
        headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.any([signal, AbortSignal.timeout(budgetMs)]),
      });
      if (!res.ok) {
        await res.body?.cancel();
        throw new InfrastructureError("prober", `prober answered HTTP ${res.status}`);
      }
      answer = (await res.json()) as RelaySessionResponse;
    } catch (err) {
      // Connection refused, a timeout, a broken body: the prober failed, the mail server said nothing.
      if (err instanceof InfrastructureError) throw err;
      throw new InfrastructureError("prober", `prober call failed: ${String(err)}`, { cause: err });
    }
    for (const a of answer.answers) plan.answer(a.address, a.status, a.reply);
    return answer.end;
  };
}
