import { type ResponsesWithResolver, resolver } from "hono-openapi";
import type { OpenAPIV3_1 } from "openapi-types";
import type { z } from "zod";
import { compatError, errorsObject } from "../api/schemas";

// Pieces of the OpenAPI document that many operations share: the auth
// schemes, response headers, parameters and error responses.

/** Response schemas are generated as zod *outputs* (request bodies default to inputs). */
export function output(schema: z.ZodType) {
  return resolver(schema, { options: { io: "output" } });
}

export const SECURITY_SCHEMES: Record<string, OpenAPIV3_1.SecuritySchemeObject> = {
  bearerAuth: {
    type: "http",
    scheme: "bearer",
    description: "An account's API key: `Authorization: Bearer mv_…`.",
  },
  apiKeyQuery: {
    type: "apiKey",
    in: "query",
    name: "apiKey",
    description: "The same API key as a query parameter, for clients that cannot set headers.",
  },
  adminToken: {
    type: "http",
    scheme: "bearer",
    description: "The operator's ADMIN_TOKEN; only the /admin routes take it.",
  },
};

/** Either way of sending an account's key. */
export const API_KEY_SECURITY: OpenAPIV3_1.SecurityRequirementObject[] = [
  { bearerAuth: [] },
  { apiKeyQuery: [] },
];

const integer = { type: "integer", minimum: 0 } as const;

export const HEADERS: Record<string, OpenAPIV3_1.HeaderObject> = {
  "RateLimit-Limit": { description: "Requests allowed per minute for this key.", schema: integer },
  "RateLimit-Remaining": {
    description:
      "0 on a 429. Absent on other answers: the per-location counter of Cloudflare's Rate Limiting binding does not tell it.",
    schema: integer,
  },
  "RateLimit-Reset": {
    description: "On a 429: seconds until the current 60-second period ends.",
    schema: integer,
  },
  "Retry-After": { description: "Seconds to wait before asking again.", schema: integer },
  Location: { description: "Where the new job can be read.", schema: { type: "string" } },
  "Idempotent-Replayed": {
    description:
      "`true` when this answer replays the job an earlier request with the same Idempotency-Key created.",
    schema: { type: "string", enum: ["true"] },
  },
};

export const headerRef = (name: keyof typeof HEADERS & string) => ({ $ref: `#/components/headers/${name}` });

export const RATE_LIMIT_HEADERS = {
  "RateLimit-Limit": headerRef("RateLimit-Limit"),
  "RateLimit-Remaining": headerRef("RateLimit-Remaining"),
  "RateLimit-Reset": headerRef("RateLimit-Reset"),
};

/** A job's `{id}`, declared inline by each operation (see `jobIdParam` in describe.ts). */
export const JOB_ID_PARAMETER = {
  name: "id",
  in: "path",
  required: true,
  description: "The job's id.",
  schema: { type: "string", format: "uuid" },
  example: "019e8e97-214c-782c-bf1a-5f04ef81ddd1",
} satisfies OpenAPIV3_1.ParameterObject;

export const PARAMETERS = {
  IdempotencyKey: {
    name: "Idempotency-Key",
    in: "header",
    required: false,
    description:
      "Makes the create safe to repeat: the same key with the same request returns the same job for 24 hours; with a different request it is a 422.",
    schema: { type: "string", minLength: 1, maxLength: 255, pattern: "^[\\x21-\\x7e]+$" },
    example: "import-2026-11-22-batch-7",
  },
  Include: {
    name: "include",
    in: "query",
    required: false,
    description: "`details` adds mailvet's extra fields (counts, reason, score, SMTP reply…).",
    schema: { type: "string", enum: ["details"] },
  },
  PageSize: {
    name: "page[size]",
    in: "query",
    required: false,
    description: "Page size, 1 to 1000 (default 100).",
    schema: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
  },
} satisfies Record<string, OpenAPIV3_1.ParameterObject>;

export const paramRef = (name: keyof typeof PARAMETERS & string) => ({
  $ref: `#/components/parameters/${name}`,
});

// Error answers. Each family renders errors its own way (app.onError), so
// each status has a response per family.

export type Family = "canonical" | "compat";

const ERROR_STATUSES = {
  400: ["BadRequest", "The request is invalid; `_errors` says where."],
  401: ["Unauthorized", "The API key is missing or invalid."],
  404: ["NotFound", "No such job (or not this account's)."],
  413: ["PayloadTooLarge", "The body is over the size limit."],
  415: ["UnsupportedMediaType", "The body has the wrong content type."],
  422: ["IdempotencyKeyReused", "The Idempotency-Key was used with a different request."],
  429: ["RateLimited", "Over the key's request limit; retry after `Retry-After` seconds."],
  500: ["ServerError", "Something went wrong on the server."],
} as const;

export type ErrorStatus = keyof typeof ERROR_STATUSES;

function responseName(family: Family, status: ErrorStatus): string {
  const [name] = ERROR_STATUSES[status];
  return family === "compat" ? `Compat${name}` : name;
}

/** components.responses: one entry per family and error status. */
export function errorResponseComponents(): ResponsesWithResolver {
  const out: ResponsesWithResolver = {};
  for (const family of ["canonical", "compat"] as const) {
    for (const key of Object.keys(ERROR_STATUSES)) {
      const status = Number(key) as ErrorStatus;
      const [, description] = ERROR_STATUSES[status];
      out[responseName(family, status)] = {
        description,
        ...(status === 429
          ? { headers: { "Retry-After": headerRef("Retry-After"), ...RATE_LIMIT_HEADERS } }
          : {}),
        content: { "application/json": { schema: output(family === "compat" ? compatError : errorsObject) } },
      };
    }
  }
  return out;
}

/** References to the family's error responses for the given statuses. */
export function errorRefs(family: Family, statuses: readonly ErrorStatus[]) {
  return Object.fromEntries(
    statuses.map((s) => [String(s), { $ref: `#/components/responses/${responseName(family, s)}` }]),
  );
}
