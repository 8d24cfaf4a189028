import { type DescribeRouteOptions, describeRoute, resolver } from "hono-openapi";
import { z } from "zod";
import { jobOptions } from "../api/job-options";
import * as s from "../api/schemas";
import {
  API_KEY_SECURITY,
  type ErrorStatus,
  errorRefs,
  type Family,
  headerRef,
  JOB_ID_PARAMETER,
  output,
  paramRef,
  RATE_LIMIT_HEADERS,
} from "./components";

// The OpenAPI description of every operation, as hono-openapi middlewares the
// route files put in front of their handlers. Request bodies are resolved from
// the zod schemas the handlers validate with, passed in by the route files,
// so the document cannot describe a body the code does not accept.

export const TAGS = {
  canonical: "Email validations",
  webhooks: "Webhook endpoints",
  compat: "Validation jobs (compatible API)",
  admin: "Admin",
  service: "Service",
} as const;

const RESULT_CLASSES = ["deliverable", "risky", "undeliverable", "unknown"];

type Spec = DescribeRouteOptions & { errors?: ErrorStatus[] };
type Responses = NonNullable<DescribeRouteOptions["responses"]>;

const json = (schema: z.ZodType, extra: object = {}) => ({
  "application/json": { schema: output(schema), ...extra },
});

const text = (description: string) => ({
  description,
  content: { "text/html": { schema: { type: "string" as const } } },
});

/**
 * An operation that takes an account's API key: both auth schemes, the
 * RateLimit-* headers on every success, and the family's error envelope for
 * the statuses every such route can answer (401, 429, 500) plus its own.
 */
function keyed(family: Family, tag: string, { errors = [], responses = {}, ...spec }: Spec) {
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

/** Bodies carrying a body are also subject to the size limit and the content type. */
const BODY_ERRORS: ErrorStatus[] = [400, 413, 415];

// Inline, not a $ref: hono-openapi adds a path parameter of its own for every
// `{id}` it cannot see declared inline, and a $ref would then declare `id` twice.
const jobIdParam = JOB_ID_PARAMETER;

// ── /email-validations ─────────────────────────────────────────────────

/** The multipart form of POST /email-validations: the list file, plus the same job options as JSON. */
function uploadForm() {
  return jobOptions
    .extend({
      file: z
        .file()
        .meta({ description: "A CSV, XLSX or XLS list: an `email` column, or emails in the first column." }),
      label: z.string().max(200).optional(),
    })
    .loose(); // other form fields are ignored, not refused
}

export function createEmailValidation(createSchema: z.ZodType) {
  return keyed("canonical", TAGS.canonical, {
    operationId: "createEmailValidation",
    summary: "Create a batch of email validations",
    description:
      "Queues a job for a list of addresses, sent as JSON (`emails`: strings, or objects whose other fields come back in downloads) or as a multipart upload of a CSV/XLSX/XLS `file`. Duplicates are removed. Poll the job, or set `webhook_url`.",
    parameters: [paramRef("IdempotencyKey"), paramRef("Include")],
    requestBody: {
      required: true,
      content: {
        "application/json": {
          schema: resolver(createSchema),
          example: {
            emails: ["alice@example.com", { email: "bob@example.com", crm_id: 42 }],
            label: "Newsletter",
          },
        },
        "multipart/form-data": { schema: resolver(uploadForm()) },
      },
    },
    responses: {
      202: {
        description: "Accepted: the job is queued.",
        headers: { Location: headerRef("Location"), "Idempotent-Replayed": headerRef("Idempotent-Replayed") },
        content: json(s.emailValidationResponse),
      },
    },
    errors: [...BODY_ERRORS, 422],
  });
}

export const listEmailValidations = keyed("canonical", TAGS.canonical, {
  operationId: "listEmailValidations",
  summary: "List the account's jobs",
  description: "Newest first, without results. Follow `_links.next` for the next page.",
  parameters: [
    paramRef("PageSize"),
    {
      name: "page[after]",
      in: "query",
      description: "The id of the last job of the previous page.",
      schema: { type: "string", format: "uuid" },
    },
    paramRef("Include"),
  ],
  responses: { 200: { description: "A page of jobs.", content: json(s.emailValidationList) } },
  errors: [400],
});

export const getEmailValidation = keyed("canonical", TAGS.canonical, {
  operationId: "getEmailValidation",
  summary: "Retrieve a batch of email validations",
  description:
    "The job and a page of its results. While a job waits to ask a greylisting server again, `Retry-After` says when polling is worth it.",
  parameters: [
    jobIdParam,
    paramRef("PageSize"),
    {
      name: "page[after]",
      in: "query",
      description: "The email of the last result of the previous page.",
      schema: { type: "string" },
    },
    {
      name: "page[before]",
      in: "query",
      description: "The email of the first result of the next page.",
      schema: { type: "string" },
    },
    paramRef("Include"),
  ],
  responses: {
    200: {
      description: "The job.",
      headers: { "Retry-After": headerRef("Retry-After") },
      content: json(s.emailValidationResponse),
    },
  },
  errors: [400, 404],
});

export function updateEmailValidation(statuses: Record<string, string>) {
  const [first, ...rest] = Object.keys(statuses);
  const body = z.object({
    status: z.enum([first ?? "canceled", ...rest]).meta({
      description: "`canceled` cancels; `paused` and `processing` pause and resume.",
    }),
  });
  return keyed("canonical", TAGS.canonical, {
    operationId: "updateEmailValidation",
    summary: "Cancel, pause or resume a batch of email validations",
    parameters: [jobIdParam, paramRef("Include")],
    requestBody: {
      required: true,
      description: "New batch status",
      content: { "application/json": { schema: resolver(body), example: { status: "canceled" } } },
    },
    responses: {
      200: { description: "The job after the change.", content: json(s.emailValidationResponse) },
    },
    errors: [...BODY_ERRORS, 404],
  });
}

export const cancelEmailValidation = keyed("canonical", TAGS.canonical, {
  operationId: "cancelEmailValidation",
  summary: "Cancel a batch (no body)",
  parameters: [jobIdParam],
  responses: { 200: { description: "Canceled.", content: json(s.cancelAcknowledgement) } },
  errors: [400, 404],
});

export const deleteEmailValidation = keyed("canonical", TAGS.canonical, {
  operationId: "deleteEmailValidation",
  summary: "Delete a job and its results",
  parameters: [jobIdParam],
  responses: { 204: { description: "Deleted." } },
  errors: [404],
});

export const downloadEmailValidation = keyed("canonical", TAGS.canonical, {
  operationId: "downloadEmailValidationResults",
  summary: "Download the results",
  description:
    "Streams every result (with details and the input's extra columns) as CSV or NDJSON, optionally only some result classes.",
  parameters: [
    jobIdParam,
    {
      name: "format",
      in: "query",
      schema: { type: "string", enum: ["csv", "ndjson"], default: "csv" },
    },
    {
      name: "result",
      in: "query",
      description: "Only these result classes, comma-separated.",
      style: "form",
      explode: false,
      schema: { type: "array", items: { type: "string", enum: RESULT_CLASSES } },
      example: ["deliverable", "risky"],
    },
  ],
  responses: {
    200: {
      description: "The results file.",
      headers: { "Content-Disposition": { schema: { type: "string" } } },
      content: {
        "text/csv": { schema: { type: "string" } },
        "application/x-ndjson": { schema: { type: "string" } },
      },
    },
  },
  errors: [400, 404],
});

export const listWebhookDeliveries = keyed("canonical", TAGS.canonical, {
  operationId: "listWebhookDeliveries",
  summary: "The job's webhook delivery log",
  parameters: [jobIdParam],
  responses: {
    200: { description: "Every delivery and its attempts.", content: json(s.webhookDeliveryList) },
  },
  errors: [404],
});

export const retryWebhookDelivery = keyed("canonical", TAGS.canonical, {
  operationId: "retryWebhookDelivery",
  summary: "Send a webhook delivery again",
  parameters: [jobIdParam, { name: "delivery", in: "path", required: true, schema: { type: "string" } }],
  responses: { 202: { description: "Queued for delivery.", content: json(s.successObject) } },
  errors: [404],
});

// ── /webhook-endpoints ─────────────────────────────────────────────────

export function createWebhookEndpoint(createBody: z.ZodType) {
  return keyed("canonical", TAGS.webhooks, {
    operationId: "createWebhookEndpoint",
    summary: "Register a webhook endpoint",
    description: "The answer carries the endpoint's signing secret, shown only this once.",
    requestBody: {
      required: true,
      content: {
        "application/json": {
          schema: resolver(createBody),
          example: { url: "https://example.com/hooks/mailvet", events: ["email_validation.completed"] },
        },
      },
    },
    responses: { 201: { description: "Created.", content: json(s.webhookEndpoint) } },
    errors: BODY_ERRORS,
  });
}

export const listWebhookEndpoints = keyed("canonical", TAGS.webhooks, {
  operationId: "listWebhookEndpoints",
  summary: "List webhook endpoints",
  responses: {
    200: { description: "The endpoints (without secrets).", content: json(s.webhookEndpointList) },
  },
});

export const rotateJobWebhookSecret = keyed("canonical", TAGS.webhooks, {
  operationId: "rotateJobWebhookSecret",
  summary: "Issue the secret for jobs' own webhook_url",
  description:
    "Deliveries to a job's `webhook_url` are signed with this account-wide secret; this (re)issues it.",
  responses: { 201: { description: "The new secret.", content: json(s.webhookSecret) } },
});

export const deleteWebhookEndpoint = keyed("canonical", TAGS.webhooks, {
  operationId: "deleteWebhookEndpoint",
  summary: "Delete a webhook endpoint",
  parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
  responses: { 204: { description: "Deleted." } },
  errors: [404],
});

// ── /v1/email/validate (seed 003) ──────────────────────────────────────

export function validateEmails(body: z.ZodType) {
  return keyed("compat", TAGS.compat, {
    operationId: "validateEmails",
    summary: "Validate up to 100 addresses now",
    description:
      "Synchronous. A greylisting server's answer is reported as unknown: there is no job to retry in.",
    requestBody: {
      required: true,
      content: {
        "application/json": {
          schema: resolver(body),
          example: { emails: ["alice@example.com", "nobody@example.com"] },
        },
      },
    },
    responses: { 200: { description: "One result per address.", content: json(s.compatResultList) } },
    errors: BODY_ERRORS,
  });
}

/** The multipart form of POST /v1/email/validate/job. */
function compatUploadForm() {
  return jobOptions
    .extend({
      source: z.enum(["file", "input", "excel"]).meta({ description: "Which field holds the list." }),
      file: z.file().optional().meta({ description: "CSV/XLSX/XLS list (source=file or excel)." }),
      input: z
        .string()
        .optional()
        .meta({ description: "Comma- or newline-separated emails (source=input)." }),
      label: z.string().max(200).optional(),
    })
    .loose(); // other form fields (e.g. integration) are ignored, not refused
}

export const createValidationJob = keyed("compat", TAGS.compat, {
  operationId: "createValidationJob",
  summary: "Create a validation job",
  parameters: [paramRef("IdempotencyKey")],
  requestBody: {
    required: true,
    content: { "multipart/form-data": { schema: resolver(compatUploadForm()) } },
  },
  responses: { 201: { description: "Created.", content: json(s.compatCreated) } },
  errors: [...BODY_ERRORS, 422],
});

export const listValidationJobs = keyed("compat", TAGS.compat, {
  operationId: "listValidationJobs",
  summary: "List validation jobs",
  description: "The newest 1000 jobs.",
  responses: { 200: { description: "The jobs.", content: json(s.compatJobList) } },
});

export const getValidationJob = keyed("compat", TAGS.compat, {
  operationId: "getValidationJob",
  summary: "Get a validation job",
  parameters: [jobIdParam],
  responses: { 200: { description: "The job.", content: json(s.compatJob) } },
  errors: [404],
});

export const getValidationJobResults = keyed("compat", TAGS.compat, {
  operationId: "getValidationJobResults",
  summary: "Get a page of results",
  description: "Up to 1000 results from position `pos`; an empty array ends the list.",
  parameters: [jobIdParam, { name: "pos", in: "query", schema: { type: "integer", minimum: 0, default: 0 } }],
  responses: { 200: { description: "Results.", content: json(s.compatResultList) } },
  errors: [400, 404],
});

export function downloadValidationJob(classifiers: readonly string[]) {
  return keyed("compat", TAGS.compat, {
    operationId: "downloadValidationJobResults",
    summary: "Download results as CSV",
    parameters: [
      jobIdParam,
      {
        name: "filters",
        in: "query",
        description: "Only these classifiers; repeat the parameter for more than one.",
        style: "form",
        explode: true,
        schema: { type: "array", items: { type: "string", enum: [...classifiers] } },
      },
    ],
    responses: {
      200: {
        description: "The CSV file.",
        headers: { "Content-Disposition": { schema: { type: "string" } } },
        content: { "text/csv": { schema: { type: "string" } } },
      },
    },
    errors: [400, 404],
  });
}

export const deleteValidationJob = keyed("compat", TAGS.compat, {
  operationId: "deleteValidationJob",
  summary: "Delete a validation job",
  parameters: [jobIdParam],
  responses: { 200: { description: "Deleted.", content: json(s.compatSuccess) } },
  errors: [404],
});

const stateChange = (verb: "pause" | "resume") =>
  keyed("compat", TAGS.compat, {
    operationId: `${verb}ValidationJob`,
    summary: `${verb === "pause" ? "Pause" : "Resume"} a validation job`,
    parameters: [jobIdParam],
    responses: { 200: { description: "The new state.", content: json(s.compatStateChange) } },
    errors: [400, 404],
  });

export const pauseValidationJob = stateChange("pause");
export const resumeValidationJob = stateChange("resume");

export const cancelValidationJob = keyed("compat", TAGS.compat, {
  operationId: "cancelValidationJob",
  summary: "Cancel a validation job",
  parameters: [jobIdParam],
  responses: { 200: { description: "Canceled.", content: json(s.compatCancel) } },
  errors: [400, 404],
});

// ── Operator and service routes ────────────────────────────────────────

export function createApiKey(accountName: z.ZodType) {
  return describeRoute({
    operationId: "createApiKey",
    tags: [TAGS.admin],
    summary: "Create an API key for an account",
    security: [{ adminToken: [] }],
    parameters: [
      {
        name: "account",
        in: "path",
        required: true,
        description: "The account's id (created on first use).",
        schema: z.toJSONSchema(accountName, { io: "input" }) as object,
      },
    ],
    responses: {
      201: { description: "The new key.", content: json(s.createdApiKey) },
      ...errorRefs("canonical", [400, 401, 500]),
      403: {
        description: "The admin API is off: ADMIN_TOKEN is not set.",
        content: json(s.errorsObject),
      },
    },
  });
}

const open = (spec: DescribeRouteOptions) => describeRoute({ tags: [TAGS.service], security: [], ...spec });

export const health = open({
  operationId: "health",
  summary: "Liveness check",
  responses: { 200: { description: "Up.", content: json(s.healthObject) } },
});

export const openApiDocument = open({
  operationId: "getOpenApiDocument",
  summary: "This OpenAPI document",
  responses: {
    200: { description: "OpenAPI 3.1.", content: { "application/json": { schema: { type: "object" } } } },
  },
});

export const docsPage = open({
  operationId: "docsPage",
  summary: "Interactive API documentation (Swagger UI)",
  responses: { 200: text("The page.") },
});

export const dashboardPage = open({
  operationId: "dashboardPage",
  summary: "The dashboard: create, watch and download jobs with an API key",
  responses: { 200: text("The page.") },
});

/** A static file of the docs page or the dashboard, by name. */
export function staticAsset(operationId: string, names: readonly string[]) {
  return open({
    operationId,
    summary: "A static file of the page",
    parameters: [{ name: "asset", in: "path", required: true, schema: { type: "string", enum: [...names] } }],
    responses: {
      200: {
        description: "The file (CSS or JavaScript), cacheable.",
        headers: { "Cache-Control": { schema: { type: "string" } } },
        content: {
          "text/css": { schema: { type: "string" } },
          "text/javascript": { schema: { type: "string" } },
        },
      },
      404: { description: "No such file.", content: json(s.errorsObject) },
    },
  });
}
