import type { Counts } from "../db/results";
import type { JobStatus } from "./state";

interface Progress {
  status: JobStatus;
  total: number;
  counts: Counts;
  startedAt: number | null;
  startAt: number | null;
}

const clamp = (n: number) => Math.min(60, Math.max(1, Math.ceil(n)));

/**
 * How long a client should wait before polling again, in whole seconds
 * (1–60), from the job's measured rate: the time until about one more page of
 * results exists, and never past the estimated end. Null once the job ended.
 */
export function retryAfterSeconds(job: Progress, now: number): number | null {
  switch (job.status) {
    case "completed":
    case "canceled":
    case "error":
      return null;
    case "paused":
      return 30;
    case "queued":
      return job.startAt && job.startAt > now ? clamp((job.startAt - now) / 1000) : 1;
    case "processing": {
      const elapsed = (now - (job.startedAt ?? now)) / 1000;
      const done = job.counts.processed;
      if (done === 0 || elapsed <= 0) return 2;
      const rate = done / elapsed; // results per second
      const remaining = Math.max(0, job.total - done);
      return clamp(Math.min(remaining / rate, 100 / rate));
    }
  }
}
