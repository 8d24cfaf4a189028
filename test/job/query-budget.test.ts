import { describe, expect, it } from "vitest";
import { JobRun } from "../../src/job/run";
import { type AnsweredRow, type JobStore, Stage } from "../../src/job/store";

// D1 allows 1,000 queries per invocation. One alarm's run records answers
// until its query budget is spent and leaves the rest to the next alarm,
// however large BATCH_SIZE is and however heavy the rows are.

/** A job whose every address is answered, waiting only for D1. */
function answeredJob(total: number) {
  let left = total;
  const store = {
    count: (stage: Stage) => (stage === Stage.Answered ? left : 0),
    anyDue: () => false,
    any: (stage: Stage) => stage === Stage.Answered && left > 0,
    waiting: () => [],
    answered: (max: number) => {
      const n = Math.min(max, left);
      left -= n;
      return Array.from(
        { length: n },
        (_, i) => ({ position: total - left - n + i }) as unknown as AnsweredRow,
      );
    },
  };
  return { store: store as unknown as JobStore, left: () => left };
}

/** What the result writer spends on a batch whose rows carry the most extra fields allowed (4 KiB each). */
const statementsFor = (rows: number) => 1 + Math.ceil((rows * 4300) / 1_000_000) + 1;

describe("one alarm's D1 queries", () => {
  for (const batchSize of [1, 250, 1000]) {
    it(`stay well under 1,000 with BATCH_SIZE ${batchSize} and 100,000 answers to record`, async () => {
      const job = answeredJob(100_000);
      let queries = 0;
      const run = new JobRun({
        store: job.store,
        status: () => "processing",
        dispatch: {} as never,
        record: async (rows) => {
          const n = statementsFor(rows.length);
          queries += n;
          return n;
        },
        checkpoint: () => {},
        batchSize,
      });
      expect(await run.run(Date.now() + 60_000)).toBe("more");
      expect(queries).toBeGreaterThan(700);
      expect(queries).toBeLessThanOrEqual(810);
      expect(job.left()).toBeGreaterThan(0);
    });
  }
});
