import { readConfig, readHostConfig, readProberConfig, readSmtpConfig } from "./config";

// The effective configuration in a few lines, for `npm start` to print before
// wrangler dev starts: which SMTP mode, resolver and prober are in use, and the
// limits. Secrets are named, never shown: only whether they are set.

const SECRETS = ["ADMIN_TOKEN", "PROBER_SECRET"] as const;

export function describeConfig(vars: Record<string, string | undefined>): string[] {
  const env = vars as unknown as Env;
  const cfg = readConfig(env);
  const smtp = readSmtpConfig(env);
  const host = readHostConfig(env);
  const probers = readProberConfig(env);
  const pool =
    probers.urls.length === 0
      ? "(PROBER_URLS / PROBER_URL not set)"
      : probers.urls.length === 1
        ? `the prober at ${probers.urls[0]}`
        : `a pool of ${probers.urls.length} probers (${probers.urls.join(", ")}), each mail host sticky to one; a failed one rests ${probers.downMs / 1000} s`;
  const smtpLine = {
    direct: `direct: sockets from this process to port ${smtp.port} of each mail host (needs outbound port 25), EHLO ${smtp.heloName}, MAIL FROM ${smtp.mailFrom}`,
    relay: `relay: through ${pool}`,
    off: "off: DNS-level verdicts only (reason smtp_not_checked)",
  }[cfg.smtpMode];
  const resolved = cfg.resolveReserved.length ? cfg.resolveReserved.map((n) => `.${n}`).join(", ") : "none";
  const mib = (bytes: number) => `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB`;
  return [
    "mailvet configuration (wrangler.toml vars, .dev.vars and --var):",
    `  SMTP_MODE  ${smtpLine}`,
    `  resolver   ${cfg.dohUrl}, ${cfg.dnsTimeoutMs} ms per query; while unreachable, addresses wait up to ${cfg.dnsRetryDeadlineMs / 1000} s (then dns_unavailable)`,
    `  reserved   example.com/.net/.org, .example, .test, .invalid, .localhost answered reserved_domain without DNS; resolved anyway: ${resolved}`,
    `  limits     ${mib(cfg.maxBodyBytes)} per request, ${cfg.rateLimitPerMinute} requests/min per key, ${cfg.maxRunningJobs} running jobs per account, batches of ${cfg.batchSize}, ${host.concurrency} sessions per mail host`,
    `  timeouts   SMTP connect ${smtp.connectTimeoutMs} ms, reply ${smtp.replyTimeoutMs} ms; greylisted addresses retried for ${cfg.greylistDeadlineMs / 1000} s`,
    `  webhooks   ${cfg.webhookAllowLoopback ? "http and loopback receivers allowed" : "public https only"}, ${cfg.webhookTimeoutMs} ms per attempt`,
    `  secrets    ${SECRETS.map((name) => `${name} ${vars[name] ? "set" : "not set"}`).join(", ")} (values never shown)`,
  ];
}
