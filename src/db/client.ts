import { drizzle } from "drizzle-orm/d1";
import { timedD1 } from "./timed";

export type Db = ReturnType<typeof openDb>;

/**
 * One drizzle instance per binding (or session), made once: every poll opens
 * the database, and building the instance is not free. No schema is passed:
 * only the query builder is used, never relational queries, and the schema's
 * relation extraction was the costly part. Every call is bounded: a hung D1
 * fails the call, it never hangs the caller.
 */
const opened = new WeakMap<D1Database | D1DatabaseSession, ReturnType<typeof drizzle>>();

export function openDb(d1: D1Database | D1DatabaseSession) {
  let db = opened.get(d1);
  if (!db) {
    // A session has the query methods drizzle calls (prepare, batch); exec and dump it never uses.
    db = drizzle(timedD1(d1 as D1Database));
    opened.set(d1, db);
  }
  return db;
}

export { chunk, rowsPerStatement } from "../lib/sql";
