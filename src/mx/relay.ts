// Relay mode for direct validation (a few addresses, no job): Workers cannot
// open port 25, so whole-domain probes go to the prober's /probe over HTTP.
// Requests made in the same moment travel in one call per prober; each domain
// goes to its primary exchanger's prober (prober-pool.ts), and to the next one
// when that prober fails. Host objects use /session instead (transport.ts).

import { InfrastructureError, ProberUnavailableError } from "../lib/infrastructure";
import type { ProbeDomainRequest, ProbeDomainResult, SmtpConfig } from "../verify/smtp";
import type { ProberPool } from "./prober-pool";
import type { RelayRequestBody, RelayResponseBody } from "./protocol";

export interface RelayConfig {
  /** The probers (base URLs, without /probe). */
  pool: ProberPool;
  secret: string;
  /** The worker's SMTP timeouts: they bound how long an honest prober can take. */
  smtp: SmtpConfig;
}

// However the budget adds up, a call that hangs this long is broken.
const MAX_RELAY_MS = 10 * 60_000;

export class RelayClient {
  private queued: Queued[] = [];

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
    await this.send(batch);
  }

  /** Each request to its prober; a prober that fails is rested and its requests go to the next. */
  private async send(items: Queued[]): Promise<void> {
    const { pool } = this.cfg;
    const byProber = new Map<string | null, Queued[]>();
    for (const item of items) {
      const url = pool.pick(probeKey(item.req));
      byProber.set(url, [...(byProber.get(url) ?? []), item]);
    }
    await Promise.all(
      [...byProber].map(async ([url, group]) => {
        if (url === null) {
          const err =
            pool.size === 0
              ? new InfrastructureError("prober", "SMTP_MODE=relay needs PROBER_URLS or PROBER_URL")
              : new ProberUnavailableError("every prober is resting after a failure", null);
          for (const item of group) item.reject(err);
          return;
        }
        try {
          const results = await postProbe(
            url,
            group.map((item) => item.req),
            this.cfg,
          );
          pool.markUp(url);
          for (const [i, item] of group.entries()) item.resolve(results[i] as ProbeDomainResult);
        } catch (err) {
          if (err instanceof ProberUnavailableError) {
            pool.markDown(url, err.message);
            return this.send(group);
          }
          for (const item of group) item.reject(err);
        }
      }),
    );
  }
}

interface Queued {
  req: ProbeDomainRequest;
  resolve: (result: ProbeDomainResult) => void;
  reject: (err: unknown) => void;
}

/** A domain's probes go to the prober of its primary exchanger, as its host object's sessions do. */
function probeKey(req: ProbeDomainRequest): string {
  const primary = [...req.hosts].sort((a, b) => a.preference - b.preference)[0];
  return primary?.addresses[0] ?? primary?.host ?? req.domain;
}

async function postProbe(
  url: string,
  requests: ProbeDomainRequest[],
  cfg: RelayConfig,
): Promise<ProbeDomainResult[]> {
  const body: RelayRequestBody = { requests };
  let res: Response;
  try {
    res = await fetch(`${url}/probe`, {
      method: "POST",
      headers: { authorization: `Bearer ${cfg.secret}`, "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(
        Math.min(MAX_RELAY_MS, Math.max(...requests.map((r) => budgetMs(r, cfg.smtp)))),
      ),
    });
  } catch (err) {
    throw new ProberUnavailableError(
      err instanceof Error && err.name === "TimeoutError" ? "timed out" : String(err),
      url,
    );
  }
  if (!res.ok) {
    await res.body?.cancel();
    if (res.status >= 500) throw new ProberUnavailableError(`HTTP ${res.status}`, url);
    throw new InfrastructureError("prober", `prober ${url} answered HTTP ${res.status}`);
  }
  const answer = (await res.json()) as Partial<RelayResponseBody>;
  if (!Array.isArray(answer.results) || answer.results.length !== requests.length) {
    throw new InfrastructureError("prober", `prober ${url} answered with a malformed body`);
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
