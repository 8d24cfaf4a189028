import type { Context } from "hono";
import { v7 as uuidv7 } from "uuid";
import { openDb } from "../db/client";
import { claimKey } from "../db/idempotency";
import { type NewJobInput, startJob } from "../job/create";
import type { JobSnapshot } from "../job/object";
import { requestHash } from "../job/request-hash";
import { apiError } from "./errors";
import type { AppEnv } from "./types";

/**
 * Creates the job once per Idempotency-Key: the same key with the same
 * request returns the same job; with a different request it is a 422.
 * The request is compared by its parsed content, so a multipart upload
 * repeated with another boundary still matches.
 */
export async function createOnce(
  c: Context<AppEnv>,
  input: NewJobInput,
): Promise<{ job: JobSnapshot; replayed: boolean }> {
  const key = c.req.header("idempotency-key");
  if (key === undefined) return { job: await startJob(c.env, input), replayed: false };
  if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
    throw apiError(
      400,
      "invalid_parameter",
      "Idempotency-Key must be 1 to 255 printable ASCII characters.",
      "/Idempotency-Key",
    );
  }
  const hash = await requestHash(input);
  const claim = await claimKey(openDb(c.env.DB), input.accountId, key, hash, uuidv7());
  if (claim.requestHash !== hash) {
    throw apiError(
      422,
      "idempotency_key_reused",
      "This Idempotency-Key was used with a different request in the last 24 hours.",
      "/Idempotency-Key",
    );
  }
  // Creating is idempotent per job id: a replay after a crash finishes the first attempt's job.
  const job = await startJob(c.env, input, claim.jobId);
  if (!claim.fresh) c.header("Idempotent-Replayed", "true");
  return { job, replayed: !claim.fresh };
}
