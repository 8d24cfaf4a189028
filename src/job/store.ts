// The job object's own SQLite: the job's state, its input, and where each
// address stands. An address is waiting, at a host (handed to a host object
// for SMTP), answered (its result row ready for D1) or recorded (in D1).

import type { NewResult } from "../db/results";
import type { InputEntry } from "../ingest/entries";
import { chunk, rowsPerStatement, tuples } from "../lib/sql";
import type { DnsResult } from "../verify/types";

export const Stage = { Waiting: 0, Recorded: 1, AtHost: 2, Answered: 3 } as const;
export type Stage = (typeof Stage)[keyof typeof Stage];

export type WaitingAddress = {
  position: number;
  email: string;
  /** When our own infrastructure first failed this address (it was deferred), or null. */
  deferredSince: number | null;
  /** How often it was deferred: the next wait doubles with each. */
  deferrals: number;
};

export interface AnsweredRow {
  position: number;
  row: NewResult;
}

// `done` is the stage (its name predates the stages: 0 and 1 kept their meaning).
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS meta (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS input (
    position INTEGER PRIMARY KEY, email TEXT NOT NULL, extra TEXT, done INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX IF NOT EXISTS input_pending ON input (done, position);
  CREATE TABLE IF NOT EXISTS answered (position INTEGER PRIMARY KEY, row TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS domain_dns (domain TEXT PRIMARY KEY, dns TEXT NOT NULL);
`;

export class JobStore {
  private readonly dnsMemo = new Map<string, DnsResult>();
  /**
   * The parsed state, read once and kept until the next save: the run loop
   * and every poll read it many times between two saves. Frozen, so no caller
   * can change it behind storage's back.
   */
  private state: unknown = null;

  constructor(private readonly sql: SqlStorage) {
    this.createTables();
  }

  createTables(): void {
    this.state = null;
    this.sql.exec(SCHEMA);
    const columns = this.sql.exec<{ name: string }>("PRAGMA table_info(input)").toArray();
    if (!columns.some((c) => c.name === "host")) {
      this.sql.exec("ALTER TABLE input ADD COLUMN host TEXT");
      this.sql.exec("ALTER TABLE input ADD COLUMN sent_at INTEGER");
    }
    // A waiting address our infrastructure failed is not due again before due_at.
    if (!columns.some((c) => c.name === "due_at")) {
      this.sql.exec("ALTER TABLE input ADD COLUMN due_at INTEGER");
      this.sql.exec("ALTER TABLE input ADD COLUMN deferred_since INTEGER");
      this.sql.exec("ALTER TABLE input ADD COLUMN deferrals INTEGER NOT NULL DEFAULT 0");
    }
  }

  loadState<T>(): T | null {
    if (this.state !== null) return this.state as T;
    const row = this.sql.exec<{ state: string }>("SELECT state FROM meta WHERE id = 1").toArray()[0];
    if (!row) return null;
    this.state = deepFreeze(JSON.parse(row.state));
    return this.state as T;
  }

  /** Drops the kept state first: if the write (or its transaction) fails, the next load reads storage. */
  saveState(state: unknown): void {
    this.state = null;
    this.sql.exec("INSERT OR REPLACE INTO meta (id, state) VALUES (1, ?)", JSON.stringify(state));
  }

  addInput(entries: readonly InputEntry[]): void {
    const numbered = entries.map((entry, position) => ({ position, entry }));
    for (const part of chunk(numbered, rowsPerStatement(3))) {
      this.sql.exec(
        `INSERT INTO input (position, email, extra) VALUES ${tuples(3, part.length)}`,
        ...part.flatMap(({ position, entry }) => [
          position,
          entry.email,
          entry.extra ? JSON.stringify(entry.extra) : null,
        ]),
      );
    }
  }

  /** Waiting addresses that are due (not deferred past `now`). */
  waiting(limit: number, now = Date.now()): WaitingAddress[] {
    return this.sql
      .exec<WaitingAddress>(
        `SELECT position, email, deferred_since AS deferredSince, deferrals FROM input
         WHERE done = 0 AND (due_at IS NULL OR due_at <= ?) ORDER BY position LIMIT ?`,
        now,
        limit,
      )
      .toArray();
  }

  anyDue(now: number): boolean {
    return (
      this.sql
        .exec("SELECT 1 FROM input WHERE done = 0 AND (due_at IS NULL OR due_at <= ?) LIMIT 1", now)
        .toArray().length > 0
    );
  }

  /** When the first deferred address falls due again; null when none waits. */
  nextDeferred(): number | null {
    return this.sql
      .exec<{ t: number | null }>("SELECT MIN(due_at) AS t FROM input WHERE done = 0 AND due_at IS NOT NULL")
      .one().t;
  }

  /** Our own infrastructure failed these: they wait until `dueAt` and count one more deferral. */
  defer(positions: readonly number[], dueAt: number, now: number): void {
    for (const part of chunk(positions, rowsPerStatement(1) - 2)) {
      this.sql.exec(
        `UPDATE input SET done = 0, host = NULL, due_at = ?, deferred_since = COALESCE(deferred_since, ?),
         deferrals = deferrals + 1 WHERE done IN (0, 2) AND position IN ${tuples(part.length, 1)}`,
        dueAt,
        now,
        ...part,
      );
    }
  }

  address(position: number): { email: string; extra: string | null; stage: Stage } | null {
    const row = this.sql
      .exec<{ email: string; extra: string | null; done: number }>(
        "SELECT email, extra, done FROM input WHERE position = ?",
        position,
      )
      .toArray()[0];
    return row ? { email: row.email, extra: row.extra, stage: row.done as Stage } : null;
  }

  /** Marked before the call that hands them over, so a cancel during the call reaches that host. */
  sentToHost(positions: readonly number[], host: string, now: number): void {
    for (const part of chunk(positions, rowsPerStatement(1) - 2)) {
      this.sql.exec(
        `UPDATE input SET done = 2, host = ?, sent_at = ?, due_at = NULL WHERE done = 0 AND position IN ${tuples(part.length, 1)}`,
        host,
        now,
        ...part,
      );
    }
  }

  answer(position: number, row: NewResult): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO answered (position, row) VALUES (?, ?)",
      position,
      JSON.stringify(row),
    );
    this.sql.exec("UPDATE input SET done = 3, host = NULL WHERE position = ?", position);
  }

  answered(limit: number): AnsweredRow[] {
    return this.sql
      .exec<{ position: number; row: string }>(
        "SELECT position, row FROM answered ORDER BY position LIMIT ?",
        limit,
      )
      .toArray()
      .map((r) => ({ position: r.position, row: JSON.parse(r.row) as NewResult }));
  }

  recorded(positions: readonly number[]): void {
    for (const part of chunk(positions, rowsPerStatement(1))) {
      this.sql.exec(`UPDATE input SET done = 1 WHERE position IN ${tuples(part.length, 1)}`, ...part);
      this.sql.exec(`DELETE FROM answered WHERE position IN ${tuples(part.length, 1)}`, ...part);
    }
  }

  /** Whether any address is in `stage`. */
  any(stage: Stage): boolean {
    return this.sql.exec("SELECT 1 FROM input WHERE done = ? LIMIT 1", stage).toArray().length > 0;
  }

  count(stage: Stage): number {
    if (stage === Stage.Answered)
      return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM answered").one().n;
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM input WHERE done = ?", stage).one().n;
  }

  /** The hosts holding addresses of this job right now. */
  hostsInUse(): string[] {
    return this.sql
      .exec<{ host: string }>("SELECT DISTINCT host FROM input WHERE done = 2 AND host IS NOT NULL")
      .toArray()
      .map((r) => r.host);
  }

  /** The `limit` hosts holding most of this job's addresses, busiest first. */
  hostLoad(limit: number): { host: string; addresses: number }[] {
    return this.sql
      .exec<{ host: string; addresses: number }>(
        `SELECT host, COUNT(*) AS addresses FROM input WHERE done = 2 AND host IS NOT NULL
         GROUP BY host ORDER BY addresses DESC, host LIMIT ?`,
        limit,
      )
      .toArray();
  }

  /** Addresses at a host go back to waiting (a pause, or a host that lost them). */
  recall(sentBefore = Number.POSITIVE_INFINITY): number {
    return this.sql.exec(
      "UPDATE input SET done = 0, host = NULL WHERE done = 2 AND (sent_at IS NULL OR sent_at < ?)",
      sentBefore,
    ).rowsWritten;
  }

  rememberDns(domain: string, dns: DnsResult): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO domain_dns (domain, dns) VALUES (?, ?)",
      domain,
      JSON.stringify(dns),
    );
  }

  dns(domain: string): DnsResult | null {
    const known = this.dnsMemo.get(domain);
    if (known) return known;
    const row = this.sql
      .exec<{ dns: string }>("SELECT dns FROM domain_dns WHERE domain = ?", domain)
      .toArray()[0];
    if (!row) return null;
    const dns = JSON.parse(row.dns) as DnsResult;
    if (this.dnsMemo.size >= DNS_MEMO) this.dnsMemo.clear();
    this.dnsMemo.set(domain, dns);
    return dns;
  }
}

/** Domains whose DNS answer is kept parsed in memory (every answer from a host needs its domain's). */
const DNS_MEMO = 10_000;

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
