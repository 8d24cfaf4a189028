import type { Context, MiddlewareHandler } from "hono";
import { openDb } from "../db/client";
import { accountForKey } from "../db/keys";
import { secretsEqual } from "../lib/crypto";
import { apiError } from "./errors";
import type { AppEnv } from "./types";

function bearer(c: Context): string | null {
  const header = c.req.header("authorization");
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1] ?? null;
}

/** Accepts an account's API key as `Authorization: Bearer` or the `apiKey` query parameter. */
export function apiKeyAuth(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const key = bearer(c) ?? c.req.query("apiKey") ?? null;
    if (!key) {
      throw apiError(
        401,
        "unauthorized",
        "Missing API key: send 'Authorization: Bearer <key>' or '?apiKey=<key>'.",
      );
    }
    const found = await accountForKey(openDb(c.env.DB), key);
    if (!found) throw apiError(401, "unauthorized", "Invalid API key.");
    c.set("accountId", found.accountId);
    c.set("keyId", found.keyId);
    await next();
  };
}

/** Admin routes take only the operator's ADMIN_TOKEN, never an account key. */
export function adminAuth(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const token = bearer(c);
    const expected = c.env.ADMIN_TOKEN;
    if (!expected) throw apiError(403, "forbidden", "Admin API is disabled: ADMIN_TOKEN is not set.");
    if (!token || !(await secretsEqual(token, expected))) {
      throw apiError(401, "unauthorized", "Admin routes require 'Authorization: Bearer <ADMIN_TOKEN>'.");
    }
    await next();
  };
}
