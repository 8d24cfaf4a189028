import { describe, expect, it } from "vitest";
import { retryAfterSeconds } from "../../src/job/progress";
import { canonicalStatus, compatState, type JobEvent, type JobStatus, transition } from "../../src/job/state";

const ALL: JobStatus[] = ["queued", "processing", "paused", "completed", "canceled", "error"];
const EVENTS: JobEvent[] = ["start", "finish", "fail", "cancel", "pause", "resume"];

describe("job state machine", () => {
  it.each([
    ["queued", "start", "processing"],
    ["queued", "cancel", "canceled"],
    ["queued", "pause", "paused"],
    ["processing", "finish", "completed"],
    ["processing", "fail", "error"],
    ["processing", "cancel", "canceled"],
    ["processing", "pause", "paused"],
    ["paused", "resume", "processing"],
    ["paused", "cancel", "canceled"],
  ] as const)("%s --%s--> %s", (from, event, to) => {
    expect(transition(from, event)).toEqual({ ok: true, status: to });
  });

  it("lets nothing leave a terminal state, in the seed's words", () => {
    for (const from of ["completed", "canceled", "error"] as const) {
      for (const event of EVENTS) {
        const t = transition(from, event);
        expect(t.ok).toBe(false);
        if (!t.ok) expect(t.code).toBe("already_terminal");
      }
    }
    expect(transition("completed", "cancel")).toMatchObject({
      detail: "Cannot cancel job in 'completed' status",
    });
  });

  it("refuses moves that make no sense outside terminal states", () => {
    expect(transition("queued", "finish")).toMatchObject({ ok: false, code: "invalid_transition" });
    expect(transition("processing", "resume")).toMatchObject({ ok: false, code: "invalid_transition" });
    expect(transition("paused", "pause")).toMatchObject({ ok: false, code: "invalid_transition" });
    expect(transition("paused", "finish")).toMatchObject({ ok: false, code: "invalid_transition" });
  });

  it("names each status in both families", () => {
    expect(ALL.map(compatState)).toEqual(["pending", "running", "paused", "done", "canceled", "failed"]);
    expect(ALL.map(canonicalStatus)).toEqual([
      "queued",
      "processing",
      "processing",
      "completed",
      "canceled",
      "error",
    ]);
  });
});

describe("Retry-After", () => {
  const counts = (processed: number) => ({
    processed,
    deliverable: processed,
    undeliverable: 0,
    risky: 0,
    unknown: 0,
  });
  const base = { total: 10_000, startAt: null, startedAt: 0 };

  it("follows the measured rate, clamped to 1..60 seconds", () => {
    // 100 results/s: one page of 100 arrives in about a second.
    expect(retryAfterSeconds({ ...base, status: "processing", counts: counts(1000) }, 10_000)).toBe(1);
    // 2 results/s: a page takes 50 s.
    expect(retryAfterSeconds({ ...base, status: "processing", counts: counts(20) }, 10_000)).toBe(50);
    // 0.1 results/s: capped at 60.
    expect(retryAfterSeconds({ ...base, status: "processing", counts: counts(1) }, 10_000)).toBe(60);
    // never beyond the estimated end: 10 left at 2/s is 5 s.
    expect(retryAfterSeconds({ ...base, total: 30, status: "processing", counts: counts(20) }, 10_000)).toBe(
      5,
    );
  });

  it("is absent once the job ended, and waits for a scheduled start", () => {
    expect(retryAfterSeconds({ ...base, status: "completed", counts: counts(1) }, 1)).toBeNull();
    expect(retryAfterSeconds({ ...base, status: "queued", startAt: 20_000, counts: counts(0) }, 10_000)).toBe(
      10,
    );
  });
});
