// Small timing helpers shared by the measurements.

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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

export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export class Deadline {
  private readonly end: number;
  constructor(
    ms: number,
    private readonly what: string,
  ) {
    this.end = Date.now() + ms;
  }
  get left(): number {
    return this.end - Date.now();
  }
  get passed(): boolean {
    return Date.now() >= this.end;
  }
  /** Throws once the deadline has passed. */
  check(): void {
    if (this.passed) throw new Error(`deadline passed: ${this.what}`);
  }
}
