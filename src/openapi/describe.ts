import { type DescribeRouteOptions, describeRoute } from "hono-openapi";
import type { z } from "zod";
import {
  API_KEY_SECURITY,
  type ErrorStatus,
  errorRefs,
  type Family,
  JOB_ID_PARAMETER,
  output,
  RATE_LIMIT_HEADERS,
} from "./components";

// Helpers the route files describe their operations with. Each endpoint's
// description sits next to its handler; request bodies and parameters come
// from the validators in front of the handler, so the document cannot
// describe a request the code does not accept.

export const TAGS = {
  canonical: "Email validations",
  webhooks: "Webhook endpoints",
  compat: "Validation jobs (compatible API)",
  admin: "Admin",
  service: "Service",
} as const;

type Spec = DescribeRouteOptions & { errors?: ErrorStatus[] };
type Responses = NonNullable<DescribeRouteOptions["responses"]>;

/** A JSON response body described by a zod schema (as its output). */
export const json = (schema: z.ZodType) => ({ "application/json": { schema: output(schema) } });

/** Bodies carrying a body are also subject to the size limit and the content type. */
export const BODY_ERRORS: ErrorStatus[] = [400, 413, 415];

/**
 * The job id in the path, written out rather than as a $ref: the generator
 * adds any path parameter it does not see by name, and a $ref hides the name.
 */
export const jobIdParam = JOB_ID_PARAMETER;

/**
 * An operation that takes an account's API key: both auth schemes, the
 * RateLimit-* headers on every success, and the family's error envelope for
 * the statuses every such route can answer (401, 429, 500) plus its own.
 */
export function keyed(family: Family, tag: string, { errors = [], responses = {}, ...spec }: Spec) {
  const withRateLimit: Responses = {};
  for (const [status, response] of Object.entries(responses)) {
    withRateLimit[status] =
      status.startsWith("2") && !("$ref" in response)
        ? { ...response, headers: { ...RATE_LIMIT_HEADERS, ...response.headers } }
        : response;
  }
  const statuses = [...new Set<ErrorStatus>([...errors, 401, 429, 500])].sort((a, b) => a - b);
  return describeRoute({
    tags: [tag],
    security: API_KEY_SECURITY,
    ...spec,
    responses: { ...withRateLimit, ...errorRefs(family, statuses) },
  });
}

/** A public operation: no key. */
export const open = (spec: DescribeRouteOptions) =>
  describeRoute({ tags: [TAGS.service], security: [], ...spec });
