import { parseArgs } from "node:util";
import { type DownloadFormat, RESULT_CLASSES, type ResultClass } from "../client/index";

// Turns argv and the environment into one typed invocation, or a usage error.
// Pure: no I/O, so every rule here is unit-tested.

export const DEFAULT_URL = "http://localhost:8787";
export const DEFAULT_JOBS_LIMIT = 20;

/** A mistake in the command line: the CLI prints it and exits 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly help?: string,
  ) {
    super(message);
    this.name = "UsageError";
  }
}

export type Command =
  | {
      name: "validate";
      input: string;
      out?: string;
      result?: ResultClass[];
      format: DownloadFormat;
      label?: string;
    }
  | { name: "jobs"; json: boolean; limit: number }
  | { name: "status"; id: string; json: boolean }
  | { name: "cancel" | "pause" | "resume"; id: string; json: boolean }
  | { name: "delete"; id: string }
  | { name: "download"; id: string; out?: string; result?: ResultClass[]; format: DownloadFormat };

export type CommandName = Command["name"];

export interface Connection {
  baseUrl: string;
  apiKey: string;
}

export type Invocation =
  | { kind: "help"; text: string }
  | { kind: "run"; command: Command; connection: Connection };

const OPTIONS = {
  help: { type: "boolean", short: "h" },
  url: { type: "string" },
  key: { type: "string" },
  json: { type: "boolean" },
  out: { type: "string", short: "o" },
  result: { type: "string" },
  format: { type: "string" },
  label: { type: "string" },
  limit: { type: "string" },
} as const;

type OptionName = keyof typeof OPTIONS;

const CONNECTION_OPTIONS: OptionName[] = ["help", "url", "key"];

interface CommandSpec {
  args: string;
  summary: string;
  options: OptionName[];
  details: string[];
}

const COMMANDS: Record<CommandName, CommandSpec> = {
  validate: {
    args: "<file.csv|file.xlsx|file.txt|->",
    summary: "Upload a list, show progress, then write the results",
    options: ["out", "result", "format", "label"],
    details: [
      "CSV and XLSX files are uploaded as they are; a .txt file, or - for stdin,",
      "is read as one address per line. Ctrl-C while waiting offers to cancel the job.",
    ],
  },
  jobs: { args: "", summary: "List your jobs, newest first", options: ["json", "limit"], details: [] },
  status: { args: "<id>", summary: "Show a job's status and counts", options: ["json"], details: [] },
  cancel: { args: "<id>", summary: "Cancel a job (results so far are kept)", options: ["json"], details: [] },
  pause: { args: "<id>", summary: "Pause a job", options: ["json"], details: [] },
  resume: { args: "<id>", summary: "Resume a paused job", options: ["json"], details: [] },
  download: {
    args: "<id>",
    summary: "Write a job's results",
    options: ["out", "result", "format"],
    details: [],
  },
  delete: { args: "<id>", summary: "Delete a job and its results", options: [], details: [] },
};

const OPTION_HELP: Record<OptionName, string> = {
  help: "-h, --help              Show help",
  url: `--url <url>             Service URL (env MAILVET_URL, default ${DEFAULT_URL})`,
  key: "--key <key>             API key (env MAILVET_API_KEY)",
  json: "--json                  Print JSON instead of a table",
  out: "-o, --out <file>        Write results to a file instead of stdout",
  result: `--result <classes>      Only these results, comma-separated: ${RESULT_CLASSES.join(",")}`,
  format: "--format <csv|ndjson>   Results format (default csv)",
  label: "--label <text>          A label for the job",
  limit: `--limit <n>             Show at most n jobs (default ${DEFAULT_JOBS_LIMIT})`,
};

export function usage(): string {
  const width = Math.max(
    ...Object.keys(COMMANDS).map((name) => `${name} ${COMMANDS[name as CommandName].args}`.length),
  );
  const lines = Object.entries(COMMANDS).map(
    ([name, spec]) => `  ${`${name} ${spec.args}`.trimEnd().padEnd(width)}  ${spec.summary}`,
  );
  return [
    "Usage: mailvet <command> [options]",
    "",
    "Commands:",
    ...lines,
    "",
    "Options for every command:",
    ...CONNECTION_OPTIONS.map((o) => `  ${OPTION_HELP[o]}`),
    "",
    "Run 'mailvet <command> --help' for a command's options.",
  ].join("\n");
}

export function commandUsage(name: CommandName): string {
  const spec = COMMANDS[name];
  return [
    `${`Usage: mailvet ${name} ${spec.args}`.trimEnd()}${spec.options.length ? " [options]" : ""}`,
    "",
    `${spec.summary}.`,
    ...(spec.details.length ? ["", ...spec.details] : []),
    "",
    "Options:",
    ...[...spec.options, ...CONNECTION_OPTIONS].map((o) => `  ${OPTION_HELP[o]}`),
  ].join("\n");
}

function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

/** What node's parseArgs makes of argv: option values by name, and the rest. */
export interface ParsedArgv {
  values: { [K in OptionName]?: (typeof OPTIONS)[K]["type"] extends "boolean" ? boolean : string };
  positionals: string[];
}

/**
 * Splits argv with node's parseArgs. Kept apart from `interpret` because
 * workerd, where the tests run, does not implement parseArgs.
 */
export function tokenize(argv: string[]): ParsedArgv {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });
    return { values, positionals };
  } catch (err) {
    // node's messages are already clear ("Unknown option '--x'", "Option '--out <value>' argument missing").
    throw new UsageError((err as Error).message, usage());
  }
}

export function parseCli(argv: string[], env: Record<string, string | undefined>): Invocation {
  return interpret(tokenize(argv), env);
}

/** The rules of the command line: which command, its arguments and options, and the connection. */
export function interpret(
  { values, positionals }: ParsedArgv,
  env: Record<string, string | undefined>,
): Invocation {
  const [first, ...rest] = positionals;

  if (first === "help") {
    const topic = rest[0];
    return { kind: "help", text: topic && isCommandName(topic) ? commandUsage(topic) : usage() };
  }
  if (first === undefined) {
    if (values.help) return { kind: "help", text: usage() };
    throw new UsageError("Missing command.", usage());
  }
  if (!isCommandName(first)) throw new UsageError(`Unknown command '${first}'.`, usage());
  if (values.help) return { kind: "help", text: commandUsage(first) };

  const allowed = new Set<string>([...COMMANDS[first].options, ...CONNECTION_OPTIONS]);
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined && !allowed.has(name)) {
      throw new UsageError(`'--${name}' is not an option of '${first}'.`, commandUsage(first));
    }
  }

  const command = buildCommand(first, rest, values);
  return { kind: "run", command, connection: resolveConnection(values, env) };
}

function buildCommand(name: CommandName, args: string[], values: ParsedArgv["values"]): Command {
  const json = values.json ?? false;
  if (name === "jobs") {
    expectArgs(name, args, 0);
    return { name, json, limit: parseLimit(values.limit) };
  }
  const arg = expectArgs(name, args, 1)[0]!;
  switch (name) {
    case "validate":
      return {
        name,
        input: arg,
        out: values.out,
        result: parseResultClasses(values.result),
        format: parseFormat(values.format),
        label: values.label,
      };
    case "download":
      return {
        name,
        id: arg,
        out: values.out,
        result: parseResultClasses(values.result),
        format: parseFormat(values.format),
      };
    case "delete":
      return { name, id: arg };
    case "status":
    case "cancel":
    case "pause":
    case "resume":
      return { name, id: arg, json };
  }
}

function expectArgs(name: CommandName, args: string[], count: number): string[] {
  if (args.length < count)
    throw new UsageError(`'${name}' needs ${COMMANDS[name].args}.`, commandUsage(name));
  if (args.length > count) throw new UsageError(`Unexpected argument '${args[count]}'.`, commandUsage(name));
  return args;
}

/** `deliverable,risky` → the classes, each checked; empty means all. */
export function parseResultClasses(value: string | undefined): ResultClass[] | undefined {
  if (value === undefined) return undefined;
  const classes = value
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const unknown = classes.filter((c) => !(RESULT_CLASSES as readonly string[]).includes(c));
  if (unknown.length) {
    throw new UsageError(`Unknown result class '${unknown.join(", ")}': use ${RESULT_CLASSES.join(", ")}.`);
  }
  return classes.length ? [...new Set(classes as ResultClass[])] : undefined;
}

export function parseFormat(value: string | undefined): DownloadFormat {
  if (value === undefined) return "csv";
  if (value === "csv" || value === "ndjson") return value;
  throw new UsageError(`Unknown format '${value}': use csv or ndjson.`);
}

function parseLimit(value: string | undefined): number {
  if (value === undefined) return DEFAULT_JOBS_LIMIT;
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new UsageError("--limit must be a whole number, 1 or more.");
  return Number(value);
}

/** Flags win over the environment; a key is required, a URL has a default. */
export function resolveConnection(
  values: { url?: string; key?: string },
  env: Record<string, string | undefined>,
): Connection {
  const baseUrl = values.url || env.MAILVET_URL || DEFAULT_URL;
  if (!/^https?:\/\/[^/]/i.test(baseUrl))
    throw new UsageError(`The URL '${baseUrl}' must start with http:// or https://.`);
  const apiKey = values.key || env.MAILVET_API_KEY;
  if (!apiKey) throw new UsageError("No API key: pass --key <key> or set MAILVET_API_KEY.");
  return { baseUrl, apiKey };
}

export type InputKind = "stdin" | "text" | "file";

/** `-` is stdin and `.txt` a plain list, both sent as JSON; anything else is uploaded for the server to read. */
export function inputKind(path: string): InputKind {
  if (path === "-") return "stdin";
  return /\.txt$/i.test(path) ? "text" : "file";
}

/** One address per line; blank lines and `#` comments are skipped. */
export function parseAddressLines(text: string): string[] {
  return text
    .replace(/^\uFEFF/, "")
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"));
}

/** A y/yes answer (any case) means yes; anything else, including nothing, means no. */
export function isYes(answer: string | null | undefined): boolean {
  return /^\s*y(es)?\s*$/i.test(answer ?? "");
}
