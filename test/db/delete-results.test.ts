import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { openDb } from "../../src/db/client";
import { DELETE_CHUNK, deleteJobResults } from "../../src/db/results";

// Deleting a job removes up to 100,000 result rows: in slices, so that no
// single statement nears D1's per-query time limit.

/** The D1 binding, recording how many rows each statement changed. */
function recordingD1(db: D1Database, changes: number[]): D1Database {
  const wrap = (stmt: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(stmt, {
      get(target, prop) {
        if (prop === "bind") return (...values: unknown[]) => wrap(target.bind(...values));
        if (prop === "run")
          return async () => {
            const result = await target.run();
            changes.push(result.meta.changes);
            return result;
          };
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") return (query: string) => wrap(target.prepare(query));
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

describe("deleteJobResults", () => {
  it("removes a large job's results in slices of at most DELETE_CHUNK rows", async () => {
    const jobId = `delete-${Date.now().toString(36)}`;
    const total = 2 * DELETE_CHUNK + 1234;
    // One statement makes the rows (a recursive CTE), so the test stays inside D1's limits itself.
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)
       INSERT INTO results (job_id, position, email, result, catch_all, reason, score, detail)
       SELECT ?, i, 'u' || i || '@example.com', 'unknown', 0, 'dns_error', 25, '{}' FROM n`,
    )
      .bind(total, jobId)
      .run();
    const count = async () =>
      (await env.DB.prepare("SELECT COUNT(*) AS n FROM results WHERE job_id = ?")
        .bind(jobId)
        .first<{ n: number }>())!.n;
    expect(await count()).toBe(total);

    const changes: number[] = [];
    await deleteJobResults(openDb(recordingD1(env.DB, changes)), jobId, total);

    expect(await count()).toBe(0);
    expect(changes.reduce((a, b) => a + b, 0)).toBe(total);
    expect(Math.max(...changes)).toBeLessThanOrEqual(DELETE_CHUNK);
  });
});
