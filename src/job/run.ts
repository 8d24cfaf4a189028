// One alarm's worth of a job's work: hand waiting addresses to their hosts,
// and record the answers that come back, in D1, in batches. It stops when
// the job is done, when its time or its D1 query budget for this invocation
// is spent (the next alarm goes on), or when only the hosts have work left.

import { type DispatchDeps, dispatch } from "./dispatch";
import type { JobStatus } from "./state";
import { type AnsweredRow, type JobStore, Stage } from "./store";

export interface RunDeps {
  store: JobStore;
  status(): JobStatus | null;
  dispatch: DispatchDeps;
  /** Records answered rows in D1; returns how many D1 statements that took. */
  record(rows: AnsweredRow[]): Promise<number>;
  /** Called before each dispatch and each record: where tests inject faults. */
  checkpoint(stage: "dispatch" | "record"): void;
  batchSize: number;
}

/** finished: every address is recorded. more: call again now. waiting: only the hosts have work. stopped: not processing. */
export type RunEnd = "finished" | "more" | "waiting" | "stopped";

/** Results wait at most this long for D1, unless enough of them are ready sooner. */
const RECORD_EVERY_MS = 1000;
const RECORD_MAX = 500;
/** Past this many answers waiting for D1, recording takes turns with handing out. */
const RECORD_BACKLOG = 5000;
/** D1 allows 1,000 queries per invocation; leave room for the job's other writes. */
const QUERY_BUDGET = 800;
const IDLE_TICK_MS = 1000;
/**
 * Addresses handed out per step. Lists mix their domains, so a small step
 * gives each host of the long tail one address per call; a large one gives
 * it its whole share in one call. Bounded for the isolate's 128 MB.
 */
const DISPATCH_CHUNK = 10_000;

export class JobRun {
  private wakeUp: () => void = () => {};

  constructor(private readonly deps: RunDeps) {}

  /** Answers arrived: record them without waiting for the tick. */
  wake(): void {
    this.wakeUp();
  }

  async run(until: number): Promise<RunEnd> {
    const { store } = this.deps;
    let queries = 0;
    let lastRecord = Date.now();
    for (;;) {
      if (this.deps.status() !== "processing") return "stopped";
      const answered = store.count(Stage.Answered);
      const now = Date.now();
      // Deferred addresses (our infrastructure failed them) are waiting but not due yet.
      const waiting = store.anyDue(now);
      if (queries >= QUERY_BUDGET) return "more";
      // Handing out comes first: every host should have its whole share as early as
      // possible. Answers wait in this object's SQLite, never in memory.
      if (waiting && now < until && answered < RECORD_BACKLOG) {
        this.deps.checkpoint("dispatch");
        await dispatch(store.waiting(DISPATCH_CHUNK), this.deps.dispatch);
        continue;
      }
      if (
        answered > 0 &&
        (answered >= this.deps.batchSize || now - lastRecord >= RECORD_EVERY_MS || !waiting)
      ) {
        this.deps.checkpoint("record");
        queries += await this.deps.record(store.answered(RECORD_MAX));
        lastRecord = Date.now();
        continue;
      }
      if (!waiting && answered === 0 && !store.any(Stage.AtHost) && !store.any(Stage.Waiting))
        return "finished";
      if (now >= until) return waiting || answered > 0 ? "more" : "waiting";
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, IDLE_TICK_MS);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}
