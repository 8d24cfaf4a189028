// The job's progress over time, kept in the job object's SQLite so its story
// (rate over time, ETA) can be told to anyone who asks, not only to a page
// that watched from the start. A few hundred points at most: when there are
// more, every other one of the oldest half goes, so old times grow coarser.

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS progress_samples (at INTEGER PRIMARY KEY, processed INTEGER NOT NULL);
`;

/** Samples closer than this replace the last one instead of adding a point. */
const MIN_GAP_MS = 1000;
const MAX_SAMPLES = 300;

export type Sample = {
  at: number;
  processed: number;
};

export class ProgressSamples {
  constructor(private readonly sql: SqlStorage) {
    this.createTables();
  }

  createTables(): void {
    this.sql.exec(SCHEMA);
  }

  add(at: number, processed: number): void {
    const last = this.sql
      .exec<Sample>("SELECT at, processed FROM progress_samples ORDER BY at DESC LIMIT 1")
      .toArray()[0];
    if (last && at - last.at < MIN_GAP_MS) {
      this.sql.exec("UPDATE progress_samples SET processed = ? WHERE at = ?", processed, last.at);
      return;
    }
    this.sql.exec("INSERT OR REPLACE INTO progress_samples (at, processed) VALUES (?, ?)", at, processed);
    const n = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM progress_samples").one().n;
    if (n > MAX_SAMPLES) this.thin(n);
  }

  list(): Sample[] {
    return this.sql.exec<Sample>("SELECT at, processed FROM progress_samples ORDER BY at").toArray();
  }

  /** Drops every other sample of the oldest half (never the first, where the job started). */
  private thin(n: number): void {
    const oldest = this.sql
      .exec<{ at: number }>("SELECT at FROM progress_samples ORDER BY at LIMIT ?", Math.floor(n / 2))
      .toArray();
    for (let i = 1; i < oldest.length; i += 2) {
      this.sql.exec("DELETE FROM progress_samples WHERE at = ?", oldest[i]!.at);
    }
  }
}
