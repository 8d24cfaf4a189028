// The baseline as a Node user runs it: deep-email-validator's validate() on
// every address, 50 calls in flight, SMTP on port 25, the resolver pointed at
// the world's DNS. Runs as a child process so the harness can cap its time.
// Writes one JSON line per address: the tool's raw output, unmapped.
//
//   tsx bench/baseline/worker.ts --list <file> --dns 127.0.0.1:<port> --out <file> [--concurrency 50]

import { createWriteStream, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { routeLookupsToWorld } from "./world-lookups";

const { values } = parseArgs({
  options: {
    list: { type: "string" },
    dns: { type: "string" },
    out: { type: "string" },
    concurrency: { type: "string", default: "50" },
    sender: { type: "string", default: "probe@verify.mailvet.dev" },
  },
});
if (!values.list || !values.dns || !values.out) throw new Error("--list, --dns and --out are required");

// Before the library resolves anything.
routeLookupsToWorld(values.dns);
const { validate } = await import("deep-email-validator");

// validate() has its own 10 s socket timeout; this only stops a call that hangs past any reason.
const CALL_DEADLINE_MS = 120_000;

const emails = readFileSync(values.list, "utf8").split("\n").filter(Boolean);
const out = createWriteStream(values.out);
const started = Date.now();
let next = 0;
let done = 0;

const progress = setInterval(() => console.log(`progress ${done}/${emails.length}`), 5000);

async function one(email: string): Promise<void> {
  const t0 = Date.now();
  let line: Record<string, unknown>;
  try {
    const result = await Promise.race([
      validate({ email, sender: values.sender, validateTypo: false, validateSMTP: true }),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error("call deadline")), CALL_DEADLINE_MS).unref(),
      ),
    ]);
    const failed = result.reason as keyof typeof result.validators | undefined;
    line = {
      email,
      valid: result.valid,
      reason: failed ?? null,
      detail: failed ? result.validators[failed]?.reason : null,
    };
  } catch (err) {
    line = { email, valid: false, reason: "harness", detail: String(err) };
  }
  line.ms = Date.now() - t0;
  out.write(`${JSON.stringify(line)}\n`);
  done++;
}

const concurrency = Math.max(1, Number(values.concurrency));
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < emails.length) await one(emails[next++] as string);
  }),
);
clearInterval(progress);
await new Promise<void>((resolve) => out.end(resolve));
console.log(`done ${done} ${Date.now() - started}`);
