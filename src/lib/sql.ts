// Multi-row statements under the 100 parameters a statement may bind, shared
// by D1 (drizzle) and the objects' own SQLite.

/** Rows of `columns` parameters that fit in one statement. */
export function rowsPerStatement(columns: number): number {
  return Math.max(1, Math.floor(100 / columns));
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** "(?, ?), (?, ?)" for `rows` rows of `columns` parameters. */
export function tuples(columns: number, rows: number): string {
  const one = `(${Array(columns).fill("?").join(", ")})`;
  return Array(rows).fill(one).join(", ");
}
