// `npm run bench`: mailvet against a baseline (deep-email-validator) on a
// simulated mail world on loopback. For each list size: generate and start
// the world, run mailvet under `wrangler dev`, then the baseline, and write
// the figures to bench/results/ (markdown, JSON, SVG). See bench/README.md.

import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { installExitHandlers, onCleanup, runScript } from "../scripts/lib/processes";
import { snapshotApp } from "../scripts/lib/snapshot";
import { measureBaseline } from "./baseline/phase";
import { type BenchOptions, readOptions } from "./cli";
import { measureMailvet } from "./mailvet/phase";
import { readWorkerLog } from "./mailvet/worker-log";
import type { BenchReport, SizeReport } from "./report/types";
import { writeReport } from "./report/write";
import { generateWorld, type MxServer, type World } from "./world/generate";
import { lowerBound } from "./world/lower-bound";
import { defaultParams, type WorldParams } from "./world/params";
import { startWorld, writeWorld } from "./world/start";

const repoDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const started = Date.now();
const log = (line: string) =>
  console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(5)} s] ${line}`);

async function main(): Promise<void> {
  installExitHandlers();
  const opts = readOptions(process.argv.slice(2));
  const node = existsSync(join(repoDir, "node_modules", ".bin", "node"))
    ? join(repoDir, "node_modules", ".bin", "node")
    : process.execPath;
  const tsxCli = join(repoDir, "node_modules", "tsx", "dist", "cli.mjs");
  const outDir = resolve(repoDir, opts.outDir);

  const tmpDir = await mkdtemp(join(tmpdir(), "mailvet-bench-"));
  onCleanup("temporary directory", () =>
    opts.keepTmp ? undefined : rm(tmpDir, { recursive: true, force: true }),
  );
  const snapshot = await snapshotApp(tmpDir, { hardLinkModules: true });
  log(`mailvet ${snapshot.commit} (+${snapshot.uncommitted} uncommitted files) copied to ${snapshot.dir}`);

  const report: BenchReport = {
    startedAt: new Date(started).toISOString(),
    finishedAt: "",
    commit: snapshot.commit,
    uncommitted: snapshot.uncommitted,
    machine: { cpus: cpus().length, node: process.version, platform: process.platform },
    command: `npm run bench -- ${process.argv.slice(2).join(" ")}`.trim(),
    sizes: [],
  };
  for (const size of opts.sizes) {
    report.sizes.push(await measureSize(size, opts, { tmpDir, appDir: snapshot.dir, node, tsxCli, outDir }));
    // Written after every size, so a long run leaves figures behind even if stopped.
    report.finishedAt = new Date().toISOString();
    await writeReport(report, outDir);
  }
  const { markdown, files } = await writeReport(report, outDir);
  console.log(`\n${markdown}`);
  console.log(`Written: ${files.map((f) => f.replace(`${repoDir}/`, "")).join(", ")}`);
}

async function measureSize(
  size: number,
  opts: BenchOptions,
  ctx: { tmpDir: string; appDir: string; node: string; tsxCli: string; outDir: string },
): Promise<SizeReport> {
  const { domains, shares, ...rules } = opts.world;
  const defaults = defaultParams(size);
  const params: WorldParams = {
    ...defaults,
    ...rules,
    ...(domains === null ? {} : { domains }),
    shares: { ...defaults.shares, ...shares },
  };
  const world = generateWorld(params);
  const worldDir = join(ctx.outDir, "world", String(size));
  await writeWorld(world, worldDir);
  log(`world of ${size} addresses: ${world.servers.length} SMTP servers, written to ${worldDir}`);
  const running = await startWorld(world, opts.smtpPort);
  const closeWorld = onCleanup(`world ${size}`, () => running.close());

  const hasTarpit = world.servers.some((s) => s.behaviour === "tarpit");
  const bound = lowerBound(params, world.load, opts.mailvet.smtpTimeoutMs, hasTarpit);
  log(`lower bound ${(bound.ms / 1000).toFixed(1)} s (${bound.bindingConstraint})`);

  const behaviours: Record<string, number> = {};
  const truthClasses: Record<string, number> = {};
  for (const t of world.truth.values()) {
    behaviours[t.behaviour] = (behaviours[t.behaviour] ?? 0) + 1;
    truthClasses[t.result] = (truthClasses[t.result] ?? 0) + 1;
  }
  const result: SizeReport = {
    size,
    world: {
      params,
      domains: Object.keys(world.zone).filter((name) => world.zone[name]?.some((r) => r.type === "MX"))
        .length,
      servers: world.servers.length,
      deadIps: world.deadIps.length,
      behaviours,
      truthClasses,
      sharedServers: sharedServers(world),
      dir: worldDir.replace(`${repoDir}/`, ""),
    },
    lowerBound: bound,
    mailvet: null,
    baseline: null,
  };

  if (opts.mailvet.enabled) {
    const logFile = join(worldDir, "wrangler.log");
    try {
      const figures = await measureMailvet(running, opts, {
        appDir: ctx.appDir,
        tmpDir: ctx.tmpDir,
        worldDir,
        node: ctx.node,
        log,
      });
      figures.ratioToLowerBound = figures.endToEndMs === null ? null : figures.endToEndMs / bound.ms;
      const fromLog = await readWorkerLog(
        logFile,
        figures.jobId,
        figures.pages.map((p) => p.name),
        opts.mailvet.pageRuns,
      );
      figures.logErrors = fromLog.errors;
      figures.workerSide = fromLog.workerSide;
      figures.platformLimits = fromLog.platformLimits;
      if (fromLog.platformLimits.count)
        log(`mailvet: ${fromLog.platformLimits.count} "platform limit exceeded" lines in the wrangler log`);
      result.mailvet = figures;
    } catch (err) {
      log(`mailvet failed: ${String(err)}`);
      result.mailvet = { error: `${String(err)} (log: ${logFile.replace(`${repoDir}/`, "")})` };
    }
  }

  if (opts.baseline.enabled) {
    try {
      result.baseline = await measureBaseline(running, opts, { ...ctx, log, lowerBoundMs: bound.ms });
    } catch (err) {
      log(`baseline failed: ${String(err)}`);
      result.baseline = { error: String(err) };
    }
  }
  await closeWorld();
  return result;
}

/** Servers named as MX by more than one domain, under any of their names, most domains first. */
function sharedServers(world: World): SizeReport["world"]["sharedServers"] {
  const byName = new Map<string, MxServer>();
  for (const server of world.servers)
    for (const name of [server.host, ...(server.aliases ?? [])]) byName.set(name, server);
  const domains = new Map<MxServer, number>();
  for (const records of Object.values(world.zone)) {
    const named = new Set<MxServer>();
    for (const r of records) {
      const server = r.type === "MX" ? byName.get(r.exchange) : undefined;
      if (server) named.add(server);
    }
    for (const server of named) domains.set(server, (domains.get(server) ?? 0) + 1);
  }
  return [...domains]
    .filter(([, count]) => count > 1)
    .sort((a, b) => b[1] - a[1] || a[0].ip.localeCompare(b[0].ip))
    .map(([server, count]) => ({
      host: [server.host, ...(server.aliases ?? [])].join(" = "),
      ip: server.ip,
      behaviour: server.behaviour,
      role: server.role,
      domains: count,
    }));
}

runScript(main);
