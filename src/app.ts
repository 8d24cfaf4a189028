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
import type { AppEnv } from "./api/types";
import { webhookEndpoints } from "./api/webhook-endpoints";
import { readConfig } from "./config";
import { dashboard } from "./dashboard/routes";
import { docs } from "./docs/routes";
import { openApiDocument } from "./openapi/document";
import * as ops from "./openapi/operations";

export const app = new Hono<AppEnv>();

const JOB_ID_IN_PATH = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

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
      job: c.req.path.match(JOB_ID_IN_PATH)?.[0] ?? null,
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

app.get("/health", ops.health, (c) => c.json({ ok: true }));
// Public pages: the OpenAPI document, its Swagger UI, and the dashboard (which asks for a key).
app.get("/openapi.json", ops.openApiDocument, async (c) => c.json(await openApiDocument(app)));
app.route("/docs", docs);
app.route("/", dashboard);
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
  let self: string | undefined;
  if (err instanceof ApiError) {
    status = err.status;
    items = err.items;
    self = err.selfHref;
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
  return c.json(canonicalEnvelope(items, self), status);
});
