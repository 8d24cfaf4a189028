import { Hono } from "hono";
import { z } from "zod";
import { jobStub } from "../../job/stub";
import { BODY_ERRORS, jobIdParam, json, keyed, TAGS } from "../../openapi/describe";
import { control } from "../control";
import { apiError } from "../errors";
import { presentJob } from "../present";
import { wantsDetails } from "../queries";
import * as s from "../schemas";
import type { AppEnv } from "../types";
import { jsonBody, queryParams } from "../validation";
import { requireJob } from "./job";
import { resultsPage, resultsQuery } from "./read";

// PATCH /email-validations/{id} (cancel, pause, resume), PATCH …/cancel and
// DELETE: the job object changes the status at once and answers.

const PATCH_STATUSES = { canceled: "cancel", paused: "pause", processing: "resume" } as const;
const STATUS_NAMES = Object.keys(PATCH_STATUSES) as [
  keyof typeof PATCH_STATUSES,
  ...(keyof typeof PATCH_STATUSES)[],
];

// Only `status` is read; any other field is ignored, as the contract says.
const patchBody = z.object({
  status: z
    .enum(STATUS_NAMES)
    .meta({ description: "`canceled` cancels; `paused` and `processing` pause and resume." }),
});

/** The contract's own wording for a PATCH body it refuses. */
function refusePatch(_issues: unknown, input: unknown) {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return apiError(
      400,
      "invalid_type",
      'The body must be a JSON object such as {"status": "canceled"}.',
      "",
    );
  }
  const status = (input as { status?: unknown }).status;
  if (status === undefined)
    return apiError(400, "missing_field", "Missing field for request: status", "/status");
  return apiError(
    400,
    "unsupported_value",
    `You used status '${String(status)}' when only 'canceled' is accepted (or 'paused' and 'processing' to pause and resume).`,
    "/status",
  );
}

export const change = new Hono<AppEnv>()
  .patch(
    "/:id",
    keyed("canonical", TAGS.canonical, {
      operationId: "updateEmailValidation",
      summary: "Cancel, pause or resume a batch of email validations",
      parameters: [jobIdParam],
      responses: {
        200: { description: "The job after the change.", content: json(s.emailValidationResponse) },
      },
      errors: [...BODY_ERRORS, 404],
    }),
    queryParams(resultsQuery),
    async (c, next) => {
      await requireJob(c); // 404 before any complaint about the body
      return next();
    },
    jsonBody(patchBody, { refuse: refusePatch }),
    async (c) => {
      const result = await control(c, PATCH_STATUSES[c.req.valid("json").status]);
      const q = c.req.valid("query");
      const page = await resultsPage(c.env.DB, result.job, q);
      return c.json(presentJob(result.job, page.rows, page.links, wantsDetails(q.include)), 200);
    },
  )
  .patch(
    "/:id/cancel",
    keyed("canonical", TAGS.canonical, {
      operationId: "cancelEmailValidation",
      summary: "Cancel a batch (no body)",
      parameters: [jobIdParam],
      responses: { 200: { description: "Canceled.", content: json(s.cancelAcknowledgement) } },
      errors: [400, 404],
    }),
    async (c) => {
      await requireJob(c);
      await control(c, "cancel");
      return c.json({ success: true, message: "Validation job canceled successfully" }, 200);
    },
  )
  .delete(
    "/:id",
    keyed("canonical", TAGS.canonical, {
      operationId: "deleteEmailValidation",
      summary: "Delete a job and its results",
      parameters: [jobIdParam],
      responses: { 204: { description: "Deleted." } },
      errors: [404],
    }),
    async (c) => {
      const job = await requireJob(c);
      await jobStub(c.env, job.id).destroy();
      return c.body(null, 204);
    },
  );
