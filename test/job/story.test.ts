import { describe, expect, it } from "vitest";
import { recentRate, tellStory } from "../../src/job/story";
import type { HostWaits } from "../../src/mx/object";

// The job's story from its parts: the rate over the last minute, an ETA that
// respects retries the servers asked for, and why each host waits.

const NOW = 1_000_000_000;

function waits(fields: Partial<HostWaits> = {}): HostWaits {
  return {
    names: ["mx.example.test"],
    queued: 10,
    retrying: 0,
    greylisted: 0,
    held: 0,
    nextRetryAt: null,
    deadlineAt: null,
    backoffUntil: 0,
    breakerUntil: 0,
    breakerStatus: null,
    sessions: 4,
    maxSessions: 4,
    lastReply: null,
    ...fields,
  };
}

const running = {
  status: "processing",
  total: 1000,
  processed: 900,
  startedAt: NOW - 300_000,
  finishedAt: null,
};
const parts = (hosts: { host: string; addresses: number }[]) => ({
  samples: [
    { at: NOW - 300_000, processed: 0 },
    { at: NOW - 60_000, processed: 600 },
    { at: NOW, processed: 900 },
  ],
  waiting: 50,
  atHost: 50,
  answered: 0,
  hosts,
  hostCount: hosts.length,
});

describe("recentRate", () => {
  it("measures the last minute, not the whole run", () => {
    expect(recentRate(parts([]).samples, NOW)).toBeCloseTo(5); // 300 in 60 s
  });

  it("has nothing to say before two samples", () => {
    expect(recentRate([], NOW)).toBeNull();
    expect(recentRate([{ at: NOW, processed: 0 }], NOW)).toBeNull();
  });
});

describe("tellStory", () => {
  it("says which hosts are backed off or not answering, until when and why", () => {
    const story = tellStory(
      running,
      parts([
        { host: "a", addresses: 30 },
        { host: "b", addresses: 15 },
        { host: "c", addresses: 5 },
      ]),
      [
        waits({
          names: ["mx.slow.test"],
          backoffUntil: NOW + 60_000,
          lastReply: { code: 421, enhanced: "4.7.0", text: "Too many connections, slow down" },
        }),
        waits({ names: ["mx.dead.test"], breakerUntil: NOW + 120_000, breakerStatus: "timeout" }),
        waits({ names: ["mx.fine.test"] }),
      ],
      NOW,
    );
    expect(story.hosts.map((h) => [h.host, h.state, h.pausedUntil])).toEqual([
      ["mx.slow.test", "backed_off", NOW + 60_000],
      ["mx.dead.test", "not_answering", NOW + 120_000],
      ["mx.fine.test", "working", null],
    ]);
    expect(story.hosts[0]!.reason).toContain("421 Too many connections, slow down");
    expect(story.hosts[1]!.reason).toContain("does not answer");
    expect(story.hosts[2]!.reason).toBeNull();
  });

  it("adds up greylisting across hosts, and never ends before the retries it waits for", () => {
    const retryAt = NOW + 600_000;
    const story = tellStory(
      { ...running, processed: 990 },
      parts([{ host: "g", addresses: 10 }]),
      [waits({ retrying: 10, greylisted: 10, nextRetryAt: retryAt, deadlineAt: NOW + 900_000 })],
      NOW,
    );
    expect(story.greylisting).toEqual({
      addresses: 10,
      retrying: 10,
      nextRetryAt: retryAt,
      until: NOW + 900_000,
    });
    // 10 left at 5 per second would be 2 s, but all 10 wait for a retry in 10 minutes.
    expect(story.etaAt).toBe(retryAt);
  });

  it("leaves out a host that could not be asked, and has no ETA once finished", () => {
    const story = tellStory(
      { ...running, status: "completed", processed: 1000, finishedAt: NOW },
      parts([{ host: "x", addresses: 1 }]),
      [null],
      NOW,
    );
    expect(story.hosts).toEqual([]);
    expect(story.etaAt).toBeNull();
    expect(story.ratePerSecond).toBeNull();
    expect(story.samples.at(-1)).toEqual({ at: NOW, processed: 1000 });
  });
});
