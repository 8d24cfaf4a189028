import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Every test runs inside workerd against the local mail world that
// test/global-setup.ts starts in Node (DoH server, SMTP servers, prober).
// Two projects share it: "worker" probes SMTP directly over cloudflare:sockets,
// "relay" goes through the prober over HTTP, as production does.
function workerProject(
  name: string,
  include: string[],
  exclude: string[],
  extra: (inject: Inject) => Record<string, string>,
  globalSetup = "./test/global-setup.ts",
  testOptions: { fileParallelism?: boolean } = {},
) {
  return {
    plugins: [
      cloudflareTest(async ({ inject }) => ({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: await readD1Migrations("./migrations"),
            DOH_URL: `http://127.0.0.1:${inject("dohPort")}/dns-query`,
            SMTP_PORT: String(inject("smtpPort")),
            SMTP_CONNECT_TIMEOUT_MS: "1000",
            SMTP_REPLY_TIMEOUT_MS: "1500",
            DNS_TIMEOUT_MS: "2000",
            DNS_RETRY_DEADLINE_SECONDS: "4",
            // The fixture zone's domains end in .test (RFC 6761's name for testing).
            RESOLVE_RESERVED: "test",
            MAX_BODY_BYTES: "4194304",
            // The limit of the RATE_LIMITER binding in wrangler.toml, which tests cannot change.
            RATE_LIMIT_PER_MINUTE: "600",
            ALLOW_FAULT_INJECTION: "true",
            BATCH_RETRY_BASE_MS: "50",
            WEBHOOK_TIMEOUT_MS: "1000",
            MX_BACKOFF_SECONDS: "1",
            GREYLIST_DELAY_SECONDS: "1",
            GREYLIST_DEADLINE_SECONDS: "8",
            ...extra(inject),
          },
        },
      })),
    ],
    test: {
      name,
      include,
      exclude,
      globalSetup: [globalSetup],
      setupFiles: ["./test/apply-migrations.ts", "./test/platform-limits-setup.ts"],
      testTimeout: 60_000,
      hookTimeout: 60_000,
      ...testOptions,
    },
  };
}

type Inject = {
  <K extends "dohPort" | "smtpPort" | "smtpStatsPort" | "proberControlPort" | "realSmtpPort">(key: K): number;
  (key: "proberPorts" | "realDohUrl"): string;
};

export default defineConfig({
  test: {
    // Console output (the worker's request log, mostly) is shown for failing
    // tests only. The reporter reads this from the root config, not a project's.
    silent: "passed-only",
    projects: [
      workerProject(
        "worker",
        ["test/**/*.test.ts"],
        ["test/relay/**", "test/browser/**", "test/real/**", "test/stack/**", "test/node/**"],
        () => ({}),
      ),
      // Two probers as a pool. Its files run one at a time: one of them kills a prober mid-job.
      workerProject(
        "relay",
        ["test/relay/**/*.test.ts"],
        [],
        (inject) => {
          const urls = inject("proberPorts")
            .split(",")
            .map((port) => `http://127.0.0.1:${port}`);
          return {
            SMTP_MODE: "relay",
            PROBER_URLS: urls.join(","),
            PROBER_URL: urls[0]!,
            PROBER_SECRET: "test-prober-secret",
            PROBER_DOWN_SECONDS: "2",
          };
        },
        undefined,
        { fileParallelism: false },
      ),
      // Real mail software (Postfix, postgrey, NSD, dnsdist) started by its own
      // set-up; skips itself with one line where the packages are missing.
      workerProject(
        "real",
        ["test/real/**/*.test.ts"],
        [],
        (inject) => ({
          DOH_URL: String(inject("realDohUrl")),
          SMTP_PORT: String(inject("realSmtpPort")),
          // Postfix opens its queue file at the first accepted RCPT, which can take a second.
          SMTP_REPLY_TIMEOUT_MS: "3000",
          // Production's back-off: a host backed off by mistake would miss the job's deadline.
          MX_BACKOFF_SECONDS: "60",
        }),
        "./test/real/global-setup.ts",
      ),
      // From Node, against one `wrangler dev` over the fixture mail world: what a
      // user's tools and the README's commands do with the running service.
      {
        test: {
          name: "stack",
          include: ["test/stack/**/*.test.ts"],
          environment: "node",
          globalSetup: ["./test/stack/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
      // In Node: the prober's HTTP service and metrics, its container, the production build.
      {
        test: {
          name: "node",
          include: ["test/node/**/*.test.ts"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 60_000,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
      // Real headless Chromium against `wrangler dev`, from Node; skips itself without Chromium.
      {
        test: {
          name: "browser",
          include: ["test/browser/**/*.test.ts"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
          // A group of its own: groups run one after another, so wrangler dev and
          // Chromium never compete with the workerd projects for the cores.
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
