import type { Context } from "hono";
import type { JobSnapshot } from "../../job/object";
import { ownedJob } from "../../job/stub";
import { notFound } from "../errors";
import type { AppEnv } from "../types";

export const BASE = "/email-validations";

/** The job named in the path, read from its job object; 404 unless it is this account's. */
export async function requireJob(c: Context<AppEnv>): Promise<JobSnapshot> {
  const job = await ownedJob(c.env, c.get("accountId"), c.req.param("id") ?? "");
  if (!job) throw notFound();
  return job;
}
