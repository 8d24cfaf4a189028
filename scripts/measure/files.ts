// Time and memory to ingest a 100,000-row CSV and a 100,000-row XLSX, and to
// stream the full download of a 100,000-result job, under `wrangler dev`.
//
//   npm run bench:files [-- --rows 100000 --runs 3]
//
// Uploads go through POST /v1/email/validate/job (multipart, as users send
// them); the create time is the request's round trip. Memory is the peak of
// the workerd processes while each phase runs. The download job runs with
// SMTP_MODE=off so 100,000 results exist quickly; the download itself does
// the same work whatever the verdicts are. Figures are medians over the runs.

import * as XLSX from "@e965/xlsx";
import { sampleWorkerdMemory } from "../../bench/mailvet/memory";
import { intArg, readArgs } from "../lib/args";
import { installExitHandlers, runScript } from "../lib/processes";
import { discardState, startStack } from "../lib/stack";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

function rows(n: number, run: number): string[][] {
  const out: string[][] = [["email", "first_name", "company", "country"]];
  for (let i = 0; i < n; i++)
    out.push([`u${run}x${i}@d${i % 997}.normal.test`, `First${i}`, `Company ${i % 5000}`, "FR"]);
  return out;
}

function csvOf(table: string[][]): Uint8Array {
  return new TextEncoder().encode(`${table.map((r) => r.join(",")).join("\r\n")}\r\n`);
}

function xlsxOf(table: string[][]): Uint8Array {
  const wb = XLSX.utils.book_new();
  XLSX.utils.book_append_sheet(wb, XLSX.utils.aoa_to_sheet(table), "List");
  return new Uint8Array(XLSX.write(wb, { type: "array", bookType: "xlsx", compression: true }));
}

async function main() {
  installExitHandlers();
  const args = readArgs(process.argv.slice(2));
  const n = intArg(args, "rows", 100_000);
  const runs = intArg(args, "runs", 3);
  const log = (line: string) => console.error(`[files] ${line}`);
  const stack = await startStack({
    name: "files",
    account: "bench-files",
    vars: { RATE_LIMIT_PER_MINUTE: "100000", MAX_RUNNING_JOBS: "50", SMTP_MODE: "off", BATCH_SIZE: "1000" },
    log,
  });
  const { api } = stack;
  const memory = sampleWorkerdMemory(stack.firstStart.pid);
  const auth = { authorization: `Bearer ${api.key}` };

  const upload = async (bytes: Uint8Array, name: string, source: string) => {
    const form = new FormData();
    form.append("source", source);
    form.append("file", new Blob([bytes]), name);
    memory.mark();
    const started = performance.now();
    const res = await fetch(`${api.baseUrl}/v1/email/validate/job`, {
      method: "POST",
      headers: auth,
      body: form,
    });
    const ms = performance.now() - started;
    const body = (await res.json()) as { id?: string; error?: string };
    if (res.status !== 201 || !body.id) throw new Error(`${name}: ${res.status} ${JSON.stringify(body)}`);
    return { ms, id: body.id, peak: memory.phase() };
  };

  const csv = { ms: [] as number[], rss: [] as number[], bytes: 0 };
  const xlsx = { ms: [] as number[], rss: [] as number[], bytes: 0 };
  const download = { ms: [] as number[], rss: [] as number[], bytes: 0, rows: 0 };
  let lastJob = "";
  for (let run = 0; run < runs; run++) {
    const table = rows(n, run);
    const csvBytes = csvOf(table);
    csv.bytes = csvBytes.byteLength;
    const c = await upload(csvBytes, "list.csv", "file");
    csv.ms.push(c.ms);
    csv.rss.push(c.peak.runtimeRssMb);
    // Only the last CSV job runs to the end (for the download); the others would compete for the CPU.
    if (lastJob) await api.cancelJob(lastJob);
    lastJob = c.id;
    log(`run ${run + 1}: CSV ${(csvBytes.byteLength / 1e6).toFixed(1)} MB created in ${c.ms.toFixed(0)} ms`);

    const xlsxBytes = xlsxOf(rows(n, run + 100));
    xlsx.bytes = xlsxBytes.byteLength;
    const x = await upload(xlsxBytes, "list.xlsx", "excel");
    xlsx.ms.push(x.ms);
    xlsx.rss.push(x.peak.runtimeRssMb);
    await api.cancelJob(x.id);
    log(
      `run ${run + 1}: XLSX ${(xlsxBytes.byteLength / 1e6).toFixed(1)} MB created in ${x.ms.toFixed(0)} ms`,
    );
  }

  // Wait for the last CSV job to finish, then stream its full download several times.
  for (const deadline = Date.now() + 20 * 60_000; ; ) {
    const { body } = await api.getJob(lastJob);
    if (body.status === "completed") break;
    if (Date.now() > deadline) throw new Error(`job ${lastJob} still ${body.status}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  for (let run = 0; run < runs; run++) {
    memory.mark();
    const started = performance.now();
    const res = await fetch(`${api.baseUrl}/v1/email/validate/job/${lastJob}/download`, { headers: auth });
    const reader = res.body!.getReader();
    let bytes = 0;
    let newlines = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      for (const b of value) if (b === 10) newlines++;
    }
    download.ms.push(performance.now() - started);
    download.rss.push(memory.phase().runtimeRssMb);
    download.bytes = bytes;
    download.rows = newlines - 1;
    log(
      `download ${run + 1}: ${download.rows} rows, ${(bytes / 1e6).toFixed(1)} MB in ${download.ms.at(-1)!.toFixed(0)} ms`,
    );
  }
  memory.stop();
  const fmt = (x: { ms: number[]; rss: number[]; bytes: number }) => ({
    median_ms: Math.round(median(x.ms)),
    runs_ms: x.ms.map(Math.round),
    peak_runtime_rss_mb_median: Math.round(median(x.rss)),
    size_mb: Number((x.bytes / 1e6).toFixed(1)),
  });
  console.log(
    JSON.stringify(
      {
        rows: n,
        runs,
        csv_create: fmt(csv),
        xlsx_create: fmt(xlsx),
        full_download: { ...fmt(download), rows: download.rows },
      },
      null,
      2,
    ),
  );
  await discardState(stack);
}

runScript(main);
