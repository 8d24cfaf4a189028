import type { Context } from "hono";
import type { ControlResult } from "../job/object";
import { jobStub } from "../job/stub";
import { apiError, notFound } from "./errors";
import type { AppEnv } from "./types";

// Cancel, pause and resume, shared by both API families: the job object
// decides, and a refusal becomes a 400 on `status`.

export type Action = "cancel" | "pause" | "resume";

export async function control(
  c: Context<AppEnv>,
  action: Action,
): Promise<Extract<ControlResult, { ok: true }>> {
  const result = await jobStub(c.env, c.req.param("id") ?? "")[action]();
  if (result.ok) return result;
  if (result.code === "not_found") throw notFound();
  throw apiError(400, result.code, result.detail, "/status");
}
