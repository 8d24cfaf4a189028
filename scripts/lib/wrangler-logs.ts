// Reads what mailvet and wrangler said during a run: the worker's structured
// error lines, 5xx responses in wrangler's access log, and wrangler's own
// errors. Printed with every report so that a failure comes with its evidence.

import { readFile } from "node:fs/promises";

/** Worker log messages worth counting (src/: console.error(JSON.stringify({ msg }))). */
const WORKER_MESSAGES = [
  "batch failed",
  "unhandled error",
  "mirror failed",
  "probe failed",
  "webhook delivery failed",
  "webhook enqueue failed",
  "progress event failed",
  "slot release failed",
];

export interface LogScan {
  file: string;
  /** Worker messages by name, wrangler errors, and 5xx answers. */
  counts: Record<string, number>;
  /** The first lines of each kind, for the report. */
  excerpts: string[];
}

const MAX_EXCERPTS = 12;
// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences start with ESC.
const ANSI = /\x1b\[[0-9;]*m/g;

export async function scanLog(file: string): Promise<LogScan> {
  let text = "";
  try {
    text = await readFile(file, "utf8");
  } catch {
    return { file, counts: {}, excerpts: [] };
  }
  const counts: Record<string, number> = {};
  const excerpts: string[] = [];
  const note = (kind: string, line: string) => {
    counts[kind] = (counts[kind] ?? 0) + 1;
    if (excerpts.length < MAX_EXCERPTS && (counts[kind] ?? 0) <= 3) excerpts.push(line.slice(0, 400));
  };
  // wrangler colours its own lines even into a file: strip the ANSI codes first.
  for (const line of text.replace(ANSI, "").split("\n")) {
    const msg = /"msg":"([^"]+)"/.exec(line)?.[1];
    if (msg && WORKER_MESSAGES.includes(msg)) note(msg, line);
    else if (/^\[wrangler:info\] \S+ \S+ 5\d\d /.test(line)) note("5xx response", line);
    // A rebuild because a watched file changed (node_modules is shared with the repository).
    else if (line.includes("Reloading local server")) note("unplanned reload", line);
    else if (/✘ \[ERROR\]|\bUncaught\b|Too many open files/.test(line)) note("wrangler error", line);
  }
  return { file, counts, excerpts };
}

export function formatScan(scan: LogScan): string {
  const kinds = Object.entries(scan.counts);
  if (!kinds.length) return `${scan.file}: no errors logged`;
  const head = `${scan.file}: ${kinds.map(([k, n]) => `${k} ×${n}`).join(", ")}`;
  return [head, ...scan.excerpts.map((l) => `    ${l}`)].join("\n");
}
