import { validate } from "uuid";
import type { JobObject, JobSnapshot } from "./object";

/** Job ids are UUIDs (v7); anything else names no job. */
export function isJobId(id: string): boolean {
  return validate(id);
}

export function jobStub(env: Env, id: string): DurableObjectStub<JobObject> {
  return env.JOB.get(env.JOB.idFromName(id.toLowerCase())) as DurableObjectStub<JobObject>;
}

/** The job if it exists and belongs to the account; null otherwise (the caller answers 404 either way). */
export async function ownedJob(env: Env, accountId: string, id: string): Promise<JobSnapshot | null> {
  if (!isJobId(id)) return null;
  const job = await jobStub(env, id).snapshot();
  return job && job.accountId === accountId ? job : null;
}
