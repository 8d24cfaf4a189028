// Command-line flags of `npm run bench`. Every world rule and every knob of
// the two tools has a flag; the defaults are the issue's.

import { parseArgs } from "node:util";
import { DEFAULT_SHARES, defaultParams, type SpecialBehaviour, type WorldParams } from "./world/params";

type WorldRule =
  | "replyLatencyMs"
  | "bannerDelayMs"
  | "connCap"
  | "greylistSeconds"
  | "rateLimitSeconds"
  | "connRatePerSecond"
  | "rcptLimit"
  | "zipfExponent"
  | "seed";

/** The world's defaults, declared once in bench/world/params.ts. */
const WORLD = defaultParams(0);

export interface BenchOptions {
  sizes: number[];
  smtpPort: number;
  /** The world's rules (defaults: bench/world/params.ts), as the flags set them. */
  world: Pick<WorldParams, WorldRule> & {
    /** Ordinary domains; null = one per 25 addresses (40 to 5,000). */
    domains: number | null;
    /** Overrides of the special behaviours' shares of the list, e.g. { tarpit: 0 }. */
    shares: Partial<Record<SpecialBehaviour, number>>;
  };
  mailvet: {
    enabled: boolean;
    mxConcurrency: number;
    /** null = mailvet's own default. */
    batchSize: number | null;
    smtpTimeoutMs: number;
    /**
     * GREYLIST_DELAY_SECONDS; null = mailvet's own default. A real verifier does not know the
     * world's greylist delay, so a value here tunes mailvet to the world (experiments only).
     */
    greylistRetrySeconds: number | null;
    /** MX_BACKOFF_SECONDS after a 421; null = mailvet's own default (setting it is an experiment too). */
    mxBackoffSeconds: number | null;
    /** 0: SMTP straight from wrangler dev (direct); N: through a pool of N prober processes (relay). */
    probers: number;
    jobTimeoutMs: number;
    cancelRuns: number;
    cancelListSize: number;
    pageRuns: number;
  };
  baseline: {
    enabled: boolean;
    concurrency: number;
    capMs: number;
  };
  outDir: string;
  keepTmp: boolean;
}

const HELP = `Usage: npm run bench -- [flags]

  --quick                  one list of 2,000 addresses (same as --sizes 2000)
  --sizes 10000,100000     list sizes to measure (default: 10000,100000)
  --smtp-port 25           port every MX listens on (the baseline can only use 25)
World rules:
  --reply-ms ${WORLD.replyLatencyMs}            latency of every SMTP reply
  --banner-ms ${WORLD.bannerDelayMs}           delay before the 220 banner
  --conn-cap ${WORLD.connCap}             concurrent connections per client per MX; the next gets 421
  --greylist-s ${WORLD.greylistSeconds}          greylisting servers accept a recipient this long after its first try
  --rate-limit-s ${WORLD.rateLimitSeconds}        rate-limiting servers answer 421 this long after a client's first connection
  --conn-rate ${WORLD.connRatePerSecond}            the connection-rate-limited host answers 421 to a client's connections beyond
                           this many in any 1 s (refused attempts count too)
  --rcpt-limit ${WORLD.rcptLimit}          RCPTs per session; the next gets 452 4.5.3
  --domains N              ordinary domains (default: addresses / 25, 40 to 5,000)
  --zipf ${WORLD.zipfExponent}                 Zipf exponent of addresses over domains
  --seed ${WORLD.seed} 
  --share tarpit=0.003     share of the list for a special behaviour (repeatable; for experiments).
                           Behaviours: ${Object.keys(DEFAULT_SHARES).join(", ")}
mailvet:
  --no-mailvet             skip it (the world and the baseline alone)
  --mx-concurrency N       MX_CONCURRENCY (default: the connection cap)
  --batch-size N           BATCH_SIZE (default: mailvet's own)
  --smtp-timeout-ms 10000  SMTP_REPLY_TIMEOUT_MS (the baseline's fixed timeout is 10 s)
  --greylist-retry-s N     GREYLIST_DELAY_SECONDS (default: mailvet's own; a value tunes it to the world)
  --mx-backoff-s N         MX_BACKOFF_SECONDS, the pause after a 421 (default: mailvet's own)
  --probers N              relay mode through N prober processes, each with its own source address
                           (default 0: direct SMTP from wrangler dev)
  --job-timeout-min 90     give up on a job after this long
  --cancel-runs 5          fresh jobs canceled mid-flight for the cancel latency
  --page-runs 7            requests per page for the page latency
Baseline (deep-email-validator):
  --no-baseline            skip it
  --baseline-concurrency 50
  --baseline-cap-min 15    stop it after this long and report "did not finish"
Output:
  --out bench/results      where latest.{md,json,svg} and the dated copies go
  --keep-tmp               keep wrangler's state directory
`;

export function readOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      help: { type: "boolean" },
      quick: { type: "boolean" },
      sizes: { type: "string" },
      "smtp-port": { type: "string", default: "25" },
      "reply-ms": { type: "string", default: String(WORLD.replyLatencyMs) },
      "banner-ms": { type: "string", default: String(WORLD.bannerDelayMs) },
      "conn-cap": { type: "string", default: String(WORLD.connCap) },
      "greylist-s": { type: "string", default: String(WORLD.greylistSeconds) },
      "rate-limit-s": { type: "string", default: String(WORLD.rateLimitSeconds) },
      "conn-rate": { type: "string", default: String(WORLD.connRatePerSecond) },
      "rcpt-limit": { type: "string", default: String(WORLD.rcptLimit) },
      domains: { type: "string" },
      zipf: { type: "string", default: String(WORLD.zipfExponent) },
      seed: { type: "string", default: String(WORLD.seed) },
      share: { type: "string", multiple: true },
      "no-mailvet": { type: "boolean" },
      "mx-concurrency": { type: "string" },
      "batch-size": { type: "string" },
      "smtp-timeout-ms": { type: "string", default: "10000" },
      "greylist-retry-s": { type: "string" },
      "mx-backoff-s": { type: "string" },
      probers: { type: "string", default: "0" },
      "job-timeout-min": { type: "string", default: "90" },
      "cancel-runs": { type: "string", default: "5" },
      "cancel-list-size": { type: "string", default: "2000" },
      "page-runs": { type: "string", default: "7" },
      "no-baseline": { type: "boolean" },
      "baseline-concurrency": { type: "string", default: "50" },
      "baseline-cap-min": { type: "string", default: "15" },
      out: { type: "string", default: "bench/results" },
      "keep-tmp": { type: "boolean" },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const num = (name: string, value: string | undefined, min = 0): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min}, got ${value}`);
    return n;
  };
  const sizes = values.quick
    ? [2000]
    : (values.sizes ?? "10000,100000").split(",").map((s) => num("sizes", s.trim(), 1));
  const connCap = num("conn-cap", values["conn-cap"], 1);
  return {
    sizes,
    smtpPort: num("smtp-port", values["smtp-port"], 1),
    world: {
      replyLatencyMs: num("reply-ms", values["reply-ms"]),
      bannerDelayMs: num("banner-ms", values["banner-ms"]),
      connCap,
      greylistSeconds: num("greylist-s", values["greylist-s"]),
      rateLimitSeconds: num("rate-limit-s", values["rate-limit-s"]),
      connRatePerSecond: num("conn-rate", values["conn-rate"], 1),
      rcptLimit: num("rcpt-limit", values["rcpt-limit"], 1),
      zipfExponent: num("zipf", values.zipf),
      seed: num("seed", values.seed),
      domains: values.domains ? num("domains", values.domains, 1) : null,
      shares: Object.fromEntries(
        (values.share ?? []).map((pair) => {
          const [name, value] = pair.split("=");
          if (!name || !(name in DEFAULT_SHARES)) throw new Error(`--share: unknown behaviour ${name}`);
          return [name, num("share", value)];
        }),
      ),
    },
    mailvet: {
      enabled: !values["no-mailvet"],
      mxConcurrency: values["mx-concurrency"] ? num("mx-concurrency", values["mx-concurrency"], 1) : connCap,
      batchSize: values["batch-size"] ? num("batch-size", values["batch-size"], 1) : null,
      smtpTimeoutMs: num("smtp-timeout-ms", values["smtp-timeout-ms"], 1),
      greylistRetrySeconds: values["greylist-retry-s"]
        ? num("greylist-retry-s", values["greylist-retry-s"])
        : null,
      mxBackoffSeconds: values["mx-backoff-s"] ? num("mx-backoff-s", values["mx-backoff-s"]) : null,
      probers: num("probers", values.probers),
      jobTimeoutMs: num("job-timeout-min", values["job-timeout-min"], 1) * 60_000,
      cancelRuns: num("cancel-runs", values["cancel-runs"]),
      cancelListSize: num("cancel-list-size", values["cancel-list-size"], 1),
      pageRuns: num("page-runs", values["page-runs"], 1),
    },
    baseline: {
      enabled: !values["no-baseline"],
      concurrency: num("baseline-concurrency", values["baseline-concurrency"], 1),
      capMs: num("baseline-cap-min", values["baseline-cap-min"], 0) * 60_000,
    },
    outDir: values.out ?? "bench/results",
    keepTmp: values["keep-tmp"] ?? false,
  };
}
