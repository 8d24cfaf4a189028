import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";
import { timedD1 } from "./timed";

export type Db = ReturnType<typeof openDb>;

export function openDb(d1: D1Database) {
  // Every call bounded: a hung D1 fails the call, it never hangs the caller.
  return drizzle(timedD1(d1), { schema });
}

export { chunk, rowsPerStatement } from "../lib/sql";
