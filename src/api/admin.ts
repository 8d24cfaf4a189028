import { Hono } from "hono";
import { z } from "zod";
import { openDb } from "../db/client";
import { createApiKey } from "../db/keys";
import * as docs from "../openapi/operations";
import { adminProbers } from "./admin-probers";
import { adminAuth } from "./auth";
import { apiError } from "./errors";
import type { AppEnv } from "./types";

const accountName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/);

export const admin = new Hono<AppEnv>()
  .use("*", adminAuth())
  .post("/accounts/:account/keys", docs.createApiKey(accountName), async (c) => {
    const account = c.req.param("account");
    if (!accountName.safeParse(account).success) {
      throw apiError(
        400,
        "invalid_value",
        "Account ids are 1-64 characters: letters, digits, '_', '.' and '-'.",
        "/account",
      );
    }
    return c.json(await createApiKey(openDb(c.env.DB), account), 201);
  })
  .route("/probers", adminProbers);
