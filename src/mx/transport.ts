// How a host object reaches its server: straight over a socket (local
// development, where port 25 is open), or through the prober over HTTP
// (production: Cloudflare forbids outbound port 25). Both run the same
// session code; the prober runs it on its side of the wire.

import { InfrastructureError, ProberUnavailableError } from "../lib/infrastructure";
import type { SmtpConfig } from "../verify/smtp";
import { runSession, type SessionEnd, type SessionPlan } from "../verify/smtp-session";
import { connectSocket } from "../verify/smtp-socket";
import type { ProberPool } from "./prober-pool";
import type { RelaySessionRequest, RelaySessionResponse } from "./protocol";

export type SessionRunner = (plan: SessionPlan, signal: AbortSignal) => Promise<SessionEnd>;

export function directSessions(smtp: SmtpConfig): SessionRunner {
  return (plan) => runSession(plan, smtp, connectSocket);
}

/**
 * Relay: the recipients of one session go to the host's prober (sticky, see
 * prober-pool.ts) in one call; its answers come back with the session's end.
 * Aborting the call (a cancel) makes the prober stop before its next RCPT.
 * A prober that cannot be reached, answers 5xx or times out is rested, and
 * the session fails with a ProberUnavailableError: the scheduler puts its
 * recipients back, and the next session goes to the host's next prober.
 */
export function relaySessions(pool: ProberPool, secret: string, smtp: SmtpConfig): SessionRunner {
  return async (plan, signal) => {
    if (pool.size === 0)
      throw new InfrastructureError("prober", "SMTP_MODE=relay needs PROBER_URLS or PROBER_URL");
    const key = plan.targets[0]?.ip ?? "";
    const url = pool.pick(key);
    if (url === null) throw new ProberUnavailableError("every prober is resting after a failure", null);
    const recipients = await plan.next(plan.maxRcpts);
    // Nothing came (a cancel, the run's end): no call, as a direct session would just say QUIT.
    if (!recipients.length) return { kind: "done", unanswered: [], rcpts: 0, answered: 0, host: null };
    const body: RelaySessionRequest = {
      targets: plan.targets,
      recipients,
      maxRcpts: plan.maxRcpts,
      maxErrors: plan.maxErrors ?? null,
    };
    // Every step of the session at its timeout, and then some: an honest prober is never slower.
    const budgetMs =
      (plan.targets.length + 1) * smtp.connectTimeoutMs + (recipients.length + 8) * smtp.replyTimeoutMs;
    const failed = (why: string) => {
      pool.markDown(url, why);
      return new ProberUnavailableError(`prober ${url}: ${why}`, url);
    };
    let answer: RelaySessionResponse;
    try {
      const init = {
        method: "POST",
        headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.any([signal, AbortSignal.timeout(budgetMs)]),
      };
      // A pooled connection the prober had just closed fails at once: one more try, on a fresh one.
      const res = await fetch(`${url}/session`, init).catch((err: unknown) => {
        if (init.signal.aborted) throw err;
        return fetch(`${url}/session`, init);
      });
      if (res.status >= 500) {
        await res.body?.cancel();
        throw failed(`HTTP ${res.status}`);
      }
      if (!res.ok) {
        // Not the prober's failure but ours (a wrong secret, a body it refuses): no other prober does better.
        await res.body?.cancel();
        throw new InfrastructureError("prober", `prober ${url} answered HTTP ${res.status}`);
      }
      answer = (await res.json()) as RelaySessionResponse;
    } catch (err) {
      // A cancel is not the prober's fault.
      if (err instanceof InfrastructureError || signal.aborted) throw err;
      throw failed(err instanceof Error && err.name === "TimeoutError" ? "timed out" : String(err));
    }
    pool.markUp(url);
    for (const a of answer.answers) plan.answer(a.address, a.status, a.reply);
    return answer.end;
  };
}
