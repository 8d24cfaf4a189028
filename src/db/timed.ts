// Every D1 call gets a bound. A D1 call that hangs must not hang the job
// object behind it (cancel waits for nothing longer than this), so each
// statement, batch and exec races a timer. A call that times out may still
// land later: writers that care (results) guard their statements themselves.

/** Well past D1's own per-query limit (30 s) is no use to anyone; most calls take milliseconds. */
export const D1_TIMEOUT_MS = 10_000;

export class D1TimeoutError extends Error {
  constructor(ms: number) {
    super(`D1 did not answer within ${ms} ms`);
    this.name = "D1TimeoutError";
  }
}

export function bounded<T>(call: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new D1TimeoutError(ms)), ms);
  });
  return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
}

class TimedStatement {
  constructor(
    readonly inner: D1PreparedStatement,
    private readonly ms: number,
  ) {}

  bind(...values: unknown[]): TimedStatement {
    return new TimedStatement(this.inner.bind(...values), this.ms);
  }

  first<T>(column?: string): Promise<T | null> {
    return bounded(column === undefined ? this.inner.first<T>() : this.inner.first<T>(column), this.ms);
  }

  all<T>(): Promise<D1Result<T>> {
    return bounded(this.inner.all<T>(), this.ms);
  }

  run<T>(): Promise<D1Result<T>> {
    return bounded(this.inner.run<T>(), this.ms);
  }

  raw<T>(options?: { columnNames?: boolean }): Promise<T[]> {
    // biome-ignore lint/suspicious/noExplicitAny: D1's raw() overloads differ only in the column-name row
    return bounded(this.inner.raw<T>(options as any) as Promise<T[]>, this.ms);
  }
}

/** The D1 binding with a bound on every call. */
export function timedD1(db: D1Database, ms = D1_TIMEOUT_MS): D1Database {
  const timed = {
    prepare: (query: string) => new TimedStatement(db.prepare(query), ms),
    batch: <T>(statements: (D1PreparedStatement | TimedStatement)[]) =>
      bounded(db.batch<T>(statements.map((s) => (s instanceof TimedStatement ? s.inner : s))), ms),
    exec: (query: string) => bounded(db.exec(query), ms),
    dump: () => bounded(db.dump(), ms),
    withSession: (constraint?: string) => db.withSession(constraint),
  };
  return timed as unknown as D1Database;
}
