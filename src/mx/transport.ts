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
 * the same session goes to the host's next prober (an RCPT asked twice is
 * harmless: mailvet never sends DATA). Only when every prober rests does the
 * session fail, with a ProberUnavailableError, and the scheduler pause the host.
 */
export function relaySessions(pool: ProberPool, secret: string, smtp: SmtpConfig): SessionRunner {
  return async (plan, signal) => {
    if (pool.size === 0)
      throw new InfrastructureError("prober", "SMTP_MODE=relay needs PROBER_URLS or PROBER_URL");
    const key = plan.targets[0]?.ip ?? "";
    const resting = (last: string) =>
      new ProberUnavailableError(`every prober is resting after a failure${last}`, null);
    const first = pool.pick(key);
    if (first === null) throw resting("");
    let url = first;
    const recipients = await plan.next(plan.maxRcpts);
    // Nothing came (a cancel, the run's end): no call, as a direct session would just say QUIT.
    if (!recipients.length) return { kind: "done", unanswered: [], rcpts: 0, answered: 0, host: null };
    const body = JSON.stringify({
      targets: plan.targets,
      recipients,
      maxRcpts: plan.maxRcpts,
      maxErrors: plan.maxErrors ?? null,
    } satisfies RelaySessionRequest);
    // Every step of the session at its timeout, and then some: an honest prober is never slower.
    const budgetMs =
      (plan.targets.length + 1) * smtp.connectTimeoutMs + (recipients.length + 8) * smtp.replyTimeoutMs;
    for (;;) {
      try {
        const answer = await postSession(
          url,
          body,
          secret,
          AbortSignal.any([signal, AbortSignal.timeout(budgetMs)]),
        );
        pool.markUp(url);
        for (const a of answer.answers) plan.answer(a.address, a.status, a.reply);
        return answer.end;
      } catch (err) {
        // A cancel is not the prober's fault, and a refusal (4xx) is ours: no other prober does better.
        if (!(err instanceof ProberUnavailableError) || signal.aborted) throw err;
        pool.markDown(url, err.message);
        const next = pool.pick(key);
        if (next === null) throw resting(`: ${url}: ${err.message}`);
        url = next;
      }
    }
  };
}

/** One session at one prober; its failure (unreachable, 5xx, timeout) is a ProberUnavailableError. */
async function postSession(
  url: string,
  body: string,
  secret: string,
  signal: AbortSignal,
): Promise<RelaySessionResponse> {
  const init = {
    method: "POST",
    headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
    body,
    signal,
  };
  let res: Response;
  try {
    // A pooled connection the prober had just closed fails at once: one more try, on a fresh one.
    res = await fetch(`${url}/session`, init).catch((err: unknown) => {
      if (signal.aborted) throw err;
      return fetch(`${url}/session`, init);
    });
  } catch (err) {
    if (err instanceof Error && err.name === "TimeoutError")
      throw new ProberUnavailableError("timed out", url);
    throw new ProberUnavailableError(String(err), url);
  }
  if (!res.ok) {
    await res.body?.cancel();
    if (res.status >= 500) throw new ProberUnavailableError(`HTTP ${res.status}`, url);
    throw new InfrastructureError("prober", `prober ${url} answered HTTP ${res.status}`);
  }
  try {
    return (await res.json()) as RelaySessionResponse;
  } catch (err) {
    throw new ProberUnavailableError(`broken answer: ${String(err)}`, url);
  }
}
