import { z } from "zod";

// Query parameters several routes share, with the messages their 400s carry.

const PAGE_SIZE = "page[size] must be a whole number from 1 to 1000.";

/** page[size]: a whole number from 1 to 1000; 100 when absent. */
export const pageSize = z
  .string()
  .regex(/^\d{1,4}$/, PAGE_SIZE)
  .refine((v) => Number(v) >= 1 && Number(v) <= 1000, PAGE_SIZE)
  .optional()
  .meta({ description: "Page size, 1 to 1000 (default 100)." });

export const include = z
  .string()
  .optional()
  .meta({ description: "`details` adds mailvet's extra fields (counts, reason, score, SMTP reply…)." });

export const DEFAULT_PAGE_SIZE = 100;

export function wantsDetails(include: string | undefined): boolean {
  return (include ?? "").split(",").includes("details");
}
