// Latency samples and request outcomes for one kind of request.

import { percentile } from "../lib/time";

export interface KindSummary {
  sent: number;
  ok: number;
  errors: number;
  /** Non-expected answers by status ("0" = no response). */
  errorsByStatus: Record<string, number>;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  /** Sample bodies of the errors, for the report. */
  errorSamples: string[];
}

export class RequestStats {
  private readonly latencies: number[] = [];
  private readonly byStatus: Record<string, number> = {};
  private readonly samples: string[] = [];
  sent = 0;
  ok = 0;

  constructor(private readonly expected: number[]) {}

  /** Records one answered (or failed) request; returns whether its status was expected. */
  record(status: number, ms: number, sample: () => string): boolean {
    this.latencies.push(ms);
    if (this.expected.includes(status)) {
      this.ok++;
      return true;
    }
    this.byStatus[String(status)] = (this.byStatus[String(status)] ?? 0) + 1;
    if (this.samples.length < 5) this.samples.push(sample().slice(0, 400));
    return false;
  }

  summary(): KindSummary {
    return {
      sent: this.sent,
      ok: this.ok,
      errors: Object.values(this.byStatus).reduce((a, b) => a + b, 0),
      errorsByStatus: { ...this.byStatus },
      p50Ms: percentile(this.latencies, 50),
      p99Ms: percentile(this.latencies, 99),
      maxMs: this.latencies.length ? Math.max(...this.latencies) : null,
      errorSamples: [...this.samples],
    };
  }
}

const ms = (v: number | null) => (v === null ? "—" : `${v.toFixed(0)} ms`);

export interface TableRow {
  name: string;
  summary: KindSummary;
  /** Due but not sent (client in-flight cap); null where it does not apply. */
  dropped: number | null;
}

export function table(rows: TableRow[]): string {
  const head = ["", "sent", "ok", "errors", "dropped", "p50", "p99", "max"];
  const body = rows.map(({ name, summary: s, dropped }) => [
    name,
    String(s.sent),
    String(s.ok),
    String(s.errors),
    dropped === null ? "—" : String(dropped),
    ms(s.p50Ms),
    ms(s.p99Ms),
    ms(s.maxMs),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] as string).length)));
  const fmt = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join("  ");
  return [fmt(head), fmt(widths.map((w) => "─".repeat(w))), ...body.map(fmt)].join("\n");
}
