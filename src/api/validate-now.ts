import type { Context } from "hono";
import { z } from "zod";
import { readConfig } from "../config";
import { engineDeps } from "../verify/deps";
import { verdictDetail } from "../verify/detail";
import { checkAddresses } from "../verify/engine";
import { isSafeText } from "../verify/syntax";
import { verdict } from "../verify/verdict";
import { compatResult } from "./compat-present";
import { apiError } from "./errors";
import type { AppEnv } from "./types";
import { readJson } from "./validation";

// Direct, synchronous validation of up to 100 addresses (seed 003's
// "/email/validate"). There is no job to come back to, so a greylisting
// server's answer is reported as unknown rather than asked again later.

export const DIRECT_MAX = 100;

const email = z.string().min(1).max(320).refine(isSafeText);
export const validateNowBody = z.union([
  z.object({ emails: z.array(email).min(1).max(DIRECT_MAX) }),
  z.object({ email }),
]);

export async function validateNow(c: Context<AppEnv>) {
  const raw = await readJson(c);
  const count = Array.isArray((raw as { emails?: unknown })?.emails)
    ? (raw as { emails: unknown[] }).emails.length
    : 0;
  if (count > DIRECT_MAX) {
    throw apiError(
      400,
      "too_many_entries",
      `Direct validation takes at most ${DIRECT_MAX} emails; create a job for more.`,
    );
  }
  const parsed = validateNowBody.safeParse(raw);
  if (!parsed.success) {
    throw apiError(
      400,
      "invalid_value",
      'Send {"emails": ["a@example.com", …]} (1 to 100) or {"email": "a@example.com"}.',
    );
  }
  const emails = "emails" in parsed.data ? parsed.data.emails : [parsed.data.email];
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
}
