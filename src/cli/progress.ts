import cliProgress from "cli-progress";
import type { Counts, EmailValidation } from "../client/index";

// Progress of a running job: rate, ETA and their text are pure functions;
// ProgressView draws them on stderr (a bar on a terminal, lines otherwise).

interface Sample {
  at: number;
  processed: number;
}

/** Results per second over a sliding window, so a slow start or a pause fades out of the estimate. */
export class RateMeter {
  private samples: Sample[] = [];

  constructor(private readonly windowMs = 60_000) {}

  add(at: number, processed: number): void {
    const last = this.samples[this.samples.length - 1];
    // A count going backwards means a different job or a reset: start over.
    if (last && processed < last.processed) this.samples = [];
    this.samples.push({ at, processed });
    while (this.samples.length > 2 && at - this.samples[1]!.at >= this.windowMs) this.samples.shift();
  }

  perSecond(): number | null {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.at <= first.at) return null;
    return (last.processed - first.processed) / ((last.at - first.at) / 1000);
  }
}

/** Seconds left at the given rate; null when there is no rate to go by. */
export function etaSeconds(remaining: number, perSecond: number | null): number | null {
  if (remaining <= 0) return 0;
  if (perSecond === null || perSecond <= 0) return null;
  return remaining / perSecond;
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return "--";
  const s = Math.ceil(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

export function formatRate(perSecond: number | null): string {
  if (perSecond === null) return "--/s";
  return `${perSecond < 10 ? perSecond.toFixed(1) : Math.round(perSecond)}/s`;
}

export function formatCounts(counts: Counts): string {
  return `deliverable ${counts.deliverable} · risky ${counts.risky} · undeliverable ${counts.undeliverable} · unknown ${counts.unknown}`;
}

const NO_COUNTS: Counts = { processed: 0, deliverable: 0, undeliverable: 0, risky: 0, unknown: 0 };

/** The status a person expects: the API reports a paused job as `processing` with `paused: true`. */
export function displayStatus(job: Pick<EmailValidation, "status" | "paused">): string {
  return job.paused ? "paused" : job.status;
}

export interface ProgressSnapshot {
  status: string;
  processed: number;
  total: number;
  percent: number;
  counts: string;
  rate: string;
  eta: string;
}

/** Everything shown about a polled job (fetched with details), at one moment. */
export function snapshot(job: EmailValidation, perSecond: number | null): ProgressSnapshot {
  const counts = job.counts ?? NO_COUNTS;
  const total = job.total ?? 0;
  const running = job.status === "processing" && !job.paused;
  return {
    status: displayStatus(job),
    processed: counts.processed,
    total,
    percent: total ? Math.floor((counts.processed / total) * 100) : 0,
    counts: formatCounts(counts),
    rate: running ? formatRate(perSecond) : "--/s",
    eta: running ? formatDuration(etaSeconds(total - counts.processed, perSecond)) : "--",
  };
}

/** One line for logs and pipes, where a redrawn bar would be noise. */
export function progressLine(s: ProgressSnapshot): string {
  return `${s.status} ${s.processed}/${s.total} (${s.percent}%) | ${s.counts} | ${s.rate} | ETA ${s.eta}`;
}

/** The same counts in a few characters, for a narrow terminal. */
export function compactCounts(counts: Counts): string {
  return `ok ${counts.deliverable} risky ${counts.risky} bad ${counts.undeliverable} unk ${counts.unknown}`;
}

const BAR_MAX = 24;
const BAR_MIN = 8;

function bar(width: number, percent: number): string {
  const full = Math.round((Math.min(100, Math.max(0, percent)) / 100) * width);
  return `${"\u2588".repeat(full)}${"\u2591".repeat(width - full)}`;
}

/**
 * The progress line for a terminal `columns` wide: the richest form that
 * fits (every count, rate and ETA; with a bar where there is room for one),
 * then shorter ones, and at worst the status and count cut to the width.
 * Never wider than `columns`.
 */
export function fittedProgressLine(s: ProgressSnapshot, counts: Counts, columns: number): string {
  const width = Math.max(1, Math.floor(columns));
  const head = `${s.status.padEnd(10)} `;
  const tail = `${s.percent}% ${s.processed}/${s.total}`;
  const forms = [
    `${tail} | ${s.counts} | ${s.rate} | ETA ${s.eta}`,
    `${tail} | ${compactCounts(counts)} | ${s.rate} | ETA ${s.eta}`,
    `${tail} | ${compactCounts(counts)} | ETA ${s.eta}`,
    `${tail} | ETA ${s.eta}`,
  ];
  for (const rest of forms) {
    const room = width - head.length - rest.length - 1;
    if (room >= BAR_MIN) return `${head}${bar(Math.min(BAR_MAX, room), s.percent)} ${rest}`;
    if (room >= -1) return `${head}${rest}`;
  }
  return `${s.status} ${tail}`.slice(0, width);
}

interface Drawn {
  snapshot: ProgressSnapshot;
  counts: Counts;
}

export class ProgressView {
  private readonly meter = new RateMeter();
  private bar: cliProgress.SingleBar | null = null;
  private lastLine = "";

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly now: () => number = Date.now,
  ) {}

  update(job: EmailValidation): void {
    const counts = job.counts ?? NO_COUNTS;
    this.meter.add(this.now(), counts.processed);
    const s = snapshot(job, this.meter.perSecond());
    if (!this.stream.isTTY) {
      const line = progressLine(s);
      if (line !== this.lastLine) this.stream.write(`${line}\n`);
      this.lastLine = line;
      return;
    }
    const payload: Drawn = { snapshot: s, counts };
    if (!this.bar) {
      // cli-progress redraws the line; what it draws is ours, fitted to the terminal's width.
      this.bar = new cliProgress.SingleBar(
        {
          // Fitted at draw time, so a resized terminal gets a line of its new width.
          format: (_options, _params, data: Drawn) =>
            fittedProgressLine(data.snapshot, data.counts, this.stream.columns || 80),
          stream: this.stream,
          hideCursor: true,
          etaBuffer: 1,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(Math.max(1, s.total), s.processed, payload);
    } else {
      this.bar.setTotal(Math.max(1, s.total));
      this.bar.update(s.processed, payload);
    }
  }

  /** Leaves the last drawing on screen and gives the terminal line back (for a prompt or the end). */
  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}
