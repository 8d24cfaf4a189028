// The whole mailvet side of one list size: start wrangler dev against the
// running world, run the job, score it, time pages and cancels, and sample
// memory. The caller reads wrangler's log once it is closed (worker-log.ts).

import { join } from "node:path";
import { median } from "../../scripts/lib/time";
import type { BenchOptions } from "../cli";
import { type Answer, score } from "../report/accuracy";
import { profileActivity } from "../report/activity";
import type { MailvetFigures } from "../report/types";
import { summarizeWire } from "../report/world-stats";
import type { RunningWorld } from "../world/start";
import { MailvetApi } from "./api";
import { milestones, runJob, timeCancels, timePages } from "./measure";
import { sampleWorkerdMemory } from "./memory";
import { startProbers } from "./probers";
import { startMailvet } from "./wrangler";

export interface MailvetPhaseContext {
  appDir: string;
  tmpDir: string;
  worldDir: string;
  node: string;
  log: (line: string) => void;
}

export async function measureMailvet(
  running: RunningWorld,
  opts: BenchOptions,
  ctx: MailvetPhaseContext,
): Promise<MailvetFigures> {
  const { world } = running;
  // Only what an operator would set: MX_CONCURRENCY is its politeness (the world's connection
  // cap), the reply timeout the baseline's. Nothing tuned to the world's secret rules (greylist
  // delay, back-off): mailvet's defaults apply unless a flag sets them for an experiment.
  const vars: Record<string, string> = {
    DOH_URL: running.dns.dohUrl,
    // The world's domains end in .test.
    RESOLVE_RESERVED: "test",
    SMTP_MODE: "direct",
    SMTP_PORT: String(running.smtp.port),
    MX_CONCURRENCY: String(opts.mailvet.mxConcurrency),
    SMTP_CONNECT_TIMEOUT_MS: "5000",
    SMTP_REPLY_TIMEOUT_MS: String(opts.mailvet.smtpTimeoutMs),
    DNS_TIMEOUT_MS: "5000",
    // The API's own per-key request limit is not what this bench measures.
    RATE_LIMIT_PER_MINUTE: "1000000",
    // Log a line whenever a limit of the production platform is crossed (counted from the log).
    PLATFORM_LIMITS: "enforce",
    ...(opts.mailvet.greylistRetrySeconds !== null
      ? { GREYLIST_DELAY_SECONDS: String(opts.mailvet.greylistRetrySeconds) }
      : {}),
    ...(opts.mailvet.batchSize ? { BATCH_SIZE: String(opts.mailvet.batchSize) } : {}),
    ...(opts.mailvet.mxBackoffSeconds !== null
      ? { MX_BACKOFF_SECONDS: String(opts.mailvet.mxBackoffSeconds) }
      : {}),
  };
  const probers =
    opts.mailvet.probers > 0
      ? await startProbers({
          count: opts.mailvet.probers,
          appDir: ctx.appDir,
          node: ctx.node,
          smtpPort: running.smtp.port,
          connectTimeoutMs: Number(vars.SMTP_CONNECT_TIMEOUT_MS),
          replyTimeoutMs: opts.mailvet.smtpTimeoutMs,
          mxConcurrency: opts.mailvet.mxConcurrency,
        })
      : null;
  if (probers) {
    ctx.log(`mailvet: relay mode through ${probers.urls.length} probers`);
    Object.assign(vars, {
      SMTP_MODE: "relay",
      PROBER_URLS: probers.urls.join(","),
      PROBER_SECRET: probers.secret,
    });
  }
  const logFile = join(ctx.worldDir, "wrangler.log");
  const mailvet = await startMailvet({
    appDir: ctx.appDir,
    stateDir: join(ctx.tmpDir, `state-${world.list.length}`),
    logFile,
    vars,
    log: ctx.log,
  });
  const memory = sampleWorkerdMemory(mailvet.pid);
  try {
    const api = new MailvetApi(mailvet.baseUrl, mailvet.key);
    running.reset();
    memory.mark();
    ctx.log(`mailvet: creating a job of ${world.list.length} addresses`);
    const dohBefore = running.dns.queries();
    const jobStart = Date.now();
    const job = await runJob(api, world.list, opts.mailvet.jobTimeoutMs, ctx.log);
    const activity = profileActivity(
      running.smtp.activity(),
      jobStart,
      jobStart + (job.endToEndMs ?? Date.now() - jobStart),
    );
    const duringJob = memory.phase();
    const dohQueries = running.dns.queries() - dohBefore;
    const wire = summarizeWire(running.smtp.stats(), world);
    const proberRcpts = probers ? await probers.rcpts() : null;
    if (probers && proberRcpts) ctx.log(`mailvet: RCPTs per prober ${proberRcpts.join(" / ")}`);
    ctx.log(`mailvet: job ${job.finalStatus}, end to end ${((job.endToEndMs ?? 0) / 1000).toFixed(1)} s`);

    const download = job.id ? await api.download(job.id) : null;
    if (download?.error)
      job.incidents.push({
        what: "download",
        request: `GET /email-validations/${job.id}/download?format=ndjson`,
        status: download.status,
        body: download.error,
      });
    const answers = new Map<string, Answer>();
    const reasons: Record<string, number> = {};
    for (const line of download?.lines ?? []) {
      answers.set(line.email, { result: line.result, catch_all: line.catch_all === true });
      const reason = String(line.reason ?? "?");
      reasons[reason] = (reasons[reason] ?? 0) + 1;
    }
    const accuracy = download ? score(world.truth, answers) : null;

    const ordered = download?.lines.length ? download.lines.map((l) => l.email) : world.list;
    const pages =
      job.id && job.finalStatus === "completed"
        ? await timePages(api, job.id, ordered, opts.mailvet.pageRuns, job.incidents)
        : [];
    const health: number[] = [];
    for (let i = 0; i < opts.mailvet.pageRuns; i++) health.push((await api.call("GET", "/health")).ms);

    ctx.log(`mailvet: ${opts.mailvet.cancelRuns} cancel runs`);
    const k = Math.min(opts.mailvet.cancelListSize, world.list.length);
    const lists = Array.from({ length: opts.mailvet.cancelRuns }, (_, i) => {
      const start =
        world.list.length > k
          ? Math.floor(((i + 1) * (world.list.length - k)) / (opts.mailvet.cancelRuns + 1))
          : 0;
      return world.list.slice(start, start + k);
    });
    const cancels = await timeCancels(api, lists, job.incidents, ctx.log);

    const retry = job.samples.map((x) => x.retryAfter).filter((x): x is number => x !== null);
    return {
      createMs: job.createMs,
      createStatus: job.createStatus,
      finalStatus: job.finalStatus,
      endToEndMs: job.endToEndMs,
      serverMs: job.serverMs,
      ratioToLowerBound: null, // filled in by the caller, which knows the bound
      milestones: milestones(job.samples, world.list.length),
      steadyRatePerS: steadyRate(job.samples, world.list.length),
      retryAfterSeconds: {
        min: retry.length ? Math.min(...retry) : null,
        max: retry.length ? Math.max(...retry) : null,
      },
      downloadMs: download?.ms ?? null,
      downloadLines: download?.lines.length ?? 0,
      accuracy,
      pages,
      cancel: { p50Ms: median(cancels.flatMap((c) => (c.ms === null ? [] : [c.ms]))), runs: cancels },
      memory: { duringJob, overall: memory.overall() },
      healthP50Ms: median(health),
      dohQueries,
      activity,
      progress: job.samples.map((x) => [Math.round(x.t), x.processed]),
      steps: steps(job.samples),
      wire,
      reasons,
      logErrors: { counts: {}, examples: [] },
      platformLimits: { count: 0, examples: [] },
      jobId: job.id,
      workerSide: null,
      incidents: job.incidents,
      vars,
      probers:
        probers && proberRcpts ? probers.urls.map((url, i) => ({ url, rcpts: proberRcpts[i]! })) : null,
    };
  } finally {
    memory.stop();
    await mailvet.stop();
    await probers?.stop();
  }
}

/** The jumps of the processed count between polls: results land one batch at a time. */
function steps(samples: { t: number; processed: number }[]): MailvetFigures["steps"] {
  const sizes: number[] = [];
  const gaps: number[] = [];
  let lastIncrease: number | null = null;
  let lastProcessed = 0;
  for (const x of samples) {
    if (x.processed <= lastProcessed) continue;
    sizes.push(x.processed - lastProcessed);
    if (lastIncrease !== null) gaps.push(x.t - lastIncrease);
    lastIncrease = x.t;
    lastProcessed = x.processed;
  }
  return {
    count: sizes.length,
    medianSize: median(sizes),
    medianGapMs: median(gaps),
    maxGapMs: gaps.length ? Math.max(...gaps) : null,
  };
}

/** Results per second between 10 % and 90 % of the list: the pace once the job is under way. */
function steadyRate(samples: { t: number; processed: number }[], total: number): number | null {
  const a = samples.find((x) => x.processed >= 0.1 * total);
  const b = samples.find((x) => x.processed >= 0.9 * total);
  if (!a || !b || b.t <= a.t) return null;
  return ((b.processed - a.processed) / (b.t - a.t)) * 1000;
}
