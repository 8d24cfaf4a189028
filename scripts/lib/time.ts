// Timing helpers shared by the scripts and the bench.

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A point in time every wait is bounded by; `check()` throws once it has passed. */
export class Deadline {
  private readonly end: number;
  constructor(
    readonly ms: number,
    readonly what: string,
  ) {
    this.end = Date.now() + ms;
  }
  get left(): number {
    return Math.max(0, this.end - Date.now());
  }
  get passed(): boolean {
    return Date.now() >= this.end;
  }
  check(): void {
    if (this.passed) throw new Error(`timed out after ${(this.ms / 1000).toFixed(0)} s: ${this.what}`);
  }
}

/** Polls `probe` every `everyMs` until it returns a value other than undefined, or the deadline passes. */
export async function waitFor<T>(
  deadline: Deadline,
  everyMs: number,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    deadline.check();
    await sleep(Math.min(everyMs, Math.max(1, deadline.left)));
  }
}

/** Milliseconds since `start` (from performance.now()), rounded to 0.1 ms. */
export function since(start: number): number {
  return Math.round((performance.now() - start) * 10) / 10;
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; null when there are none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** A log function that prefixes each line with the seconds since it was made. */
export function stopwatchLog(prefix: string): (line: string) => void {
  const started = Date.now();
  return (line) =>
    console.log(`[${prefix} ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}`);
}
