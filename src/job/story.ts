import type { HostWaits } from "../mx/object";
import type { JobStoryParts } from "./object";
import type { Sample } from "./samples";

// The job's story, told from what the job object and its busiest hosts know:
// how fast it went and goes, when it should end, and what the last addresses
// wait for (greylisting, a host that throttles us or does not answer). Pure:
// the route gathers the parts, this puts them together.

/** The recent rate is measured over this window (or since the start, when shorter). */
const RATE_WINDOW_MS = 60_000;

export interface StoryJob {
  status: string;
  total: number;
  processed: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export interface HostStory {
  host: string;
  names: string[];
  /** This job's addresses handed to the host and not answered yet. */
  addresses: number;
  retrying: number;
  greylisted: number;
  held: number;
  nextRetryAt: number | null;
  deadlineAt: number | null;
  state: "working" | "backed_off" | "not_answering" | "refusing";
  /** Until when the host gets no new session, when it is backed off or its breaker is open. */
  pausedUntil: number | null;
  /** Why, in words. */
  reason: string | null;
  sessions: number;
  maxSessions: number;
  lastReply: { code: number; enhanced: string | null; text: string } | null;
}

export interface JobStory {
  samples: Sample[];
  ratePerSecond: number | null;
  etaAt: number | null;
  stages: { waiting: number; atHost: number; answered: number; recorded: number };
  greylisting: { addresses: number; retrying: number; nextRetryAt: number | null; until: number | null };
  hosts: HostStory[];
  hostCount: number;
}

/** The samples, starting at the job's start (0 processed) and ending at its present count. */
function timeline(job: StoryJob, samples: Sample[], now: number): Sample[] {
  const out = [...samples];
  if (job.startedAt !== null && (out.length === 0 || out[0]!.at > job.startedAt)) {
    out.unshift({ at: job.startedAt, processed: 0 });
  }
  const end = job.finishedAt ?? now;
  const last = out[out.length - 1];
  if (job.startedAt !== null && last && last.processed !== job.processed) {
    // The job's own count is the truth: the timeline ends on it.
    if (last.at < end) out.push({ at: end, processed: job.processed });
    else out[out.length - 1] = { at: last.at, processed: job.processed };
  }
  return out;
}

/** Addresses per second over the last minute of samples; null before there is anything to measure. */
export function recentRate(samples: Sample[], now: number): number | null {
  const last = samples[samples.length - 1];
  if (!last) return null;
  const from = samples.find((s) => s.at >= now - RATE_WINDOW_MS) ?? samples[0]!;
  const start = from === last ? samples[samples.length - 2] : from;
  if (!start) return null;
  const seconds = (Math.max(now, last.at) - start.at) / 1000;
  if (seconds <= 0) return null;
  return Math.max(0, last.processed - start.processed) / seconds;
}

function hostStory(host: string, addresses: number, w: HostWaits, now: number): HostStory {
  const reply = w.lastReply ? ` (last reply ${w.lastReply.code} ${w.lastReply.text})` : "";
  let state: HostStory["state"] = "working";
  let pausedUntil: number | null = null;
  let reason: string | null = null;
  if (w.breakerUntil > now) {
    state = w.breakerStatus === "unreachable" ? "refusing" : "not_answering";
    pausedUntil = w.breakerUntil;
    reason =
      w.breakerStatus === "unreachable"
        ? "refuses connections; one trial connection when the wait ends"
        : "does not answer in time; one trial connection when the wait ends";
  } else if (w.backoffUntil > now) {
    state = "backed_off";
    pausedUntil = w.backoffUntil;
    reason = `asked us to slow down${reply}`;
  } else if (w.sessions < w.maxSessions) {
    reason = `working with ${w.sessions} of ${w.maxSessions} sessions after throttling${reply}`;
  }
  return {
    host,
    names: w.names,
    addresses,
    retrying: w.retrying,
    greylisted: w.greylisted,
    held: w.held,
    nextRetryAt: w.nextRetryAt,
    deadlineAt: w.deadlineAt,
    state,
    pausedUntil,
    reason,
    sessions: w.sessions,
    maxSessions: w.maxSessions,
    lastReply: w.lastReply
      ? { code: w.lastReply.code, enhanced: w.lastReply.enhanced, text: w.lastReply.text }
      : null,
  };
}

export function tellStory(
  job: StoryJob,
  parts: JobStoryParts,
  waits: (HostWaits | null)[],
  now: number,
): JobStory {
  const samples = timeline(job, parts.samples, now);
  const running = job.status === "processing";
  const ratePerSecond = running ? recentRate(samples, now) : null;
  const remaining = Math.max(0, job.total - job.processed);
  const hosts = parts.hosts.flatMap((h, i) => {
    const w = waits[i];
    return w ? [hostStory(w.names[0] ?? h.host, h.addresses, w, now)] : [];
  });
  const retryTimes = hosts.map((h) => h.nextRetryAt).filter((t): t is number => t !== null);
  const deadlines = hosts
    .filter((h) => h.retrying > 0)
    .map((h) => h.deadlineAt)
    .filter((t): t is number => t !== null);
  const greylisting = {
    addresses: hosts.reduce((n, h) => n + h.greylisted, 0),
    retrying: hosts.reduce((n, h) => n + h.retrying, 0),
    nextRetryAt: retryTimes.length ? Math.min(...retryTimes) : null,
    until: deadlines.length ? Math.max(...deadlines) : null,
  };
  let etaAt: number | null = null;
  if (running && remaining > 0 && ratePerSecond && ratePerSecond > 0) {
    etaAt = now + (remaining / ratePerSecond) * 1000;
    // What waits for a retry cannot be answered before it: the end is no earlier than the last retry.
    if (greylisting.retrying > 0 && greylisting.retrying >= remaining && greylisting.nextRetryAt) {
      etaAt = Math.max(etaAt, greylisting.nextRetryAt);
    }
  }
  return {
    samples,
    ratePerSecond,
    etaAt,
    stages: {
      waiting: parts.waiting,
      atHost: parts.atHost,
      answered: parts.answered,
      recorded: job.processed,
    },
    greylisting,
    hosts,
    hostCount: parts.hostCount,
  };
}
