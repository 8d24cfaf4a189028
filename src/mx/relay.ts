// Relay mode for direct validation (a few addresses, no job): Workers cannot
// open port 25, so whole-domain probes go to the prober's /probe over HTTP.
// Requests made in the same moment travel in one call. Host objects use
// /session instead (transport.ts).

import type { ProbeDomainRequest, ProbeDomainResult, SmtpConfig } from "../verify/smtp";
import type { RelayRequestBody, RelayResponseBody } from "./protocol";

export interface RelayConfig {
  /** Base URL of the prober, without /probe. */
  url: string;
  secret: string;
  /** The worker's SMTP timeouts: they bound how long an honest prober can take. */
  smtp: SmtpConfig;
}

// However the budget adds up, a call that hangs this long is broken.
const MAX_RELAY_MS = 10 * 60_000;

export class RelayClient {
  private queued: {
    req: ProbeDomainRequest;
    resolve: (result: ProbeDomainResult) => void;
    reject: (err: unknown) => void;
  }[] = [];

  constructor(private readonly cfg: RelayConfig) {}

  /** Rejects when the prober cannot be reached or answers badly: the caller reports "error". */
  probe(req: ProbeDomainRequest): Promise<ProbeDomainResult> {
    return new Promise((resolve, reject) => {
      this.queued.push({ req, resolve, reject });
      // Whatever else is queued before the next tick rides along.
      if (this.queued.length === 1) setTimeout(() => this.flush(), 0);
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queued;
    this.queued = [];
    try {
      const results = await postProbe(
        batch.map((item) => item.req),
        this.cfg,
      );
      for (const [i, item] of batch.entries()) item.resolve(results[i] as ProbeDomainResult);
    } catch (err) {
      for (const item of batch) item.reject(err);
    }
  }
}

async function postProbe(requests: ProbeDomainRequest[], cfg: RelayConfig): Promise<ProbeDomainResult[]> {
  if (!cfg.url) throw new Error("SMTP_MODE=relay needs PROBER_URL");
  const body: RelayRequestBody = { requests };
  const res = await fetch(`${cfg.url.replace(/\/+$/, "")}/probe`, {
    method: "POST",
    headers: { authorization: `Bearer ${cfg.secret}`, "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(
      Math.min(MAX_RELAY_MS, Math.max(...requests.map((r) => budgetMs(r, cfg.smtp)))),
    ),
  });
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`prober answered HTTP ${res.status}`);
  }
  const answer = (await res.json()) as Partial<RelayResponseBody>;
  if (!Array.isArray(answer.results) || answer.results.length !== requests.length) {
    throw new Error("prober answered with a malformed body");
  }
  return answer.results;
}

/** The longest an honest prober can take: every step of every session at its timeout. */
function budgetMs(req: ProbeDomainRequest, smtp: SmtpConfig): number {
  const targets = req.hosts.reduce((n, host) => n + host.addresses.length, 0);
  const rcpts = req.addresses.length + 1; // and the catch-all probe
  const sessions = 2 + Math.ceil(rcpts / (smtp.maxRcptPerSession ?? 100));
  const connecting = targets * (smtp.connectTimeoutMs + smtp.replyTimeoutMs);
  const commands = (rcpts + sessions * 5) * smtp.replyTimeoutMs;
  return connecting * sessions + commands;
}
