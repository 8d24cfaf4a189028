import { Hono } from "hono";
import { describeRoute, validator } from "hono-openapi";
import { z } from "zod";
import { openDb } from "../db/client";
import { createApiKey } from "../db/keys";
import { errorRefs } from "../openapi/components";
import { json, TAGS } from "../openapi/describe";
import { adminProbers } from "./admin-probers";
import { adminAuth } from "./auth";
import { apiError } from "./errors";
import * as s from "./schemas";
import type { AppEnv } from "./types";

// Operator routes, behind ADMIN_TOKEN.

const path = z.object({
  account: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/)
    .meta({ description: "The account's id (created on first use)." }),
});

const accountKeys = new Hono<AppEnv>().post(
  "/accounts/:account/keys",
  describeRoute({
    operationId: "createApiKey",
    tags: [TAGS.admin],
    summary: "Create an API key for an account",
    security: [{ adminToken: [] }],
    responses: {
      201: { description: "The new key.", content: json(s.createdApiKey) },
      ...errorRefs("canonical", [400, 401, 500]),
      403: {
        description: "The admin API is off: ADMIN_TOKEN is not set.",
        content: json(s.errorsObject),
      },
    },
  }),
  validator("param", path, (result) => {
    if (!result.success) {
      throw apiError(
        400,
        "invalid_value",
        "Account ids are 1-64 characters: letters, digits, '_', '.' and '-'.",
        "/account",
      );
    }
  }),
  async (c) => c.json(await createApiKey(openDb(c.env.DB), c.req.valid("param").account), 201),
);

export const admin = new Hono<AppEnv>()
  .use("*", adminAuth())
  .route("/", accountKeys)
  .route("/probers", adminProbers);
