// `npm start`: applies the D1 migrations to the local database, prints the
// effective configuration (no secrets), then runs `wrangler dev`. Every extra
// argument goes to wrangler dev; those that say WHICH local database or
// configuration (--persist-to, --env, --config, --cwd, --env-file) go to the
// migration step too, so `npm start -- --persist-to DIR` migrates DIR.
//   npm start -- --port 9000 --var SMTP_MODE:off --persist-to ./state

import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { unstable_readConfig } from "wrangler";
import { describeConfig } from "../src/config-summary";

/** The flags `wrangler d1 migrations apply` shares with `wrangler dev`, each taking a value. */
const SHARED_FLAGS = new Set(["--persist-to", "--env", "-e", "--config", "-c", "--cwd", "--env-file"]);

export function migrationArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const eq = arg.indexOf("=");
    if (eq > 0 && SHARED_FLAGS.has(arg.slice(0, eq))) out.push(arg);
    else if (SHARED_FLAGS.has(arg) && i + 1 < args.length) out.push(arg, args[++i] as string);
  }
  return out;
}

/** The value of `--name value` or `--name=value` (the last one wins, as in wrangler). */
function flag(args: readonly string[], ...names: string[]): string | undefined {
  let value: string | undefined;
  args.forEach((arg, i) => {
    for (const name of names) {
      if (arg === name) value = args[i + 1];
      else if (arg.startsWith(`${name}=`)) value = arg.slice(name.length + 1);
    }
  });
  return value;
}

/** The vars wrangler dev will run with: the config's, then .dev.vars, then every --var NAME:VALUE. */
export function effectiveVars(args: readonly string[]): Record<string, string> {
  const env = flag(args, "--env", "-e");
  const cwd = flag(args, "--cwd") ?? process.cwd();
  const config = unstable_readConfig({
    config: flag(args, "--config", "-c") ?? join(cwd, "wrangler.toml"),
    env,
  });
  const vars: Record<string, string> = {};
  for (const [name, value] of Object.entries(config.vars ?? {})) vars[name] = String(value);
  for (const file of [join(cwd, env ? `.dev.vars.${env}` : ".dev.vars"), join(cwd, ".dev.vars")]) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, "utf8").split("\n")) {
      const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
      if (m) vars[m[1] as string] = (m[2] as string).replace(/^(["'])(.*)\1$/, "$2");
    }
    break;
  }
  args.forEach((arg, i) => {
    const spec = arg === "--var" ? args[i + 1] : arg.startsWith("--var=") ? arg.slice(6) : undefined;
    const colon = spec?.indexOf(":") ?? -1;
    if (spec && colon > 0) vars[spec.slice(0, colon)] = spec.slice(colon + 1);
  });
  return vars;
}

function main(): void {
  const args = process.argv.slice(2);
  const migrate = spawnSync(
    "wrangler",
    ["d1", "migrations", "apply", "DB", "--local", ...migrationArgs(args)],
    {
      stdio: "inherit",
    },
  );
  if (migrate.status !== 0) {
    console.error("npm start: applying the D1 migrations failed; wrangler dev was not started.");
    process.exit(migrate.status ?? 1);
  }
  console.log(`\n${describeConfig(effectiveVars(args)).join("\n")}\n`);
  const dev = spawn("wrangler", ["dev", ...args], { stdio: "inherit" });
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => dev.kill(signal));
  dev.on("exit", (code, signal) => process.exit(code ?? (signal ? 128 + 15 : 1)));
}

// Run as a script (npm start), not when a test imports the helpers above.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
