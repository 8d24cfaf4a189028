import { z } from "zod";
import type { ResultFilter } from "../db/browse";
import { isSafeText } from "../verify/syntax";
import { RESULT_CLASSES } from "./download";

// The query parameters that narrow a job's results, shared by the results
// browser (/results) and the download: result=, reason= (comma-separated) and
// q= (a piece of the address, such as a name or @domain).

const REASON = /^[a-z][a-z_]{0,39}$/;
const MAX_REASONS = 30;
const MAX_TEXT = 320;

const list = (value: string | undefined) => (value ?? "").split(",").filter(Boolean);
const unknownClasses = (value: string) => list(value).filter((r) => !RESULT_CLASSES.includes(r));

export const resultFilterParams = {
  result: z
    .string()
    .refine((v) => unknownClasses(v).length === 0, {
      error: (issue) =>
        `Unknown result class: ${unknownClasses(String(issue.input)).join(", ")}. Use ${RESULT_CLASSES.join(", ")}.`,
    })
    .optional()
    .meta({ description: `Only these result classes, comma-separated: ${RESULT_CLASSES.join(", ")}.` }),
  reason: z
    .string()
    .refine(
      (v) => list(v).length <= MAX_REASONS && list(v).every((r) => REASON.test(r)),
      `reason must be up to ${MAX_REASONS} reason codes (such as mailbox_not_found), comma-separated.`,
    )
    .optional()
    .meta({ description: "Only these reasons (such as mailbox_not_found), comma-separated." }),
  q: z
    .string()
    .refine(
      (v) => v.trim().length <= MAX_TEXT && isSafeText(v.trim()),
      `q must be at most ${MAX_TEXT} characters, without control characters.`,
    )
    .optional()
    .meta({ description: "Only addresses containing this text (a name, `@domain`, a whole address)." }),
};

/** The validated parameters as the filter the result queries take. */
export function toResultFilter(q: { result?: string; reason?: string; q?: string }): ResultFilter {
  const results = list(q.result);
  const reasons = list(q.reason);
  const text = (q.q ?? "").trim();
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
