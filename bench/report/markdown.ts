// The markdown report: one summary table (mailvet and baseline side by side,
// targets next to the figures), then per-size detail: accuracy per
// behaviour, how full each tool's sessions were on the busiest hosts, and
// where mailvet's time went.

import { BEHAVIOUR_NOTES, type Behaviour } from "../world/params";
import type { Accuracy } from "./accuracy";
import {
  type BaselineFigures,
  type BenchReport,
  type MailvetFigures,
  type SizeReport,
  TARGETS,
} from "./types";
import type { WireSummary } from "./world-stats";

const n = (x: number) => x.toLocaleString("en-US");
const s = (ms: number | null | undefined) =>
  ms == null ? "—" : ms >= 100_000 ? `${(ms / 1000).toFixed(0)} s` : `${(ms / 1000).toFixed(1)} s`;
const ms = (x: number | null | undefined) => (x == null ? "—" : `${x.toFixed(x < 10 ? 1 : 0)} ms`);
const pct = (x: number | null | undefined) =>
  x == null ? "—" : `${(x * 100).toFixed(x >= 0.999 ? 2 : 1)} %`;
const ratio = (x: number | null | undefined) => (x == null ? "—" : `${x.toFixed(1)}×`);

function mailvetOf(size: SizeReport): MailvetFigures | null {
  return !size.mailvet || "error" in size.mailvet ? null : size.mailvet;
}

function baselineOf(size: SizeReport): BaselineFigures | null {
  return !size.baseline || "error" in size.baseline ? null : size.baseline;
}

export function renderMarkdown(report: BenchReport): string {
  const out: string[] = [];
  out.push(`# mailvet bench — ${report.startedAt.slice(0, 16).replace("T", " ")} UTC`);
  out.push("");
  out.push(
    `mailvet at \`${report.commit}\` (${report.uncommitted} uncommitted files, copied at start) on ${report.machine.cpus} CPUs, Node ${report.machine.node}. Command: \`${report.command}\`.`,
  );
  const p = report.sizes[0]?.world.params;
  if (p) {
    out.push("");
    out.push(
      `World rules: reply ${p.replyLatencyMs} ms, banner ${p.bannerDelayMs} ms, ${p.connCap} connections per client per MX (421 above), ${p.rcptLimit} RCPTs per session (452 4.5.3 above), greylist ${p.greylistSeconds} s, rate-limit cool-down ${p.rateLimitSeconds} s, connection rate ${p.connRatePerSecond} per client per second on the rate-limited host (421 above), Zipf ${p.zipfExponent}, seed ${p.seed}.`,
    );
  }
  out.push("");
  out.push(...summaryTable(report));
  for (const size of report.sizes) out.push("", ...sizeDetail(size));
  return `${out.join("\n")}\n`;
}

function summaryTable(report: BenchReport): string[] {
  const header = ["figure", "target"];
  for (const size of report.sizes) header.push(`mailvet ${n(size.size)}`, `baseline ${n(size.size)}`);
  const rows: string[][] = [];
  const row = (figure: string, target: string, cell: (size: SizeReport) => [string, string]) =>
    rows.push([figure, target, ...report.sizes.flatMap(cell)]);

  row("lower bound (world physics)", "", (z) => [s(z.lowerBound.ms), s(z.lowerBound.ms)]);
  row("end-to-end time", "", (z) => {
    const m = mailvetOf(z);
    const b = baselineOf(z);
    const mv =
      z.mailvet === null
        ? "not run"
        : m
          ? m.endToEndMs == null
            ? `did not finish (${m.finalStatus})`
            : s(m.endToEndMs)
          : "error";
    const bl =
      z.baseline === null ? "not run" : b ? (b.finished ? s(b.ms) : `did not finish in ${s(b.ms)}`) : "error";
    return [mv, bl];
  });
  row("… ratio to lower bound", TARGETS.ratio, (z) => [
    ratio(mailvetOf(z)?.ratioToLowerBound),
    baselineOf(z)?.finished ? ratio(baselineOf(z)?.ratioToLowerBound) : "—",
  ]);
  row("mailvet faster than the baseline?", TARGETS.faster, (z) => [faster(z), "—"]);
  row("accuracy (class)", TARGETS.accuracy, (z) => [
    pct(mailvetOf(z)?.accuracy?.accuracy),
    baselineCell(
      z,
      (b) => b.accuracy.accuracy,
      (b) => b.answeredAccuracy,
    ),
  ]);
  row("accuracy (class + catch_all)", "", (z) => [
    pct(mailvetOf(z)?.accuracy?.accuracyWithCatchAll),
    baselineCell(z, (b) => b.accuracy.accuracyWithCatchAll),
  ]);
  // Client-side time first; in brackets the Worker's own time for the same requests (its access log).
  const worker = (x: number | null | undefined) => (x == null ? "" : ` (Worker ${ms(x)})`);
  row("create request", TARGETS.create, (z) => {
    const m = mailvetOf(z);
    return [m ? `${ms(m.createMs)}${worker(m.workerSide?.createMs)}` : "—", "—"];
  });
  for (const page of ["first", "middle", "last"]) {
    row(`page of 100, ${page} (p50)`, TARGETS.page, (z) => {
      const m = mailvetOf(z);
      const timing = m?.pages.find((pg) => pg.name === page);
      if (!timing) return ["—", "—"];
      const rows = timing.correct ? "" : " (wrong rows)";
      return [`${ms(timing.p50Ms)}${worker(m?.workerSide?.pagesP50Ms[page])}${rows}`, "—"];
    });
  }
  row("cancel (p50)", TARGETS.cancel, (z) => {
    const m = mailvetOf(z);
    const c = m?.cancel;
    return [c ? `${ms(c.p50Ms)}${worker(m?.workerSide?.cancelP50Ms)}, ${c.runs.length} runs` : "—", "—"];
  });
  row("GET /health through wrangler dev (p50)", "", (z) => [ms(mailvetOf(z)?.healthP50Ms), "—"]);
  row("peak workerd memory: VmRSS sum (PSS sum)", TARGETS.memory, (z) => {
    const m = mailvetOf(z)?.memory.overall;
    return [m ? `${m.rssMb.toFixed(0)} MB (${m.pssMb.toFixed(0)} MB)` : "—", "—"];
  });
  row("platform limit violations (wrangler log)", TARGETS.platformLimits, (z) => [
    String(mailvetOf(z)?.platformLimits.count ?? "—"),
    "—",
  ]);
  row("SMTP sessions / RCPTs", "", (z) => [wire(mailvetOf(z)?.wire), wire(baselineOf(z)?.wire)]);
  row(`RCPTs per session, % of the limit (best the world allows)`, TARGETS.fill, (z) => [
    fill(mailvetOf(z)?.wire),
    fill(baselineOf(z)?.wire),
  ]);
  row("421 (over the connection cap)", "", (z) => [
    String(mailvetOf(z)?.wire.capRejects421 ?? "—"),
    String(baselineOf(z)?.wire.capRejects421 ?? "—"),
  ]);
  row("421 (over the connection rate)", "", (z) => [
    String(mailvetOf(z)?.wire.connRate421 ?? "—"),
    String(baselineOf(z)?.wire.connRate421 ?? "—"),
  ]);

  return [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ];
}

function baselineCell(
  z: SizeReport,
  value: (b: BaselineFigures) => number,
  ofAnswered?: (b: BaselineFigures) => number,
): string {
  if (z.baseline === null) return "not run";
  const b = baselineOf(z);
  if (!b) return "error";
  if (b.finished || !ofAnswered) return pct(value(b));
  return `${pct(value(b))} (${pct(ofAnswered(b))} of the ${n(b.answered)} answered)`;
}

function wire(w: { sessions: number; rcpts: number } | undefined): string {
  return w ? `${n(w.sessions)} / ${n(w.rcpts)}` : "—";
}

/** RCPTs per session overall, as a share of the recipient limit, and the best a verifier could do. */
function fill(w: WireSummary | undefined): string {
  if (!w) return "—";
  const f = w.fill;
  return `${w.rcptsPerSession.toFixed(1)} = ${pct(f.ofLimit)} (best ${pct(f.bestOfLimit)})`;
}

/** Whether mailvet finished sooner than the baseline, and by how much. */
function faster(z: SizeReport): string {
  const m = mailvetOf(z);
  const b = baselineOf(z);
  if (!m || !b) return "—";
  if (m.endToEndMs == null) return b.finished ? "no (mailvet did not finish)" : "— (neither finished)";
  if (!b.finished)
    return m.endToEndMs < b.ms
      ? `yes, ≥ ${ratio(b.ms / m.endToEndMs)} faster (baseline stopped at ${s(b.ms)})`
      : "— (baseline stopped first)";
  const r = b.ms / m.endToEndMs;
  return r >= 1 ? `yes, ${r.toFixed(1)}× faster` : `no, ${(1 / r).toFixed(1)}× slower`;
}

function sizeDetail(z: SizeReport): string[] {
  const out: string[] = [];
  const m = mailvetOf(z);
  const b = baselineOf(z);
  out.push(`## ${n(z.size)} addresses`);
  out.push("");
  out.push(
    `World: ${n(z.world.domains)} domains, ${n(z.world.servers)} SMTP servers (+${z.world.deadIps} dead MX addresses). Files: \`${z.world.dir}\`.`,
  );
  const lb = z.lowerBound;
  out.push(
    `Lower bound ${s(lb.ms)}, set by the ${lb.bindingConstraint}: busiest MX ${lb.busiest.host} with ${n(lb.busiest.rcpts)} RCPTs in ${n(lb.busiest.sessions)} sessions = ${s(lb.busiest.ms)}; greylist ${s(lb.greylistMs)}; rate limit ${s(lb.rateLimitMs)}; connection rate ${s(lb.connRateMs)}; tarpit ${s(lb.tarpitMs)}. (The issue's additive formula gives ${s(lb.additiveMs)}.)`,
  );
  const shared = z.world.sharedServers.filter((x) => x.role !== "hosting");
  if (shared.length)
    out.push(
      `Servers behind many domains (besides the ${z.world.params.hostingMxHosts} shared hosting hosts): ${shared.map((x) => `${x.host} (${x.behaviour}, ${n(x.domains)} domains)`).join("; ")}.`,
    );
  if (z.mailvet && "error" in z.mailvet) out.push("", `**mailvet failed:** ${z.mailvet.error}`);
  if (z.baseline && "error" in z.baseline) out.push("", `**baseline failed:** ${z.baseline.error}`);
  out.push("");
  out.push(...behaviourTable(m?.accuracy ?? null, b?.accuracy ?? null));
  if (m || b) out.push("", ...fillTable(z, m?.wire ?? null, b?.wire ?? null));
  if (m) out.push("", ...mailvetProfile(z, m));
  if (b) out.push("", ...baselineProfile(b));
  return out;
}

function behaviourTable(mv: Accuracy | null, bl: Accuracy | null): string[] {
  const groups = Object.keys(mv?.byBehaviour ?? bl?.byBehaviour ?? {}).sort(
    (a, b) => Object.keys(BEHAVIOUR_NOTES).indexOf(a) - Object.keys(BEHAVIOUR_NOTES).indexOf(b),
  );
  const cell = (acc: Accuracy | null, group: string) => {
    const g = acc?.byBehaviour[group];
    if (!g) return "—";
    const wrong = Object.entries(g.wrong)
      .sort((x, y) => y[1] - x[1])
      .map(([cls, count]) => `${cls} ${n(count)}`);
    return `${pct(g.accuracy)}${wrong.length ? ` (${wrong.join(", ")})` : ""}`;
  };
  const rows = groups.map((group) => {
    const g = (mv ?? bl)?.byBehaviour[group];
    return `| ${group} | ${BEHAVIOUR_NOTES[group as Behaviour] ?? ""} | ${n(g?.count ?? 0)} | ${cell(mv, group)} | ${cell(bl, group)} |`;
  });
  return [
    "| behaviour | world → truth | addresses | mailvet (wrong answers) | baseline (wrong answers) |",
    "|---|---|---|---|---|",
    ...rows,
  ];
}

/** RCPTs per session on the hosts with the most recipients, counted by the servers. */
function fillTable(z: SizeReport, mv: WireSummary | null, bl: WireSummary | null): string[] {
  const limit = z.world.params.rcptLimit;
  const hosts = (mv ?? bl)?.fill.busiestHosts ?? [];
  const cell = (w: WireSummary | null, ip: string) => {
    const h = w?.fill.busiestHosts.find((x) => x.ip === ip);
    if (!h) return "—";
    return `${n(h.sessions)} / ${n(h.rcpts)}: ${h.rcptsPerSession?.toFixed(1) ?? "—"} = ${pct(h.ofLimit)}`;
  };
  const overall = (w: WireSummary | null) =>
    w ? `${n(w.sessions)} / ${n(w.rcpts)}: ${w.rcptsPerSession.toFixed(1)} = ${pct(w.fill.ofLimit)}` : "—";
  return [
    `RCPTs per session against the limit of ${limit} (target ${TARGETS.fill}), counted by the servers: the hosts with the most recipients, the one-server-many-domains hosts, and all hosts. "Best" is every recipient a perfect verifier sends there (list and catch-all probes) in the fewest sessions the limit allows.`,
    "",
    "| host | role | recipients needed | best per session | mailvet sessions / RCPTs: per session = % of limit | baseline sessions / RCPTs: per session = % of limit |",
    "|---|---|---|---|---|---|",
    ...hosts.map(
      (h) =>
        `| ${h.host} | ${h.role} | ${n(h.needed)} | ${pct(h.bestOfLimit)} | ${cell(mv, h.ip)} | ${cell(bl, h.ip)} |`,
    ),
    `| all hosts | | | ${pct((mv ?? bl)?.fill.bestOfLimit)} | ${overall(mv)} | ${overall(bl)} |`,
  ];
}

function mailvetProfile(z: SizeReport, m: MailvetFigures): string[] {
  const out = ["### mailvet: where the time went", ""];
  const t = m.milestones;
  out.push(
    `- Progress (after create): 50 % at ${s(t.t50)}, 90 % at ${s(t.t90)}, 99 % at ${s(t.t99)}, 100 % at ${s(t.t100)}; steady rate ${m.steadyRatePerS?.toFixed(0) ?? "—"} results/s; server-side created→finished ${s(m.serverMs)}.`,
  );
  out.push(
    `- DoH queries during the job: ${n(m.dohQueries)} (for ${n(z.world.domains)} domains). Retry-After seen: ${m.retryAfterSeconds.min ?? "—"}–${m.retryAfterSeconds.max ?? "—"} s. Download of ${n(m.downloadLines)} NDJSON lines: ${s(m.downloadMs)}.`,
  );
  const a = m.activity;
  const share = (x: number) => (a.windowMs ? `${((x / a.windowMs) * 100).toFixed(0)} %` : "—");
  out.push(
    `- The job's ${s(a.windowMs)} on the wire: some SMTP session open ${s(a.smtpMs)} (${share(a.smtpMs)}), only tarpit connections open ${s(a.tarpitOnlyMs)} (${share(a.tarpitOnlyMs)}), nothing open ${s(a.idleMs)} (${share(a.idleMs)}: DNS, D1, alarms, waits for a retry).`,
  );
  const w = m.wire;
  out.push(
    `- On the wire: ${n(w.connections)} connections, ${n(w.sessions)} sessions, ${n(w.rcpts)} RCPTs (${w.rcptsPerSession.toFixed(1)} per session); 421 over the cap ${n(w.capRejects421)}, 421 rate limit ${n(w.rateLimit421)}, 421 connection rate ${n(w.connRate421)}, 452 ${n(w.rcptLimit452)}, 451 greylist ${n(w.greylist451)}, DATA ${w.dataAttempts}; ${n(w.tarpitConnections)} connections to tarpits; at most ${w.peakOpenPerMx} connections on one MX.`,
  );
  if (m.probers)
    out.push(
      `- Through ${m.probers.length} probers (relay mode): RCPTs per prober ${m.probers.map((p) => n(p.rcpts)).join(" / ")}.`,
    );
  if (w.busiest)
    out.push(
      `- Busiest MX (${w.busiest.ip}): ${n(w.busiest.rcpts)} RCPTs in ${n(w.busiest.sessions)} sessions, active for ${s(w.busiest.activeMs)} (the bound allows ${s(z.lowerBound.busiest.ms)}).`,
    );
  const reasons = Object.entries(m.reasons)
    .sort((a, b) => b[1] - a[1])
    .map(([r, c]) => `${r} ${n(c)}`)
    .join(", ");
  out.push(`- Reasons: ${reasons || "—"}.`);
  const mem = m.memory;
  out.push(
    `- Peak workerd memory during the job: VmRSS ${mem.duringJob.rssMb.toFixed(0)} MB summed over both workerd processes (PSS ${mem.duringJob.pssMb.toFixed(0)} MB); the runtime process alone ${mem.duringJob.runtimeRssMb.toFixed(0)} MB, of which ${mem.duringJob.runtimeAnonMb.toFixed(0)} MB anonymous (heap). Overall (with pages, download, cancels): VmRSS ${mem.overall.rssMb.toFixed(0)} MB, PSS ${mem.overall.pssMb.toFixed(0)} MB.`,
  );
  out.push(
    `- Results land in steps: ${m.steps.count} jumps of ${m.steps.medianSize ?? "—"} results (median), ${s(m.steps.medianGapMs)} apart (median), longest gap ${s(m.steps.maxGapMs)}. GET /health through wrangler dev: ${ms(m.healthP50Ms)} p50 (the floor under every request).`,
  );
  out.push(
    `- Cancel runs: ${m.cancel.runs.map((r) => (r.ms == null ? `failed (${r.status})` : `${r.ms.toFixed(1)} ms`)).join(", ") || "—"}.`,
  );
  if (m.platformLimits.count) {
    out.push(
      `- Platform limits crossed (PLATFORM_LIMITS=enforce): ${n(m.platformLimits.count)} lines. First lines:`,
    );
    for (const line of m.platformLimits.examples)
      out.push(`  - \`${line.slice(0, 300).replaceAll("`", "'")}\``);
  } else out.push("- Platform limits crossed (PLATFORM_LIMITS=enforce): none.");
  const errs = Object.entries(m.logErrors.counts).filter(([, c]) => c > 0);
  if (errs.length) {
    out.push(`- wrangler log: ${errs.map(([k, c]) => `${k} ×${c}`).join(", ")}. First lines:`);
    for (const line of m.logErrors.examples) out.push(`  - \`${line.slice(0, 300).replaceAll("`", "'")}\``);
  }
  if (m.incidents.length) {
    out.push("- Incidents (request → status, body):");
    for (const i of m.incidents.slice(0, 10))
      out.push(
        `  - ${i.what}: \`${i.request}\` → ${i.status} \`${i.body.slice(0, 300).replaceAll("`", "'")}\``,
      );
  }
  return out;
}

function baselineProfile(b: BaselineFigures): string[] {
  const w = b.wire;
  const details = Object.entries(b.details)
    .sort((x, y) => y[1] - x[1])
    .slice(0, 8)
    .map(([d, c]) => `${d} ${n(c)}`)
    .join("; ");
  return [
    "### baseline",
    "",
    `- ${b.finished ? "Finished" : "Did not finish"} in ${s(b.ms)} (${n(b.answered)} of ${n(b.total)} answered); per call p50 ${ms(b.callP50Ms)}, p95 ${ms(b.callP95Ms)}.`,
    `- On the wire: ${n(w.sessions)} sessions, ${n(w.rcpts)} RCPTs; 421 over the cap ${n(w.capRejects421)}, 421 rate limit ${n(w.rateLimit421)}, 421 connection rate ${n(w.connRate421)}, 451 greylist ${n(w.greylist451)}; at most ${w.peakOpenPerMx} connections on one MX.`,
    `- Its messages: ${details}.`,
  ];
}
