import { type EmailValidation, MailvetError } from "../client/index";
import { displayStatus, formatCounts } from "./progress";

// Human-readable output of `jobs` and `status`; `--json` bypasses all of it.

/** Left-aligned columns separated by two spaces, header first. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/** `2026-01-31T12:34:56.789Z` → `2026-01-31 12:34:56` (UTC, as the API gives it). */
export function shortTime(iso: string | null | undefined): string {
  return iso ? iso.replace("T", " ").replace(/\.\d+Z$|Z$/, "") : "-";
}

function progressCell(job: EmailValidation): string {
  if (job.total === undefined) return "-";
  return `${job.counts?.processed ?? 0}/${job.total}`;
}

export function jobsTable(jobs: EmailValidation[]): string {
  if (!jobs.length) return "No jobs.";
  return table(
    ["ID", "STATUS", "PROCESSED", "CREATED", "LABEL"],
    jobs.map((job) => [
      job.id,
      displayStatus(job),
      progressCell(job),
      shortTime(job.created_at),
      job.label ?? "",
    ]),
  );
}

/** A job as `key: value` lines, for `status`, `cancel`, `pause` and `resume`. */
export function jobDetails(job: EmailValidation): string {
  const rows: [string, string][] = [
    ["id", job.id],
    ["status", displayStatus(job)],
    ["label", job.label ?? "-"],
    ["processed", progressCell(job)],
  ];
  if (job.counts) rows.push(["results", formatCounts(job.counts)]);
  rows.push(
    ["created", shortTime(job.created_at)],
    ["started", shortTime(job.started_at)],
    ["finished", shortTime(job.finished_at)],
  );
  if (job.start_at) rows.push(["starts at", shortTime(job.start_at)]);
  for (const e of job._errors ?? []) rows.push(["error", `${e.code}: ${e.detail}`]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${v}`).join("\n");
}

/** One line about why a command failed: the API's own words, or what kept us from reaching it. */
export function describeFailure(err: unknown, baseUrl: string): string {
  if (err instanceof MailvetError) return err.message;
  if (err instanceof Error) {
    // Node's fetch says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, …) is in `cause`.
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    if (err.message === "fetch failed") {
      return `cannot reach ${baseUrl} (${cause?.code ?? cause?.message ?? "network error"}). Is the service running? Set --url or MAILVET_URL.`;
    }
    return err.message;
  }
  return String(err);
}
