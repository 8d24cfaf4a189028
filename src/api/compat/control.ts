import { Hono } from "hono";
import { jobIdParam, json, keyed, TAGS } from "../../openapi/describe";
import { type Action, control } from "../control";
import * as s from "../schemas";
import type { AppEnv } from "../types";
import { ownedJobOr404 } from "./jobs";

// Pause, resume and cancel in the compatible family's words.

const describe = (
  action: Action,
  summary: string,
  schema: typeof s.compatCancel | typeof s.compatStateChange,
) =>
  keyed("compat", TAGS.compat, {
    operationId: `${action}ValidationJob`,
    summary,
    parameters: [jobIdParam],
    responses: { 200: { description: "The new state.", content: json(schema) } },
    errors: [400, 404],
  });

export const controls = new Hono<AppEnv>()
  .post("/job/:id/pause", describe("pause", "Pause a validation job", s.compatStateChange), async (c) => {
    await ownedJobOr404(c);
    const r = await control(c, "pause");
    return c.json({ success: true, id: r.job.id, state: "paused" });
  })
  .post("/job/:id/resume", describe("resume", "Resume a validation job", s.compatStateChange), async (c) => {
    await ownedJobOr404(c);
    const r = await control(c, "resume");
    return c.json({ success: true, id: r.job.id, state: r.job.status === "queued" ? "pending" : "running" });
  })
  .post("/job/:id/cancel", describe("cancel", "Cancel a validation job", s.compatCancel), async (c) => {
    await ownedJobOr404(c);
    const r = await control(c, "cancel");
    return c.json({
      success: true,
      message: r.wasStarted
        ? "Job was already running - cancelled remaining emails"
        : "Scheduled job cancelled successfully",
      batchJobId: r.job.id,
      contactsCancelled: r.canceled,
    });
  });
