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
      globalSetup: ["./test/global-setup.ts"],
      setupFiles: ["./test/apply-migrations.ts", "./test/platform-limits-setup.ts"],
      testTimeout: 60_000,
      silent: "passed-only" as const,
      hookTimeout: 60_000,
    },
  };
}

type Inject = <K extends "dohPort" | "smtpPort" | "smtpStatsPort" | "proberPort">(key: K) => number;

export default defineConfig({
  test: {
    projects: [
      workerProject("worker", ["test/**/*.test.ts"], ["test/relay/**", "test/browser/**"], () => ({})),
      workerProject("relay", ["test/relay/**/*.test.ts"], [], (inject) => ({
        SMTP_MODE: "relay",
        PROBER_URL: `http://127.0.0.1:${inject("proberPort")}`,
        PROBER_SECRET: "test-prober-secret",
      })),
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
