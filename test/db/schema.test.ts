import { env } from "cloudflare:workers";
import { is } from "drizzle-orm";
import { getTableConfig, SQLiteTable } from "drizzle-orm/sqlite-core";
import { describe, expect, it } from "vitest";
import * as schema from "../../src/db/schema";

// The drizzle schema (src/db/schema.ts) is written by hand next to the SQL
// migrations, which are what D1 runs. This test reads the database the
// migrations built and the schema's own description of every table, and
// fails on any difference: a table, a column's type, nullability, default or
// key, an index's columns or uniqueness.

interface Column {
  name: string;
  type: string;
  notNull: boolean;
  default: string | null;
  primaryKey: boolean;
}
interface Index {
  columns: string[];
  unique: boolean;
}
interface Table {
  columns: Column[];
  /** Named indexes; the ones SQLite makes for UNIQUE and PRIMARY KEY are keyed by their columns. */
  indexes: Record<string, Index>;
}

const tables: SQLiteTable[] = Object.values(schema).filter((value) => is(value, SQLiteTable));

function fromSchema(table: SQLiteTable): Table {
  const config = getTableConfig(table);
  const compositeKey = config.primaryKeys[0]?.columns.map((c) => c.name) ?? [];
  const columns = config.columns.map((c) => ({
    name: c.name,
    type: c.getSQLType().toUpperCase(),
    notNull: c.notNull || c.primary || compositeKey.includes(c.name),
    default: c.default === undefined ? null : String(c.default),
    primaryKey: c.primary || compositeKey.includes(c.name),
  }));
  const indexes: Record<string, Index> = {};
  for (const index of config.indexes) {
    indexes[index.config.name] = {
      columns: index.config.columns.map((c) => (c as { name: string }).name),
      unique: index.config.unique,
    };
  }
  for (const c of config.columns.filter((c) => c.isUnique)) {
    indexes[`unique(${c.name})`] = { columns: [c.name], unique: true };
  }
  return { columns: columns.sort(byName), indexes };
}

async function fromDatabase(name: string): Promise<Table> {
  const info = await env.DB.prepare(`PRAGMA table_info("${name}")`).all<{
    name: string;
    type: string;
    notnull: number;
    dflt_value: string | null;
    pk: number;
  }>();
  const columns = info.results.map((c) => ({
    name: c.name,
    type: c.type.toUpperCase(),
    notNull: c.notnull === 1 || c.pk > 0,
    default: c.dflt_value,
    primaryKey: c.pk > 0,
  }));
  const list = await env.DB.prepare(`PRAGMA index_list("${name}")`).all<{
    name: string;
    unique: number;
    origin: string;
  }>();
  const indexes: Record<string, Index> = {};
  for (const index of list.results) {
    if (index.origin === "pk") continue; // the primary key is compared column by column
    const cols = await env.DB.prepare(`PRAGMA index_info("${index.name}")`).all<{ name: string }>();
    const columns = cols.results.map((c) => c.name);
    const key = index.origin === "u" ? `unique(${columns.join(",")})` : index.name;
    indexes[key] = { columns, unique: index.unique === 1 };
  }
  return { columns: columns.sort(byName), indexes };
}

function byName(a: { name: string }, b: { name: string }) {
  return a.name.localeCompare(b.name);
}

describe("the drizzle schema", () => {
  it("names exactly the tables the migrations create", async () => {
    const { results } = await env.DB.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name != 'd1_migrations'",
    ).all<{ name: string }>();
    expect(tables.length).toBeGreaterThan(0);
    expect(tables.map((t) => getTableConfig(t).name).sort()).toEqual(results.map((r) => r.name).sort());
  });

  it.each(tables.map((t) => [getTableConfig(t).name, t] as const))(
    "describes %s as the migrations built it",
    async (name, table) => {
      expect(fromSchema(table)).toEqual(await fromDatabase(name));
    },
  );
});
