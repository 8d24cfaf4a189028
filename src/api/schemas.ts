import { z } from "zod";

// Zod schemas of what the API answers. The code never parses its own answers
// with them: they exist so /openapi.json describes the responses from the same
// kind of source as the requests, and the OpenAPI test checks live answers
// against the generated document. Each `id` becomes a components.schemas
// entry; the canonical ones keep the contract's names (seed 001).

const RESULT_CLASSES = ["deliverable", "risky", "undeliverable", "unknown"] as const;
const CANONICAL_STATUSES = ["queued", "processing", "completed", "canceled", "error"] as const;
const EXAMPLE_ID = "019e8e97-214c-782c-bf1a-5f04ef81ddd1";
const EXAMPLE_HREF = `/email-validations/${EXAMPLE_ID}`;
const isoDate = z.string().meta({ format: "date-time" });

// ── The canonical family (/email-validations) ───────────────────────────

export const linkObject = z.strictObject({ href: z.string() }).meta({ id: "response_link_object" });

export const linksObject = z
  .strictObject({ self: linkObject, prev: linkObject.optional(), next: linkObject.optional() })
  .meta({ id: "response_links_object" });

export const errorObject = z
  .strictObject({
    code: z.string(),
    title: z.string(),
    detail: z.string(),
    source: z.strictObject({ pointer: z.string().optional() }).optional(),
  })
  .meta({ id: "response_error_object" });

export const errorsObject = z
  .strictObject({
    object: z.enum(["error"]),
    _errors: z.array(errorObject),
    _links: linksObject.optional(),
  })
  .meta({
    id: "response_errors_object",
    description: "The canonical error envelope.",
    examples: [
      {
        _errors: [
          {
            code: "missing_field",
            title: "Missing Field",
            detail: "Missing field for request: status",
            source: { pointer: "/status" },
          },
        ],
        _links: { self: { href: EXAMPLE_HREF } },
        object: "error",
      },
    ],
  });

// The result as submitted: `email` echoes the input, so it is not checked against the format.
export const resultObject = z
  .strictObject({
    object: z.enum(["email_validation_result"]),
    email: z.string().meta({ format: "email" }),
    result: z.enum(RESULT_CLASSES),
    catch_all: z.boolean(),
  })
  .meta({ id: "response_email_validation_result_object" });

export const resultDetailsObject = resultObject
  .extend({
    reason: z.string().meta({
      description:
        "Why the result is what it is, e.g. accepted, mailbox_not_found, reserved_domain, or dns_unavailable / prober_unavailable when our own infrastructure failed until the deadline.",
    }),
    score: z.number().int().min(0).max(100),
    smtp_code: z.number().int().nullable(),
    smtp_text: z.string().nullable(),
    mx_host: z.string().nullable(),
    disposable: z.boolean(),
    role: z.boolean(),
    free: z.boolean(),
    did_you_mean: z.string().nullable(),
  })
  .meta({
    id: "email_validation_result_with_details",
    description: "A result with mailvet's extra fields (?include=details).",
  });

export const countsObject = z
  .strictObject({
    processed: z.number().int(),
    deliverable: z.number().int(),
    undeliverable: z.number().int(),
    risky: z.number().int(),
    unknown: z.number().int(),
  })
  .meta({ id: "email_validation_counts" });

export const emailValidationObject = z
  .strictObject({
    id: z.string().meta({ format: "uuid" }),
    object: z.enum(["email_validation"]),
    status: z.enum(CANONICAL_STATUSES),
    results: z.array(resultObject),
    _errors: z.array(errorObject).optional(),
    _links: linksObject,
  })
  .meta({
    id: "response_email_validation_object",
    examples: [
      {
        id: EXAMPLE_ID,
        object: "email_validation",
        status: "completed",
        results: [
          {
            object: "email_validation_result",
            email: "alice@example.com",
            result: "deliverable",
            catch_all: false,
          },
        ],
        _links: { self: { href: EXAMPLE_HREF } },
      },
    ],
  });

export const emailValidationDetailsObject = emailValidationObject
  .extend({
    results: z.array(resultDetailsObject),
    label: z.string().nullable(),
    source: z.string().meta({ description: "How the list arrived: api, file, excel or input." }),
    paused: z
      .boolean()
      .meta({ description: "A paused job reports status `processing`; this tells them apart." }),
    total: z.number().int(),
    counts: countsObject,
    created_at: isoDate.nullable(),
    started_at: isoDate.nullable().optional(),
    finished_at: isoDate.nullable(),
    start_at: isoDate.nullable().optional(),
  })
  .meta({
    id: "email_validation_with_details",
    description: "A job with mailvet's extra fields (?include=details).",
  });

/** Either shape: the contract's exact object, or the one ?include=details gives. */
export const emailValidationResponse = z.union([emailValidationObject, emailValidationDetailsObject]);

export const emailValidationList = z
  .strictObject({
    object: z.enum(["list"]),
    email_validations: z.array(emailValidationResponse),
    _links: linksObject,
  })
  .meta({ id: "email_validation_list" });

export const cancelAcknowledgement = z
  .strictObject({ success: z.literal(true), message: z.string() })
  .meta({ id: "cancel_acknowledgement" });

export const successObject = z.strictObject({ success: z.literal(true) }).meta({ id: "success" });

export const webhookDelivery = z
  .strictObject({
    id: z.string(),
    event_type: z.string(),
    url: z.string(),
    endpoint_id: z.string().nullable(),
    state: z.enum(["pending", "delivered", "failed"]),
    created_at: isoDate,
    next_attempt_at: isoDate.nullable(),
    attempts: z.array(
      z.strictObject({
        attempt: z.number().int(),
        at: isoDate,
        status: z.number().int().nullable(),
        duration_ms: z.number(),
        error: z.string().nullable(),
      }),
    ),
  })
  .meta({ id: "webhook_delivery" });

export const webhookDeliveryList = z
  .strictObject({ object: z.enum(["list"]), webhook_deliveries: z.array(webhookDelivery) })
  .meta({ id: "webhook_delivery_list" });

// ── Webhook endpoints ───────────────────────────────────────────────────

export const webhookEndpoint = z
  .strictObject({
    id: z.string(),
    object: z.enum(["webhook_endpoint"]),
    url: z.string().meta({ format: "uri" }),
    events: z.array(z.string()),
    enabled: z.boolean(),
    disabled_reason: z.string().nullable(),
    created_at: isoDate,
    secret: z.string().optional().meta({ description: "The signing secret; shown only when created." }),
  })
  .meta({ id: "webhook_endpoint" });

export const webhookEndpointList = z
  .strictObject({ object: z.enum(["list"]), webhook_endpoints: z.array(webhookEndpoint) })
  .meta({ id: "webhook_endpoint_list" });

export const webhookSecret = z
  .strictObject({ object: z.enum(["webhook_secret"]), secret: z.string() })
  .meta({ id: "webhook_secret" });

/** The body mailvet POSTs to a webhook (signed per Standard Webhooks). */
export const webhookEvent = z
  .strictObject({
    type: z.enum([
      "email_validation.completed",
      "email_validation.canceled",
      "email_validation.failed",
      "email_validation.progress",
    ]),
    timestamp: isoDate,
    data: z.strictObject({
      id: z.string(),
      status: z.enum(CANONICAL_STATUSES),
      counts: countsObject,
      links: z.strictObject({ self: z.string() }),
    }),
  })
  .meta({ id: "webhook_event" });

// ── The compatible family (/v1/email/validate, seed 003) ────────────────

export const compatError = z.strictObject({ error: z.string() }).meta({
  id: "compat_error",
  description: "The compatible family's error shape.",
  examples: [{ error: "Job not found" }],
});

export const compatResult = z
  .strictObject({
    email: z.string(),
    result: z.strictObject({
      syntax: z.enum(["pass", "fail"]),
      mx: z.enum(["pass", "fail", "n/a"]),
      mailbox: z.enum(["pass", "fail", "n/a"]),
      score: z.number().int().min(0).max(10),
      classifier: z.enum(["valid", "risky", "invalid"]),
      description: z.array(z.string()),
      smtpResponse: z.string(),
    }),
  })
  .meta({
    id: "compat_result",
    examples: [
      {
        email: "alice@example.com",
        result: {
          syntax: "pass",
          mx: "pass",
          mailbox: "pass",
          score: 10,
          classifier: "valid",
          description: [],
          smtpResponse: "250 2.1.5 OK",
        },
      },
    ],
  });

export const compatResultList = z.array(compatResult);

export const compatJob = z
  .strictObject({
    id: z.string(),
    label: z.string(),
    state: z.enum(["pending", "running", "paused", "failed", "done", "canceled"]),
    emailCount: z.number().int(),
    source: z.string(),
    integration: z.null(),
    summary: z.strictObject({
      totalEmails: z.number().int(),
      deliverableCount: z.number().int(),
      undeliverableCount: z.number().int(),
      riskyCount: z.number().int().meta({ description: "Risky and unknown results together." }),
      unknownCount: z.number().int(),
    }),
    createdAt: isoDate.nullable(),
    finishedAt: isoDate.nullable(),
  })
  .meta({ id: "compat_job" });

export const compatJobList = z.array(compatJob);

export const compatCreated = z.strictObject({ id: z.string() }).meta({ id: "compat_job_created" });

export const compatSuccess = z.strictObject({ success: z.literal(true) }).meta({ id: "compat_success" });

export const compatStateChange = z
  .strictObject({ success: z.literal(true), id: z.string(), state: z.enum(["paused", "pending", "running"]) })
  .meta({ id: "compat_state_change" });

export const compatCancel = z
  .strictObject({
    success: z.literal(true),
    message: z.string(),
    batchJobId: z.string(),
    contactsCancelled: z.number().int(),
  })
  .meta({ id: "compat_cancel" });

// ── Operator and service ────────────────────────────────────────────────

export const createdApiKey = z
  .strictObject({ id: z.string(), account: z.string(), key: z.string(), created_at: isoDate })
  .meta({ id: "api_key_created", description: "The key is shown once; only its hash is stored." });

export const healthObject = z.strictObject({ ok: z.literal(true) }).meta({ id: "health" });
