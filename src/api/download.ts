import { filteredPages, type ResultFilter } from "../db/browse";
import { openDb } from "../db/client";
import { csvStream } from "../ingest/csv-writer";
import type { JobSnapshot } from "../job/object";
import { presentResult } from "./present";

export const RESULT_CLASSES = ["deliverable", "risky", "undeliverable", "unknown"];

const COLUMNS = [
  "email",
  "result",
  "catch_all",
  "reason",
  "score",
  "smtp_code",
  "smtp_text",
  "mx_host",
  "disposable",
  "role",
  "free",
  "did_you_mean",
];

/** Streams a job's results page by page from D1; the file is never built in memory. */
export function downloadResponse(
  env: Env,
  job: JobSnapshot,
  format: "csv" | "ndjson",
  filter: ResultFilter = {},
): Response {
  const db = openDb(env.DB);
  const columns = job.inputColumns ?? [];
  const filename = `mailvet-${job.id}.${format}`;
  const headers = { "content-disposition": `attachment; filename="${filename}"` };
  if (format === "ndjson") {
    const encoder = new TextEncoder();
    const pages = filteredPages(db, job.id, filter);
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = await pages.next();
        if (next.done) return controller.close();
        const lines = next.value.map((row) => {
          const extra = row.extra ? { input: JSON.parse(row.extra) } : {};
          return `${JSON.stringify({ ...presentResult(row, true), ...extra })}\n`;
        });
        controller.enqueue(encoder.encode(lines.join("")));
      },
    });
    return new Response(body, { headers: { ...headers, "content-type": "application/x-ndjson" } });
  }
  async function* rows() {
    for await (const page of filteredPages(db, job.id, filter)) {
      yield page.map((row) => {
        const r = presentResult(row, true) as Record<string, unknown>;
        const extra: Record<string, string> = row.extra ? JSON.parse(row.extra) : {};
        return [
          ...COLUMNS.map((k) => r[k] as string | number | boolean | null),
          ...columns.map((col) => extra[col] ?? ""),
        ];
      });
    }
  }
  return new Response(csvStream([...COLUMNS, ...columns], rows()), {
    headers: { ...headers, "content-type": "text/csv; charset=utf-8" },
  });
}
