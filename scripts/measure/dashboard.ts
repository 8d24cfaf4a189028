// The dashboard's page weight, and how long it takes to show a finished
// 100,000-result job in headless Chromium, under `wrangler dev`.
//
//   npm run bench:dashboard [-- --rows 100000 --runs 5]
//
// The job runs with SMTP_MODE=off so 100,000 results exist quickly, over a
// mix of domains that give the breakdown something to show (accepted at DNS
// level, null MX, no mail host, no such domain, disposable, typos, bad
// syntax, role addresses). Each run opens the dashboard in a fresh browser
// context (cold cache) with the key and the job already chosen, as after a
// reload, and records when each part is first on screen:
//   status — the job's status and counts; story — the progress chart;
//   breakdown — the verdict chart; results — the first row of the results table.
// Page weight is the bytes of the static files the page loads (HTML, CSS, JS),
// as served and gzipped, and what Chromium transferred in all, API answers
// included. The read routes the page uses are timed from Node as well.
// Figures are medians over the runs.

import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";
import { CHROMIUM_PATH } from "../../test/browser/browser";
import { intArg, readArgs } from "../lib/args";
import { installExitHandlers, runScript } from "../lib/processes";
import { discardState, startStack } from "../lib/stack";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/** A list whose verdicts are varied without any SMTP: each kind of address is decided by DNS or by the lists. */
function list(n: number): string[] {
  const kinds = [
    (i: number) => `user${i}@d${i % 997}.normal.test`,
    (i: number) => `user${i}@d${i % 997}.normal.test`,
    (i: number) => `user${i}@d${i % 997}.normal.test`,
    (i: number) => `info${i}@nullmx.test`,
    (i: number) => `sales${i}@nomail.test`,
    (i: number) => `lost${i}@gone${i % 50}.nowhere.test`,
    (i: number) => `temp${i}@mailinator.com`,
    (i: number) => `typo${i}@gmial.com`,
    (i: number) => `not-an-address-${i}`,
  ];
  return Array.from({ length: n }, (_, i) => kinds[i % kinds.length]!(i));
}

const MARKS = {
  status: `document.querySelector('#job-status')?.dataset.status === 'completed'`,
  story: `!!document.querySelector('#story-chart svg polyline')`,
  breakdown: `document.querySelectorAll('#verdict-chart svg rect').length > 0`,
  results: `!!document.querySelector('#results-body tr button')`,
};

async function main() {
  installExitHandlers();
  const args = readArgs(process.argv.slice(2));
  const n = intArg(args, "rows", 100_000);
  const runs = intArg(args, "runs", 5);
  const log = (line: string) => console.error(`[dashboard] ${line}`);
  const stack = await startStack({
    name: "dashboard",
    account: "bench-dashboard",
    vars: { RATE_LIMIT_PER_MINUTE: "100000", SMTP_MODE: "off", BATCH_SIZE: "1000" },
    log,
  });
  const { api } = stack;
  const base = api.baseUrl;
  const auth = { authorization: `Bearer ${api.key}`, "content-type": "application/json" };

  // The job.
  const created = performance.now();
  const res = await fetch(`${base}/email-validations`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ emails: list(n), label: `${n.toLocaleString("en")} addresses` }),
  });
  const job = (await res.json()) as { id?: string };
  if (res.status !== 202 || !job.id) throw new Error(`create: ${res.status} ${JSON.stringify(job)}`);
  log(`job ${job.id} created; waiting for it to finish`);
  for (const deadline = Date.now() + 30 * 60_000; ; ) {
    const { body } = await api.getJob(job.id);
    if (body.status === "completed") break;
    if (Date.now() > deadline) throw new Error(`job ${job.id} still ${body.status}`);
    await new Promise((r) => setTimeout(r, 2000));
  }
  log(`job finished in ${((performance.now() - created) / 1000).toFixed(0)} s`);

  // Static weight: the page and the files it names.
  const html = await (await fetch(`${base}/`)).text();
  const files = [...html.matchAll(/(?:href|src)="(\/dashboard\/[^"]+)"/g)].map((m) => m[1]!);
  const weights = await Promise.all(
    ["/", ...files].map(async (path) => {
      const bytes = new Uint8Array(await (await fetch(`${base}${path}`)).arrayBuffer());
      return { path, bytes: bytes.byteLength, gzip: gzipSync(bytes, { level: 9 }).byteLength };
    }),
  );

  // The read routes the page calls, timed from here (round trip, body read), each several times.
  const routes: Record<string, string> = {
    results_first_page: "/results?page[size]=25",
    results_by_reason: "/results?reason=null_mx&page[size]=25",
    results_search_no_match: "/results?q=nobody-has-this&page[size]=25",
    breakdown: "/breakdown",
    story: "/story",
    download_by_reason: "/download?reason=null_mx",
  };
  const api_ms: Record<string, number> = {};
  for (const [name, path] of Object.entries(routes)) {
    const times: number[] = [];
    for (let run = 0; run < runs; run++) {
      const started = performance.now();
      const r = await fetch(`${base}/email-validations/${job.id}${path}`, { headers: auth });
      if (r.status !== 200) throw new Error(`${path}: ${r.status} ${await r.text()}`);
      await r.arrayBuffer();
      times.push(performance.now() - started);
    }
    api_ms[name] = Math.round(median(times));
    log(`${name}: ${times.map((t) => t.toFixed(0)).join(", ")} ms`);
  }

  // First render, cold, several times.
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
    ],
  });
  const samples: Record<string, number[]> = { fcp: [], status: [], story: [], breakdown: [], results: [] };
  const transferred: number[] = [];
  try {
    for (let run = 0; run < runs; run++) {
      // bypassCSP: the page's CSP forbids the string evaluation waitForFunction polls with.
      const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, bypassCSP: true });
      await context.addInitScript({
        content: `sessionStorage.setItem("mailvet.apiKey", ${JSON.stringify(api.key)});
          sessionStorage.setItem("mailvet.watchedJob", ${JSON.stringify(job.id)});`,
      });
      const page = await context.newPage();
      let bytes = 0;
      const cdp = await context.newCDPSession(page);
      await cdp.send("Network.enable");
      cdp.on("Network.loadingFinished", (e: { encodedDataLength: number }) => {
        bytes += e.encodedDataLength;
      });
      await page.goto(`${base}/`);
      // Records, frame by frame, when each part is first on screen (ms since navigation start).
      const done = await page.waitForFunction(
        `(() => {
          const marks = (window.__marks ??= {});
          const checks = { ${Object.entries(MARKS)
            .map(([name, test]) => `${name}: () => (${test})`)
            .join(", ")} };
          for (const [name, test] of Object.entries(checks)) {
            if (marks[name] === undefined && test()) marks[name] = performance.now();
          }
          return Object.keys(checks).every((name) => marks[name] !== undefined) && marks;
        })()`,
        undefined,
        { polling: "raf", timeout: 120_000 },
      );
      const marks = (await done.jsonValue()) as Record<string, number>;
      const fcp = (await page.evaluate(
        `performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? null`,
      )) as number | null;
      if (fcp !== null) samples.fcp!.push(fcp);
      for (const name of Object.keys(MARKS)) samples[name]!.push(marks[name]!);
      // Let the page's fetches of this moment land before counting their bytes.
      await page.waitForLoadState("networkidle");
      transferred.push(bytes);
      log(
        `run ${run + 1}: ${Object.entries(marks)
          .map(([k, v]) => `${k} ${v.toFixed(0)} ms`)
          .join(", ")}; fcp ${fcp?.toFixed(0)} ms; ${bytes} bytes transferred`,
      );
      await context.close();
    }
  } finally {
    await browser.close();
  }

  console.log(
    JSON.stringify(
      {
        rows: n,
        runs,
        job: job.id,
        static_files: weights,
        static_total_bytes: weights.reduce((s, w) => s + w.bytes, 0),
        static_total_gzip_bytes: weights.reduce((s, w) => s + w.gzip, 0),
        transferred_bytes_median: median(transferred),
        api_ms_median: api_ms,
        first_render_ms_median: Object.fromEntries(
          Object.entries(samples).map(([k, v]) => [k, Math.round(median(v))]),
        ),
        first_render_ms_runs: Object.fromEntries(
          Object.entries(samples).map(([k, v]) => [k, v.map(Math.round)]),
        ),
      },
      null,
      2,
    ),
  );
  await stack.wrangler.stop();
  await stack.world.close();
  await discardState(stack);
}

runScript(main);
