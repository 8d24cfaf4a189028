// Per domain: does the server accept any recipient? Learned by one random
// address per domain, sent only once a real address was accepted (or for a
// disposable domain, whose real addresses are never sent). The same probe
// address is reused until it is answered, because a greylisting server
// would greylist a new random name every time. Answers are kept for a day.

import { catchAllProbeAddress } from "../verify/smtp";
import type { MailboxStatus } from "../verify/types";
import { retryDelayMs } from "./retry";

export const CATCH_ALL_SCHEMA = `
  CREATE TABLE IF NOT EXISTS domain (
    domain TEXT PRIMARY KEY,
    -- 1 accepts anything, 0 does not, NULL unknown
    catch_all INTEGER,
    checked_at INTEGER NOT NULL DEFAULT 0,
    probe TEXT,
    -- when the probe may be sent (again); NULL when no probe is wanted
    probe_due INTEGER,
    probe_attempts INTEGER NOT NULL DEFAULT 0,
    -- the probe got an answer that settles nothing (blocked, error): stop asking until the TTL
    inconclusive INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX IF NOT EXISTS domain_probe_due ON domain (probe_due);
`;

const TTL_MS = 24 * 60 * 60_000;

/** What is known of a domain: true / false, "unknown" while a probe is pending, "inconclusive" when it cannot be learned. */
export type CatchAllState = boolean | "unknown" | "inconclusive";

export class CatchAllBook {
  constructor(private readonly sql: SqlStorage) {}

  state(domain: string, now: number): CatchAllState {
    const row = this.sql
      .exec<{ catch_all: number | null; checked_at: number; inconclusive: number }>(
        "SELECT catch_all, checked_at, inconclusive FROM domain WHERE domain = ?",
        domain,
      )
      .toArray()[0];
    if (!row || row.checked_at <= now - TTL_MS) return "unknown";
    if (row.catch_all !== null) return row.catch_all === 1;
    return row.inconclusive ? "inconclusive" : "unknown";
  }

  /** Records what a profile already knows (a provider that accepts everything). */
  know(domain: string, catchAll: boolean, now: number): void {
    this.sql.exec(
      `INSERT INTO domain (domain, catch_all, checked_at, probe_due) VALUES (?, ?, ?, NULL)
       ON CONFLICT (domain) DO UPDATE SET catch_all = excluded.catch_all, checked_at = excluded.checked_at, probe_due = NULL`,
      domain,
      catchAll ? 1 : 0,
      now,
    );
  }

  /** Asks for a probe of `domain` unless one is pending or the answer is known. */
  want(domain: string, now: number): void {
    if (this.state(domain, now) !== "unknown") return;
    const probe = catchAllProbeAddress(domain);
    this.sql.exec(
      `INSERT INTO domain (domain, catch_all, checked_at, probe, probe_due, inconclusive) VALUES (?, NULL, ?, ?, ?, 0)
       ON CONFLICT (domain) DO UPDATE SET
         probe = COALESCE(domain.probe, excluded.probe),
         probe_due = COALESCE(domain.probe_due, excluded.probe_due),
         checked_at = CASE WHEN domain.checked_at <= ? THEN excluded.checked_at ELSE domain.checked_at END,
         catch_all = CASE WHEN domain.checked_at <= ? THEN NULL ELSE domain.catch_all END,
         inconclusive = CASE WHEN domain.checked_at <= ? THEN 0 ELSE domain.inconclusive END`,
      domain,
      now,
      probe,
      now,
      now - TTL_MS,
      now - TTL_MS,
      now - TTL_MS,
    );
  }

  /** Probe addresses due now, not already in a session. */
  dueProbes(now: number, busy: ReadonlySet<string>, limit: number): { domain: string; probe: string }[] {
    return this.sql
      .exec<{ domain: string; probe: string }>(
        "SELECT domain, probe FROM domain WHERE probe_due IS NOT NULL AND probe_due <= ? ORDER BY probe_due LIMIT ?",
        now,
        limit + busy.size,
      )
      .toArray()
      .filter((row) => !busy.has(row.probe))
      .slice(0, limit);
  }

  nextProbeDue(): number | null {
    return this.sql.exec<{ due: number | null }>("SELECT MIN(probe_due) AS due FROM domain").one().due;
  }

  /**
   * Records the server's answer to a probe. Returns the domain's state when
   * the answer settles it, or null when the probe must be asked again later.
   */
  answer(domain: string, status: MailboxStatus, now: number, ceilingMs: number): CatchAllState | null {
    if (status === "greylisted" || status === "rate_limited" || status === "timeout") {
      this.sql.exec(
        `UPDATE domain SET probe_attempts = probe_attempts + 1,
           probe_due = ? + ?
         WHERE domain = ?`,
        now,
        retryDelayMs(this.attempts(domain) + 1, ceilingMs),
        domain,
      );
      return null;
    }
    const catchAll = status === "exists" ? 1 : status === "not_found" || status === "disabled" ? 0 : null;
    this.sql.exec(
      `UPDATE domain SET catch_all = ?, checked_at = ?, probe = NULL, probe_due = NULL, probe_attempts = 0,
         inconclusive = ? WHERE domain = ?`,
      catchAll,
      now,
      catchAll === null ? 1 : 0,
      domain,
    );
    return catchAll === null ? "inconclusive" : catchAll === 1;
  }

  /** Stops probing a domain nobody waits for any more. */
  forget(domain: string): void {
    this.sql.exec("UPDATE domain SET probe_due = NULL WHERE domain = ? AND catch_all IS NULL", domain);
  }

  private attempts(domain: string): number {
    return (
      this.sql
        .exec<{ n: number }>("SELECT probe_attempts AS n FROM domain WHERE domain = ?", domain)
        .toArray()[0]?.n ?? 0
    );
  }
}
