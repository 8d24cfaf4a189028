// Final answers on their way back to the jobs that asked. They are stored
// with the queue change that produced them (one SQLite transaction), then
// handed to each job object in batches by short calls. A job that no longer
// wants them (canceled, deleted) says stop, and its recipients leave the queue.

import { chunk, rowsPerStatement, tuples } from "../lib/sql";
import type { SmtpResult } from "../verify/types";
import type { HostAnswer, ReportAck } from "./protocol";

export const ANSWERS_SCHEMA = `
  CREATE TABLE IF NOT EXISTS answer (
    job TEXT NOT NULL, position INTEGER NOT NULL, smtp TEXT NOT NULL,
    PRIMARY KEY (job, position)
  );
`;

/** Answers per call: small enough for a short call, large enough to be few. */
const PER_CALL = 500;

export type ReportFn = (job: string, answers: HostAnswer[]) => Promise<ReportAck>;

export class AnswerOutbox {
  constructor(private readonly sql: SqlStorage) {}

  /** Many answers in few statements. */
  putMany(answers: readonly { job: string; position: number; smtp: SmtpResult }[]): void {
    for (const part of chunk(answers, rowsPerStatement(3))) {
      this.sql.exec(
        `INSERT OR REPLACE INTO answer (job, position, smtp) VALUES ${tuples(3, part.length)}`,
        ...part.flatMap((a) => [a.job, a.position, JSON.stringify(a.smtp)]),
      );
    }
  }

  size(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM answer").one().n;
  }

  /** Every stored answer of a job, removed from here: the caller hands them over itself. */
  take(job: string): HostAnswer[] {
    const rows = this.sql
      .exec<{ position: number; smtp: string }>("SELECT position, smtp FROM answer WHERE job = ?", job)
      .toArray();
    this.dropJob(job);
    return rows.map((r) => ({ position: r.position, smtp: JSON.parse(r.smtp) as SmtpResult }));
  }

  dropJob(job: string): void {
    this.sql.exec("DELETE FROM answer WHERE job = ?", job);
  }

  /**
   * Hands every stored answer to its job. Returns the jobs that said stop;
   * a failed call leaves its answers for the next round.
   */
  async deliver(report: ReportFn, onFailure: (job: string, err: unknown) => void): Promise<string[]> {
    const jobs = this.sql.exec<{ job: string }>("SELECT DISTINCT job FROM answer").toArray();
    const stopped: string[] = [];
    await Promise.all(
      jobs.map(async ({ job }) => {
        for (;;) {
          const rows = this.sql
            .exec<{ position: number; smtp: string }>(
              "SELECT position, smtp FROM answer WHERE job = ? ORDER BY position LIMIT ?",
              job,
              PER_CALL,
            )
            .toArray();
          if (!rows.length) return;
          let ack: ReportAck;
          try {
            ack = await report(
              job,
              rows.map((r) => ({ position: r.position, smtp: JSON.parse(r.smtp) as SmtpResult })),
            );
          } catch (err) {
            onFailure(job, err);
            return;
          }
          if (ack.stop) {
            stopped.push(job);
            this.dropJob(job);
            return;
          }
          // Only what was sent: answers stored meanwhile stay for the next call.
          for (const part of chunk(rows, rowsPerStatement(2) - 1)) {
            this.sql.exec(
              `DELETE FROM answer WHERE job = ? AND (position, smtp) IN (VALUES ${tuples(2, part.length)})`,
              job,
              ...part.flatMap((r) => [r.position, r.smtp]),
            );
          }
          if (rows.length < PER_CALL) return;
        }
      }),
    );
    return stopped;
  }
}
