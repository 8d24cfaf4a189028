import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { admin } from "./api/admin";
import { apiKeyAuth } from "./api/auth";
import { compat } from "./api/compat";
import { emailValidations } from "./api/email-validations";
import { ApiError, apiError, canonicalEnvelope, type ErrorItem, titleFor } from "./api/errors";
import { rateLimit } from "./api/rate-limit";
import { healthObject } from "./api/schemas";
import type { AppEnv } from "./api/types";
import { webhookEndpoints } from "./api/webhook-endpoints";
import { readConfig } from "./config";
import { isJobId } from "./job/stub";
import { json, open } from "./openapi/describe";
import { openApiDocument } from "./openapi/document";

export const app = new Hono<AppEnv>();

// Structured access log: never the query string (it may hold ?apiKey=).
app.use("*", async (c, next) => {
  const started = Date.now();
  await next();
  console.log(
    JSON.stringify({
      msg: "request",
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Date.now() - started,
      account: c.get("accountId") ?? null,
      job: c.req.path.split("/").find(isJobId) ?? null,
    }),
  );
});

// Refuse oversized bodies before reading them.
app.use("*", async (c, next) => {
  const maxSize = readConfig(c.env).maxBodyBytes;
  return bodyLimit({
    maxSize,
    onError: () => {
      throw apiError(413, "body_too_large", `The request body is over the ${maxSize}-byte limit.`);
    },
  })(c, next);
});

app.get(
  "/health",
  open({
    operationId: "health",
    summary: "Liveness check",
    responses: { 200: { description: "Up.", content: json(healthObject) } },
  }),
  (c) => c.json({ ok: true as const }),
);
// The OpenAPI document is public. Its Swagger UI (/docs) and the dashboard (/)
// are static files served before the worker runs (Workers Static Assets, public/).
app.get(
  "/openapi.json",
  open({
    operationId: "getOpenApiDocument",
    summary: "This OpenAPI document",
    responses: {
      200: { description: "OpenAPI 3.1.", content: { "application/json": { schema: { type: "object" } } } },
    },
  }),
  async (c) => c.json(await openApiDocument(app)),
);
app.route("/admin", admin);
// `${base}/*` matches the base itself too: one use per family, or its list would count twice.
for (const base of ["/email-validations", "/v1/email/validate", "/webhook-endpoints"])
  app.use(`${base}/*`, apiKeyAuth(), rateLimit());
app.route("/email-validations", emailValidations);
app.route("/v1/email/validate", compat);
app.route("/webhook-endpoints", webhookEndpoints);

app.notFound(() => {
  throw apiError(404, "not_found", "No such route.");
});

app.onError((err, c) => {
  let status: ContentfulStatusCode;
  let items: ErrorItem[];
  if (err instanceof ApiError) {
    status = err.status;
    items = err.items;
    for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
  } else if (err instanceof HTTPException) {
    status = err.status;
    const code = status === 401 ? "unauthorized" : status === 404 ? "not_found" : "invalid_value";
    items = [{ code, title: titleFor(code), detail: err.message || titleFor(code) }];
  } else {
    status = 500;
    items = [
      {
        code: "internal_error",
        title: titleFor("internal_error"),
        detail: "Something went wrong on our side.",
      },
    ];
    console.error(JSON.stringify({ msg: "unhandled error", path: c.req.path, error: String(err) }));
  }
  if (c.req.path.startsWith("/v1/")) {
    return c.json({ error: items[0]?.detail ?? "Error" }, status);
  }
  // A 404 has no self link: the path names nothing, and echoing it back would
  // tell another account's job from a missing one.
  return c.json(canonicalEnvelope(items, status === 404 ? undefined : c.req.path), status);
});
