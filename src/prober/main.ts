// Runs the prober from the environment:
//   PROBER_SECRET=... SMTP_HELO_NAME=... SMTP_MAIL_FROM=... tsx src/prober/main.ts
// The HELO name should be the probing host's PTR name, and the MAIL FROM
// address on a domain the operator owns: receivers judge both.

import { startProber } from "./server";

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is required`);
    process.exit(1);
  }
  return value;
}

function positiveInt(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    console.error(`${name} must be an integer of at least ${min}, got ${JSON.stringify(raw)}`);
    process.exit(1);
  }
  return n;
}

const prober = await startProber({
  // 0: any free port (the log line says which).
  port: positiveInt("PORT", 8025, 0),
  host: process.env.HOST || "127.0.0.1",
  secret: required("PROBER_SECRET"),
  mxConcurrency: positiveInt("MX_CONCURRENCY", 4),
  sourceAddress: process.env.SMTP_SOURCE_ADDRESS || undefined,
  smtp: {
    port: positiveInt("SMTP_PORT", 25),
    heloName: required("SMTP_HELO_NAME"),
    mailFrom: required("SMTP_MAIL_FROM"),
    connectTimeoutMs: positiveInt("SMTP_CONNECT_TIMEOUT_MS", 10_000),
    replyTimeoutMs: positiveInt("SMTP_REPLY_TIMEOUT_MS", 30_000),
  },
});
console.log(JSON.stringify({ msg: "prober listening", port: prober.port }));

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    prober.close().then(() => process.exit(0));
  });
}
