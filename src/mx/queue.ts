// The host object's durable queue of recipients, in its own SQLite. Every
// job's addresses for this host wait here until they have a final answer;
// greylisted ones wait with a due time, accepted ones on a domain whose
// catch-all status is not known yet are held. Jobs are served round-robin.

import { chunk, rowsPerStatement, tuples } from "../lib/sql";
import type { MxHost, SmtpResult } from "../verify/types";
import type { HostRecipient } from "./protocol";

export interface QueuedRecipient {
  job: string;
  position: number;
  address: string;
  domain: string;
  mxName: string;
  fallback: MxHost[];
  probeOnly: boolean;
  deadlineAt: number;
  attempts: number;
  breaks: number;
  /** The last non-final answer (greylisted, or accepted while held). */
  last: SmtpResult | null;
  /** The job's run the recipient belongs to (see HostRecipient.epoch). */
  epoch: number;
}

type Row = {
  job: string;
  position: number;
  address: string;
  domain: string;
  mx_name: string;
  fallback: string;
  probe_only: number;
  deadline_at: number;
  attempts: number;
  breaks: number;
  last: string | null;
  epoch: number;
};

export const QUEUE_SCHEMA = `
  CREATE TABLE IF NOT EXISTS rcpt (
    job TEXT NOT NULL, position INTEGER NOT NULL, address TEXT NOT NULL, domain TEXT NOT NULL,
    mx_name TEXT NOT NULL, fallback TEXT NOT NULL, probe_only INTEGER NOT NULL,
    deadline_at INTEGER NOT NULL, due_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, breaks INTEGER NOT NULL DEFAULT 0,
    -- 1 while waiting for the domain's catch-all answer
    held INTEGER NOT NULL DEFAULT 0,
    last TEXT,
    epoch INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (job, position)
  );
  CREATE INDEX IF NOT EXISTS rcpt_due ON rcpt (held, due_at);
  CREATE INDEX IF NOT EXISTS rcpt_held ON rcpt (domain, held);
  CREATE INDEX IF NOT EXISTS rcpt_deadline ON rcpt (held, deadline_at);
`;

const COLUMNS = 10;
const SELECTED =
  "job, position, address, domain, mx_name, fallback, probe_only, deadline_at, attempts, breaks, last, epoch";

export const queueKey = (r: { job: string; position: number }) => `${r.job}#${r.position}`;

export class RecipientQueue {
  constructor(private readonly sql: SqlStorage) {
    // Queues stored before recipients carried their job's epoch.
    const columns = sql.exec<{ name: string }>("PRAGMA table_info(rcpt)").toArray();
    if (!columns.some((c) => c.name === "epoch"))
      sql.exec("ALTER TABLE rcpt ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0");
  }

  /** Stores new recipients; one already queued (a replayed call) is left as it is. */
  add(items: readonly HostRecipient[], now: number): void {
    for (const part of chunk(items, rowsPerStatement(COLUMNS))) {
      const params = part.flatMap((r) => [
        r.job,
        r.position,
        r.address,
        r.domain,
        r.mx.host,
        JSON.stringify(r.fallback),
        r.probeOnly ? 1 : 0,
        r.deadlineAt,
        now,
        r.epoch ?? 0,
      ]);
      this.sql.exec(
        `INSERT OR IGNORE INTO rcpt (job, position, address, domain, mx_name, fallback, probe_only, deadline_at, due_at, epoch)
         VALUES ${tuples(COLUMNS, part.length)}`,
        ...params,
      );
    }
  }

  /**
   * Up to `limit` recipients due now, not in `busy`, taking turns between
   * jobs so that a small job is not stuck behind a large one.
   */
  due(now: number, limit: number, busy: ReadonlySet<string>): QueuedRecipient[] {
    const jobs = this.sql
      .exec<{ job: string }>(
        "SELECT job FROM rcpt WHERE held = 0 AND due_at <= ? GROUP BY job ORDER BY MIN(due_at)",
        now,
      )
      .toArray();
    const lanes = jobs.map(({ job }) =>
      this.sql
        .exec<Row>(
          `SELECT ${SELECTED}
           FROM rcpt WHERE job = ? AND held = 0 AND due_at <= ? ORDER BY due_at, position LIMIT ?`,
          job,
          now,
          limit + busy.size,
        )
        .toArray()
        .filter((row) => !busy.has(queueKey(row))),
    );
    const out: QueuedRecipient[] = [];
    for (let i = 0; out.length < limit && lanes.some((lane) => i < lane.length); i++) {
      for (const lane of lanes) {
        const row = lane[i];
        if (row && out.length < limit) out.push(fromRow(row));
      }
    }
    return out;
  }

  /** Everything not held, for settling a host that is down. */
  waiting(busy: ReadonlySet<string>): QueuedRecipient[] {
    return this.sql
      .exec<Row>(
        `SELECT ${SELECTED}
         FROM rcpt WHERE held = 0`,
      )
      .toArray()
      .filter((row) => !busy.has(queueKey(row)))
      .map(fromRow);
  }

  /** Held recipients of one domain (released when its catch-all status is known). */
  held(domain: string): QueuedRecipient[] {
    return this.sql
      .exec<Row>(
        `SELECT ${SELECTED}
         FROM rcpt WHERE domain = ? AND held = 1`,
        domain,
      )
      .toArray()
      .map(fromRow);
  }

  /** Held recipients whose deadline has passed. */
  heldPastDeadline(now: number): QueuedRecipient[] {
    return this.sql
      .exec<Row>(
        `SELECT ${SELECTED}
         FROM rcpt WHERE held = 1 AND deadline_at <= ?`,
        now,
      )
      .toArray()
      .map(fromRow);
  }

  retryAt(
    r: QueuedRecipient,
    dueAt: number,
    last: SmtpResult | null,
    fields: { attempt?: boolean; broke?: boolean } = {},
  ): void {
    this.sql.exec(
      "UPDATE rcpt SET due_at = ?, last = ?, attempts = attempts + ?, breaks = breaks + ? WHERE job = ? AND position = ?",
      dueAt,
      last ? JSON.stringify(last) : null,
      fields.attempt ? 1 : 0,
      fields.broke ? 1 : 0,
      r.job,
      r.position,
    );
  }

  hold(r: QueuedRecipient, last: SmtpResult | null): void {
    this.sql.exec(
      "UPDATE rcpt SET held = 1, last = ? WHERE job = ? AND position = ?",
      last ? JSON.stringify(last) : null,
      r.job,
      r.position,
    );
  }

  removeMany(rows: readonly { job: string; position: number }[]): void {
    for (const part of chunk(rows, rowsPerStatement(2))) {
      this.sql.exec(
        `DELETE FROM rcpt WHERE (job, position) IN (VALUES ${tuples(2, part.length)})`,
        ...part.flatMap((r) => [r.job, r.position]),
      );
    }
  }

  /** Drops every recipient of a job; returns how many there were. */
  dropJob(job: string): number {
    return this.sql.exec("DELETE FROM rcpt WHERE job = ?", job).rowsWritten;
  }

  /** The earliest moment something is due (a retry, or a held recipient's deadline); null when empty. */
  nextDue(): number | null {
    const row = this.sql
      .exec<{ due: number | null }>(
        `SELECT MIN(t) AS due FROM (
           SELECT MIN(due_at) AS t FROM rcpt WHERE held = 0
           UNION ALL SELECT MIN(deadline_at) FROM rcpt WHERE held = 1)`,
      )
      .one();
    return row.due;
  }

  size(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM rcpt").one().n;
  }

  /** Where one job's recipients stand here: how many wait, how many were told to come back, and until when. */
  jobWaits(job: string, now: number): JobWaits {
    const row = this.sql
      .exec<{
        queued: number;
        retrying: number;
        greylisted: number;
        held: number;
        next_retry: number | null;
        deadline: number | null;
      }>(
        `SELECT COUNT(*) AS queued,
                SUM(CASE WHEN held = 0 AND attempts > 0 AND due_at > ? THEN 1 ELSE 0 END) AS retrying,
                SUM(CASE WHEN held = 0 AND attempts > 0 AND due_at > ?
                         AND json_extract(last, '$.status') = 'greylisted' THEN 1 ELSE 0 END) AS greylisted,
                SUM(held) AS held,
                MIN(CASE WHEN held = 0 AND attempts > 0 AND due_at > ? THEN due_at END) AS next_retry,
                MAX(deadline_at) AS deadline
         FROM rcpt WHERE job = ?`,
        now,
        now,
        now,
        job,
      )
      .one();
    return {
      queued: row.queued,
      retrying: row.retrying ?? 0,
      greylisted: row.greylisted ?? 0,
      held: row.held ?? 0,
      nextRetryAt: row.next_retry,
      deadlineAt: row.deadline,
    };
  }
}

export interface JobWaits {
  /** The job's recipients queued here. */
  queued: number;
  /** Of those, answered "try again later" (greylisting, throttling) and waiting for their retry. */
  retrying: number;
  /** Of those, the ones greylisted (the rest were throttled). */
  greylisted: number;
  /** Accepted, held until the domain's catch-all status is known. */
  held: number;
  nextRetryAt: number | null;
  /** The latest deadline among them: no answer for this job waits past it. */
  deadlineAt: number | null;
}

function fromRow(row: Row): QueuedRecipient {
  return {
    job: row.job,
    position: row.position,
    address: row.address,
    domain: row.domain,
    mxName: row.mx_name,
    fallback: JSON.parse(row.fallback) as MxHost[],
    probeOnly: row.probe_only === 1,
    deadlineAt: row.deadline_at,
    attempts: row.attempts,
    breaks: row.breaks,
    last: row.last ? (JSON.parse(row.last) as SmtpResult) : null,
    epoch: row.epoch,
  };
}
