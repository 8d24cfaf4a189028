// Writes latest.{md,json,svg} and a dated copy of each.

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { renderMarkdown } from "./markdown";
import { renderSvg } from "./svg";
import type { BenchReport } from "./types";

export async function writeReport(
  report: BenchReport,
  dir: string,
): Promise<{ markdown: string; files: string[] }> {
  await mkdir(dir, { recursive: true });
  const markdown = renderMarkdown(report);
  const svg = renderSvg(report);
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const stamp = report.startedAt.slice(0, 16).replaceAll(":", "").replace("T", "-");
  const files: string[] = [];
  for (const name of ["latest", stamp]) {
    const base = join(dir, name);
    await writeFile(`${base}.md`, markdown);
    await writeFile(`${base}.json`, json);
    await writeFile(`${base}.svg`, svg);
    files.push(`${base}.md`, `${base}.json`, `${base}.svg`);
  }
  return { markdown, files };
}
