// The job's row in D1 is a copy of the object's state, for lists and pages.
// A failed copy is marked dirty and retried by the next alarm.

import { openDb } from "../db/client";
import { updateJob } from "../db/jobs";
import type { Counts } from "../db/results";
import type { JobStatus } from "./state";

export interface Mirrored {
  id: string;
  status: JobStatus;
  finishedAt: number | null;
  counts: Counts;
}

/** Copies status and counts to D1; returns false when the copy failed. */
export async function mirrorJob(db: D1Database, s: Mirrored): Promise<boolean> {
  try {
    await updateJob(openDb(db), s.id, { status: s.status, finishedAt: s.finishedAt, ...s.counts });
    return true;
  } catch (err) {
    console.error(JSON.stringify({ msg: "mirror failed", job: s.id, error: String(err) }));
    return false;
  }
}
