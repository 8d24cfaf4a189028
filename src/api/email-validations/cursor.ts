import { openDb } from "../../db/client";
import { positionOf } from "../../db/results";
import { apiError } from "../errors";

// page[after] / page[before] on a job's results: the email of a result of
// this job, turned into its position (the keyset the pages are cut on).

export interface ResultCursor {
  name: "page[after]" | "page[before]";
  email: string;
  position: number;
}

export async function readResultCursor(
  d1: D1Database | D1DatabaseSession,
  jobId: string,
  q: { "page[after]"?: string; "page[before]"?: string },
): Promise<ResultCursor | null> {
  const after = q["page[after]"];
  const before = q["page[before]"];
  if (after !== undefined && before !== undefined) {
    throw apiError(400, "invalid_parameter", "Use page[after] or page[before], not both.", "/page[before]");
  }
  const name = after !== undefined ? "page[after]" : "page[before]";
  const email = after ?? before;
  if (email === undefined) return null;
  const position = email === "" ? null : await positionOf(openDb(d1), jobId, email);
  if (position === null) {
    throw apiError(
      400,
      "invalid_parameter",
      `${name} must be the email of a result of this job.`,
      `/${name}`,
    );
  }
  return { name, email, position };
}
