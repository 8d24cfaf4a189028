import type { Context } from "hono";
import type { z } from "zod";
import { ApiError, apiError, type ErrorItem, titleFor } from "./errors";

/** JSON Pointer (RFC 6901) for a zod issue path. */
export function pointer(path: readonly PropertyKey[]): string {
  return path.map((p) => `/${String(p).replace(/~/g, "~0").replace(/\//g, "~1")}`).join("");
}

function issueToItem(issue: z.core.$ZodIssue): ErrorItem {
  const at = pointer(issue.path);
  const field = issue.path.length ? String(issue.path[issue.path.length - 1]) : "body";
  switch (issue.code) {
    case "invalid_type":
      if ((issue as { input?: unknown }).input === undefined) {
        return item("missing_field", `Missing field for request: ${field}`, at);
      }
      return item("invalid_type", `Expected ${issue.expected} at ${at || "/"}.`, at);
    case "unrecognized_keys":
      return item(
        "unknown_field",
        `Unknown field(s): ${issue.keys.join(", ")}.`,
        `${at}/${issue.keys[0] ?? ""}`,
      );
    case "too_big":
      return item(issue.origin === "array" ? "too_many_entries" : "invalid_value", issue.message, at);
    default:
      return item("invalid_value", issue.message, at);
  }
}

function item(code: string, detail: string, pointer: string): ErrorItem {
  return { code, title: titleFor(code), detail, pointer };
}

export function zodError(error: z.ZodError): ApiError {
  // Report the first few problems: enough to fix the request, not a flood for a 100,000-entry list.
  return new ApiError(400, error.issues.slice(0, 10).map(issueToItem));
}

/** Reads a JSON body, refusing other content types and malformed JSON with a clear 4xx. */
export async function readJson(c: Context): Promise<unknown> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(type)) {
    throw apiError(415, "unsupported_media_type", "Send the body as application/json.");
  }
  const text = await c.req.text();
  if (!text.trim()) throw apiError(400, "invalid_json", "The request body is empty.", "");
  try {
    return JSON.parse(text);
  } catch (err) {
    throw apiError(400, "invalid_json", `The body is not valid JSON: ${(err as Error).message}`, "");
  }
}

export function parseWith<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const parsed = schema.safeParse(input, { reportInput: true });
  if (!parsed.success) throw zodError(parsed.error);
  return parsed.data;
}
