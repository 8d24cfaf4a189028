import type { Env, Hono } from "hono";
import { generateSpecs } from "hono-openapi";
import type { OpenAPIV3_1 } from "openapi-types";
import pkg from "../../package.json";
import { webhookEvent } from "../api/schemas";
import { errorResponseComponents, HEADERS, output, PARAMETERS, SECURITY_SCHEMES } from "./components";
import { TAGS } from "./describe";

// The OpenAPI 3.1 document, generated from the app's routes: each route's
// describeRoute middleware and validators, next to its handler in src/api/,
// and the zod schemas they name. Built once per isolate, on first request.

const DESCRIPTION = `Bulk email validation jobs on Cloudflare Workers.

Two API families serve the same jobs:

* **/email-validations**: the canonical API. Errors come as \`{"_errors": [...], "object": "error"}\`.
* **/v1/email/validate**: a compatible API for existing integrations. Errors come as \`{"error": "..."}\`.

Authenticate with an account's API key as \`Authorization: Bearer <key>\` (or \`?apiKey=<key>\`). Every
authenticated answer carries \`RateLimit-Limit\` and \`RateLimit-Policy\`; over the limit (counted per key
and per Cloudflare location, approximately) the answer is 429 with \`Retry-After\`, \`RateLimit-Reset\` and
\`RateLimit-Remaining: 0\`. Pages and lists carry \`x-d1-bookmark\`: send the last one back and no answer is
older than it.`;

const WEBHOOK_EVENTS = [
  "email_validation.completed",
  "email_validation.canceled",
  "email_validation.failed",
  "email_validation.progress",
] as const;

const documents = new WeakMap<object, Promise<OpenAPIV3_1.Document>>();

export function openApiDocument<E extends Env>(app: Hono<E>): Promise<OpenAPIV3_1.Document> {
  let doc = documents.get(app);
  if (!doc) {
    doc = build(app);
    documents.set(app, doc);
    // A failed build is not cached: the next request tries again.
    doc.catch(() => documents.delete(app));
  }
  return doc;
}

async function build<E extends Env>(app: Hono<E>): Promise<OpenAPIV3_1.Document> {
  const event = await output(webhookEvent).toOpenAPISchema();
  const spec = await generateSpecs(app, {
    documentation: {
      openapi: "3.1.0",
      info: {
        title: "mailvet",
        version: pkg.version,
        description: DESCRIPTION,
        license: { name: "MIT", identifier: "MIT" },
      },
      tags: [
        { name: TAGS.canonical, description: "The canonical job API." },
        { name: TAGS.webhooks, description: "Where job events are sent, and with which secret." },
        { name: TAGS.compat, description: "The compatible job API (`{error}` envelopes)." },
        { name: TAGS.admin, description: "Operator routes (ADMIN_TOKEN)." },
        { name: TAGS.service, description: "Health and this document." },
      ],
      security: [{ bearerAuth: [] }, { apiKeyQuery: [] }],
      components: {
        securitySchemes: SECURITY_SCHEMES,
        headers: HEADERS,
        parameters: PARAMETERS,
        responses: errorResponseComponents(),
        schemas: event.components?.schemas,
      },
      webhooks: Object.fromEntries(
        WEBHOOK_EVENTS.map((type): [string, OpenAPIV3_1.PathItemObject] => [
          type,
          {
            post: {
              summary: `Sent on ${type}`,
              description:
                "Signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`). Answer 2xx; other answers are retried, and 410 disables the endpoint.",
              requestBody: {
                content: { "application/json": { schema: { $ref: "#/components/schemas/webhook_event" } } },
              },
              responses: { "200": { description: "Received." } },
            },
          },
        ]),
      ),
    },
    // /openapi.json itself looks like a static file; keep it in the document.
    excludeStaticFile: false,
    // Every route declares its own 400 in its family's envelope.
    defaultValidationErrorResponse: false,
  });
  return spec as OpenAPIV3_1.Document;
}
