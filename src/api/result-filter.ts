import type { Context } from "hono";
import type { ResultFilter } from "../db/browse";
import { isSafeText } from "../verify/syntax";
import { RESULT_CLASSES } from "./download";
import { apiError } from "./errors";

// The query parameters that narrow a job's results, shared by the results
// browser (/results) and the download: result=, reason= (comma-separated) and
// q= (a piece of the address, such as a name or @domain).

const REASON = /^[a-z][a-z_]{0,39}$/;
const MAX_REASONS = 30;
const MAX_TEXT = 320;

const list = (value: string | undefined) => (value ?? "").split(",").filter(Boolean);

export function readResultFilter(c: Context): ResultFilter {
  const results = list(c.req.query("result"));
  const bad = results.filter((r) => !RESULT_CLASSES.includes(r));
  if (bad.length) {
    throw apiError(
      400,
      "invalid_parameter",
      `Unknown result class: ${bad.join(", ")}. Use ${RESULT_CLASSES.join(", ")}.`,
      "/result",
    );
  }
  const reasons = list(c.req.query("reason"));
  if (reasons.length > MAX_REASONS || !reasons.every((r) => REASON.test(r))) {
    throw apiError(
      400,
      "invalid_parameter",
      `reason must be up to ${MAX_REASONS} reason codes (such as mailbox_not_found), comma-separated.`,
      "/reason",
    );
  }
  const text = (c.req.query("q") ?? "").trim();
  if (text.length > MAX_TEXT || !isSafeText(text)) {
    throw apiError(
      400,
      "invalid_parameter",
      `q must be at most ${MAX_TEXT} characters, without control characters.`,
      "/q",
    );
  }
  return {
    ...(results.length && { results }),
    ...(reasons.length && { reasons }),
    ...(text && { text }),
  };
}

/** The filter as query parameters, for links that keep it. */
export function filterQuery(f: ResultFilter): string[] {
  const params: string[] = [];
  if (f.results?.length) params.push(`result=${f.results.join(",")}`);
  if (f.reasons?.length) params.push(`reason=${f.reasons.join(",")}`);
  if (f.text) params.push(`q=${encodeURIComponent(f.text)}`);
  return params;
}
