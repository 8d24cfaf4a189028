// What a host object remembers of the jobs it was told to drop, so that no
// late call brings their work back: a tombstone per job (with the job's run,
// its epoch, so a resumed job is served again), and the other hosts this one
// forwarded the job's recipients to, so a drop reaches them too.

export const DROPPED_SCHEMA = `
  CREATE TABLE IF NOT EXISTS dropped_job (job TEXT PRIMARY KEY, epoch INTEGER NOT NULL, at INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS forwarded_to (
    job TEXT NOT NULL, host TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (job, host)
  );
`;

/** Long past any job's deadline: an enqueue this late cannot be in flight any more. */
const KEEP_MS = 24 * 3_600_000;

export class DroppedJobs {
  constructor(private readonly sql: SqlStorage) {}

  /** The job's runs up to `epoch` are over here. */
  remember(job: string, epoch: number, now: number): void {
    this.sql.exec("DELETE FROM dropped_job WHERE at < ?", now - KEEP_MS);
    this.sql.exec("DELETE FROM forwarded_to WHERE at < ?", now - KEEP_MS);
    this.sql.exec(
      `INSERT INTO dropped_job (job, epoch, at) VALUES (?, ?, ?)
       ON CONFLICT (job) DO UPDATE SET epoch = MAX(epoch, excluded.epoch), at = excluded.at`,
      job,
      epoch,
      now,
    );
  }

  /** The recipients still wanted: none of a dropped run. */
  wanted<T extends { job: string; epoch?: number }>(items: readonly T[]): T[] {
    const ends = new Map<string, number | null>();
    return items.filter((item) => {
      if (!ends.has(item.job)) {
        const row = this.sql
          .exec<{ epoch: number }>("SELECT epoch FROM dropped_job WHERE job = ?", item.job)
          .toArray()[0];
        ends.set(item.job, row ? row.epoch : null);
      }
      const end = ends.get(item.job);
      return end === null || end === undefined || (item.epoch ?? 0) > end;
    });
  }

  forwarded(jobs: Iterable<string>, host: string, now: number): void {
    for (const job of new Set(jobs))
      this.sql.exec("INSERT OR REPLACE INTO forwarded_to (job, host, at) VALUES (?, ?, ?)", job, host, now);
  }

  /** The hosts this one handed the job's recipients to; they are forgotten once told. */
  takeForwards(job: string): string[] {
    const hosts = this.sql
      .exec<{ host: string }>("SELECT host FROM forwarded_to WHERE job = ?", job)
      .toArray()
      .map((r) => r.host);
    this.sql.exec("DELETE FROM forwarded_to WHERE job = ?", job);
    return hosts;
  }
}
