import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { Context, MiddlewareHandler } from "hono";
import { uniqueSymbol, validator } from "hono-openapi";
import type { z } from "zod";
import { ApiError, apiError, type ErrorItem, titleFor } from "./errors";

// Request validation: the zod schema a route declares is both what the
// validator middleware checks and what the OpenAPI document shows. Failures
// become the API's own 4xx with a JSON pointer per problem.

/** JSON Pointer (RFC 6901) for an issue path. */
export function pointer(path: readonly PropertyKey[]): string {
  return path.map((p) => `/${String(p).replace(/~/g, "~0").replace(/\//g, "~1")}`).join("");
}

/** A standard-schema issue, with the fields zod adds to it. */
type Issue = StandardSchemaV1.Issue & {
  code?: string;
  expected?: string;
  origin?: string;
  keys?: string[];
};

function keyOf(segment: PropertyKey | StandardSchemaV1.PathSegment): PropertyKey {
  return typeof segment === "object" ? segment.key : segment;
}

/** Whether the input has nothing at the issue's path (a missing field, not a wrong one). */
function absentIn(input: unknown, path: readonly PropertyKey[]): boolean {
  let node = input;
  for (const key of path) {
    if (node === null || typeof node !== "object") return true;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node === undefined;
}

function issueToItem(issue: Issue, input: unknown): ErrorItem {
  const path = (issue.path ?? []).map(keyOf);
  const at = pointer(path);
  const field = path.length ? String(path[path.length - 1]) : "body";
  switch (issue.code) {
    case "invalid_type":
      if (absentIn(input, path)) return item("missing_field", `Missing field for request: ${field}`, at);
      return item("invalid_type", `Expected ${issue.expected} at ${at || "/"}.`, at);
    case "unrecognized_keys": {
      const keys = issue.keys ?? [];
      return item("unknown_field", `Unknown field(s): ${keys.join(", ")}.`, `${at}/${keys[0] ?? ""}`);
    }
    case "too_big":
      return item(issue.origin === "array" ? "too_many_entries" : "invalid_value", issue.message, at);
    default:
      return item("invalid_value", issue.message, at);
  }
}

function item(code: string, detail: string, pointer: string): ErrorItem {
  return { code, title: titleFor(code), detail, pointer };
}

/** The 400 for a failed validation. */
export function validationError(issues: readonly StandardSchemaV1.Issue[], input: unknown): ApiError {
  // Report the first few problems: enough to fix the request, not a flood for a 100,000-entry list.
  return new ApiError(
    400,
    issues.slice(0, 10).map((issue) => issueToItem(issue, input)),
  );
}

/** Checks a value that is no request target (form fields gathered by hand) against a schema. */
export function checked<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw validationError(parsed.error.issues, input);
  return parsed.data;
}

const isJsonType = (type: string) => /^application\/([\w.+-]+\+)?json\b/i.test(type);
export const isMultipart = (c: Context) =>
  /^multipart\/form-data\b/i.test(c.req.header("content-type") ?? "");

/** Reads a JSON body, refusing other content types and malformed JSON with a clear 4xx. */
export async function readJson(c: Context): Promise<unknown> {
  if (!isJsonType(c.req.header("content-type") ?? "")) {
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

type Refusal = (issues: readonly StandardSchemaV1.Issue[], input: unknown, c: Context) => ApiError;

/**
 * The JSON body validated against `schema`, read in the handler with
 * `c.req.valid("json")`. The content type and the JSON itself are checked
 * first (415, invalid_json). With `orMultipart`, a multipart request passes
 * through untouched for the handler to read as an upload.
 */
export function jsonBody<T extends z.ZodType>(
  schema: T,
  { orMultipart = false, refuse = validationError }: { orMultipart?: boolean; refuse?: Refusal } = {},
) {
  const validate = validator("json", schema, (result, c) => {
    if (!result.success) throw refuse(result.error, result.data, c);
  });
  const middleware: MiddlewareHandler = async (c, next) => {
    if (orMultipart && isMultipart(c)) return next();
    await readJson(c); // hono caches the body, so the validator reads it again for free
    return validate(c, next);
  };
  return Object.assign(middleware, {
    [uniqueSymbol]: (validate as unknown as Record<symbol, unknown>)[uniqueSymbol],
  }) as unknown as typeof validate;
}

/** Query parameters validated against `schema`, read with `c.req.valid("query")`. */
export function queryParams<T extends z.ZodType>(schema: T) {
  return validator("query", schema, (result) => {
    if (result.success) return;
    const items = result.error
      .slice(0, 10)
      .map((issue) => item("invalid_parameter", issue.message, pointer((issue.path ?? []).map(keyOf))));
    throw new ApiError(400, items);
  });
}
