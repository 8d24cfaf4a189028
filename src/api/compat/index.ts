import { Hono } from "hono";
import type { AppEnv } from "../types";
import { validateNow } from "../validate-now";
import { controls } from "./control";
import { create } from "./create";
import { download } from "./download";
import { jobs } from "./jobs";

// The seed-003 compatible family under /v1/email/validate. Errors use that
// API's {"error": "…"} shape (app.onError picks it for /v1/ paths).

export const compat = new Hono<AppEnv>()
  .route("/", validateNow)
  .route("/", create)
  .route("/", jobs)
  .route("/", download)
  .route("/", controls);
