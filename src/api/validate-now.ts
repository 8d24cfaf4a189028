import { Hono } from "hono";
import { z } from "zod";
import { readConfig } from "../config";
import { BODY_ERRORS, json, keyed, TAGS } from "../openapi/describe";
import { engineDeps } from "../verify/deps";
import { verdictDetail } from "../verify/detail";
import { checkAddresses } from "../verify/engine";
import { isSafeText } from "../verify/syntax";
import { verdict } from "../verify/verdict";
import { compatResult } from "./compat-present";
import { apiError } from "./errors";
import * as s from "./schemas";
import type { AppEnv } from "./types";
import { jsonBody } from "./validation";

// Direct, synchronous validation of up to 100 addresses (seed 003's
// "/email/validate"). There is no job to come back to, so a greylisting
// server's answer is reported as unknown rather than asked again later.

export const DIRECT_MAX = 100;

const email = z.string().min(1).max(320).refine(isSafeText);
export const validateNowBody = z.union([
  z.object({ emails: z.array(email).min(1).max(DIRECT_MAX) }),
  z.object({ email }),
]);

/** Too many addresses is worth its own answer; anything else gets the shape to send. */
function refuse(_issues: unknown, raw: unknown) {
  const emails = (raw as { emails?: unknown } | null)?.emails;
  if (Array.isArray(emails) && emails.length > DIRECT_MAX) {
    return apiError(
      400,
      "too_many_entries",
      `Direct validation takes at most ${DIRECT_MAX} emails; create a job for more.`,
    );
  }
  return apiError(
    400,
    "invalid_value",
    'Send {"emails": ["a@example.com", …]} (1 to 100) or {"email": "a@example.com"}.',
  );
}

export const validateNow = new Hono<AppEnv>().post(
  "/",
  keyed("compat", TAGS.compat, {
    operationId: "validateEmails",
    summary: "Validate up to 100 addresses now",
    description:
      "Synchronous. A greylisting server's answer is reported as unknown: there is no job to retry in.",
    responses: { 200: { description: "One result per address.", content: json(s.compatResultList) } },
    errors: BODY_ERRORS,
  }),
  jsonBody(validateNowBody, { refuse }),
  async (c) => {
    const body = c.req.valid("json");
    const emails = "emails" in body ? body.emails : [body.email];
    const cfg = readConfig(c.env);
    const checks = await checkAddresses(emails, engineDeps(c.env, cfg));
    return c.json(
      checks.map((check, i) => {
        const v = verdict(check);
        return compatResult({
          email: emails[i]!,
          result: v.result,
          reason: v.reason,
          score: v.score,
          detail: JSON.stringify(verdictDetail(v)),
        });
      }),
    );
  },
);
