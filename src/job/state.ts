// The job's state machine, pure: which status changes are allowed, and what
// each status is called in the two API families.
//
//   queued ──start──▶ processing ──finish──▶ completed
//     │  ╲               │  ▲  ╲──fail────▶ error
//     │   ╲─pause─▶ paused ─resume─╯   (a paused job resumes where it stopped)
//     └──────cancel (from queued, processing or paused)──▶ canceled

export type JobStatus = "queued" | "processing" | "paused" | "completed" | "canceled" | "error";

export type JobEvent = "start" | "finish" | "fail" | "cancel" | "pause" | "resume";

export const TERMINAL: readonly JobStatus[] = ["completed", "canceled", "error"];

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL.includes(status);
}

const TRANSITIONS: Record<JobStatus, Partial<Record<JobEvent, JobStatus>>> = {
  queued: { start: "processing", cancel: "canceled", pause: "paused", fail: "error" },
  processing: { finish: "completed", fail: "error", cancel: "canceled", pause: "paused" },
  paused: { resume: "processing", cancel: "canceled", fail: "error" },
  completed: {},
  canceled: {},
  error: {},
};

export type TransitionResult =
  | { ok: true; status: JobStatus }
  | { ok: false; code: "already_terminal" | "invalid_transition"; detail: string };

export function transition(from: JobStatus, event: JobEvent): TransitionResult {
  const to = TRANSITIONS[from][event];
  if (to) return { ok: true, status: to };
  if (isTerminal(from)) {
    const verb = event === "cancel" ? "cancel" : event === "resume" ? "resume" : event;
    return { ok: false, code: "already_terminal", detail: `Cannot ${verb} job in '${from}' status` };
  }
  return { ok: false, code: "invalid_transition", detail: `Cannot ${event} job in '${from}' status` };
}

/** Status names of the seed-003 compatible family. */
export function compatState(
  status: JobStatus,
): "pending" | "running" | "paused" | "failed" | "done" | "canceled" {
  switch (status) {
    case "queued":
      return "pending";
    case "processing":
      return "running";
    case "paused":
      return "paused";
    case "completed":
      return "done";
    case "error":
      return "failed";
    case "canceled":
      return "canceled";
  }
}

/**
 * The canonical contract has no `paused` status: a paused job reports
 * `processing` there (it is neither queued nor terminal), with `paused`
 * visible through ?include=details.
 */
export function canonicalStatus(status: JobStatus): Exclude<JobStatus, "paused"> {
  return status === "paused" ? "processing" : status;
}
