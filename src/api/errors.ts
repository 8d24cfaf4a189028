import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ErrorItem } from "../lib/error-item";

// One error type for the whole API. Handlers throw it; app.onError renders it
// in the envelope of the family the request belongs to.

export type { ErrorItem };

export class ApiError extends HTTPException {
  readonly items: ErrorItem[];
  readonly headers: Record<string, string>;

  constructor(
    status: ContentfulStatusCode,
    items: ErrorItem | ErrorItem[],
    headers: Record<string, string> = {},
  ) {
    const list = Array.isArray(items) ? items : [items];
    super(status, { message: list[0]?.detail ?? "error" });
    this.items = list;
    this.headers = headers;
  }

  withHeaders(headers: Record<string, string>): this {
    Object.assign(this.headers, headers);
    return this;
  }
}

const TITLES: Record<string, string> = {
  missing_field: "Missing Field",
  unsupported_value: "Unsupported Value",
  invalid_value: "Invalid Value",
  invalid_type: "Invalid Type",
  invalid_json: "Invalid JSON",
  invalid_parameter: "Invalid Parameter",
  unknown_field: "Unknown Field",
  too_many_entries: "Too Many Entries",
  body_too_large: "Body Too Large",
  unsupported_media_type: "Unsupported Media Type",
  not_found: "Not Found",
  unauthorized: "Unauthorized",
  forbidden: "Forbidden",
  already_terminal: "Already Terminal",
  invalid_transition: "Invalid Transition",
  conflict: "Conflict",
  rate_limited: "Too Many Requests",
  internal_error: "Internal Error",
};

export function titleFor(code: string): string {
  return TITLES[code] ?? code.replace(/_/g, " ").replace(/\b\w/g, (c) => c.toUpperCase());
}

export function apiError(
  status: ContentfulStatusCode,
  code: string,
  detail: string,
  pointer?: string,
): ApiError {
  return new ApiError(status, { code, title: titleFor(code), detail, pointer });
}

export const notFound = () => apiError(404, "not_found", "Could not find email validation.");

/** The canonical envelope: {"_errors":[…],"object":"error","_links":{"self":…}}, self being the request's path. */
export function canonicalEnvelope(items: ErrorItem[], selfHref: string | undefined) {
  return {
    _errors: items.map((i) => ({
      code: i.code,
      title: i.title,
      detail: i.detail,
      ...(i.pointer !== undefined ? { source: { pointer: i.pointer } } : {}),
    })),
    object: "error" as const,
    ...(selfHref ? { _links: { self: { href: selfHref } } } : {}),
  };
}
