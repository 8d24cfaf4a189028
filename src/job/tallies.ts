import type { Breakdown } from "../db/browse";

// Running totals of a job's results by verdict and reason, and by domain, kept
// in the job object's SQLite and moved in the same transaction as the job's
// counts. The breakdown of a 100,000-result job is then a read of a few
// small tables, not a scan of D1 (which would hold up every other query of
// the database while it runs).

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS tally_reason (
    result TEXT NOT NULL, reason TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (result, reason)
  );
  CREATE TABLE IF NOT EXISTS tally_domain (
    domain TEXT PRIMARY KEY, total INTEGER NOT NULL,
    deliverable INTEGER NOT NULL, risky INTEGER NOT NULL, undeliverable INTEGER NOT NULL, unknown INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS tally_domain_total ON tally_domain (total DESC, domain);
`;

const VERDICTS = ["deliverable", "risky", "undeliverable", "unknown"] as const;
type Verdict = (typeof VERDICTS)[number];

/** The domain of an address as the breakdown groups it: after the last "@", lower case; "" without one. */
export function domainOf(email: string): string {
  const at = email.lastIndexOf("@");
  return at < 0 ? "" : email.slice(at + 1).toLowerCase();
}

export class ResultTallies {
  constructor(private readonly sql: SqlStorage) {
    this.createTables();
  }

  createTables(): void {
    this.sql.exec(SCHEMA);
  }

  /** Counts newly recorded results; call inside the transaction that records them. */
  add(rows: readonly { email: string; result: string; reason: string }[]): void {
    const reasons = new Map<string, number>();
    const domains = new Map<string, Record<Verdict, number>>();
    for (const row of rows) {
      const key = `${row.result}\u0000${row.reason}`;
      reasons.set(key, (reasons.get(key) ?? 0) + 1);
      const domain = domainOf(row.email);
      const tally = domains.get(domain) ?? { deliverable: 0, risky: 0, undeliverable: 0, unknown: 0 };
      if (VERDICTS.includes(row.result as Verdict)) tally[row.result as Verdict]++;
      domains.set(domain, tally);
    }
    for (const [key, n] of reasons) {
      const [result, reason] = key.split("\u0000");
      this.sql.exec(
        `INSERT INTO tally_reason (result, reason, n) VALUES (?, ?, ?)
         ON CONFLICT (result, reason) DO UPDATE SET n = n + excluded.n`,
        result,
        reason,
        n,
      );
    }
    for (const [domain, t] of domains) {
      this.sql.exec(
        `INSERT INTO tally_domain (domain, total, deliverable, risky, undeliverable, unknown)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (domain) DO UPDATE SET total = total + excluded.total,
           deliverable = deliverable + excluded.deliverable, risky = risky + excluded.risky,
           undeliverable = undeliverable + excluded.undeliverable, unknown = unknown + excluded.unknown`,
        domain,
        t.deliverable + t.risky + t.undeliverable + t.unknown,
        t.deliverable,
        t.risky,
        t.undeliverable,
        t.unknown,
      );
    }
  }

  /** Nothing counted yet (a new job, or one recorded before the tallies existed). */
  empty(): boolean {
    return this.sql.exec("SELECT 1 FROM tally_reason LIMIT 1").toArray().length === 0;
  }

  breakdown(topDomains: number): Breakdown {
    const reasons = this.sql
      .exec<{ result: string; reason: string; count: number }>(
        "SELECT result, reason, n AS count FROM tally_reason ORDER BY n DESC, result, reason",
      )
      .toArray();
    const domains = this.sql
      .exec<Breakdown["domains"][number]>(
        `SELECT domain, total, deliverable, risky, undeliverable, unknown FROM tally_domain
         ORDER BY total DESC, domain LIMIT ?`,
        topDomains,
      )
      .toArray();
    return { reasons, domains };
  }
}
