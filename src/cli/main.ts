import { createWriteStream } from "node:fs";
import { readFile, rename, rm } from "node:fs/promises";
import { basename } from "node:path";
import { createInterface } from "node:readline";
import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { type EmailValidation, MailvetClient } from "../client/index";
import { type Command, inputKind, isYes, parseAddressLines, parseCli, UsageError } from "./args";
import { describeFailure, jobDetails, jobsTable } from "./format";
import { ProgressView } from "./progress";

// The `mailvet` command: parses the invocation, runs one command against the
// API, and maps the outcome to an exit code. The logic lives in args.ts,
// progress.ts and format.ts; this file does the I/O.

export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;

const INTERRUPTED = Symbol("interrupted");

export async function main(argv: string[] = process.argv.slice(2), env = process.env): Promise<number> {
  let invocation: ReturnType<typeof parseCli>;
  try {
    invocation = parseCli(argv, env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`mailvet: ${err.message}\n${err.help ? `\n${err.help}\n` : ""}`);
    return EXIT.usage;
  }
  if (invocation.kind === "help") {
    process.stdout.write(`${invocation.text}\n`);
    return EXIT.ok;
  }
  const client = new MailvetClient(invocation.connection);
  try {
    return await run(client, invocation.command);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`mailvet: ${err.message}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`mailvet: ${describeFailure(err, invocation.connection.baseUrl)}\n`);
    return EXIT.failure;
  }
}

async function run(client: MailvetClient, command: Command): Promise<number> {
  switch (command.name) {
    case "validate":
      return validate(client, command);
    case "jobs": {
      const jobs: EmailValidation[] = [];
      for await (const job of client.listJobs({ details: true, pageSize: Math.min(command.limit, 100) })) {
        jobs.push(job);
        if (jobs.length >= command.limit) break;
      }
      print(command.json ? JSON.stringify(jobs, null, 2) : jobsTable(jobs));
      return EXIT.ok;
    }
    case "status": {
      const job = await client.getJob(command.id, { details: true, pageSize: 1 });
      printJob(job, command.json);
      return EXIT.ok;
    }
    case "cancel":
    case "pause":
    case "resume":
      printJob(await client[command.name](command.id), command.json);
      return EXIT.ok;
    case "delete":
      await client.deleteJob(command.id);
      print(`Deleted job ${command.id}.`);
      return EXIT.ok;
    case "download":
      await writeOutput(
        await client.download(command.id, { result: command.result, format: command.format }),
        command.out,
      );
      if (command.out) note(`Results written to ${command.out}.`);
      return EXIT.ok;
  }
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** Messages about the run go to stderr, so stdout stays clean for results. */
function note(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** A job without its results page: `status` is about the job, `download` is for results. */
function printJob(job: EmailValidation, json: boolean): void {
  const { results: _results, ...rest } = job;
  print(json ? JSON.stringify(rest, null, 2) : jobDetails(job));
}

// ── validate ────────────────────────────────────────────────────────────

type ValidateCommand = Extract<Command, { name: "validate" }>;

async function validate(client: MailvetClient, command: ValidateCommand): Promise<number> {
  const job = await startJob(client, command);
  note(`Started job ${job.id}.`);
  // Prompting needs a terminal on both ends, and stdin must not be the list itself.
  const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY) && command.input !== "-";
  const final = await waitWithProgress(client, job.id, interactive);
  if (final === INTERRUPTED) {
    await savePartialResults(client, job.id, command);
    return EXIT.interrupted;
  }
  if (final.status !== "completed") {
    const why = (final._errors ?? []).map((e) => `: ${e.detail}`).join("");
    note(`Job ${final.id} ended ${final.status}${why}`);
    return EXIT.failure;
  }
  const stream = await client.download(job.id, { result: command.result, format: command.format });
  await writeOutput(stream, command.out);
  if (command.out) note(`Results written to ${command.out}.`);
  return EXIT.ok;
}

/** After Ctrl-C: what the job has answered so far goes to --out, and the user is told where. */
async function savePartialResults(
  client: MailvetClient,
  id: string,
  command: ValidateCommand,
): Promise<void> {
  if (!command.out) {
    note(`Results so far: mailvet download ${id}`);
    return;
  }
  const job = await client.getJob(id, { details: true, pageSize: 1 });
  const stream = await client.download(id, { result: command.result, format: command.format });
  await writeOutput(stream, command.out);
  note(
    `Partial results (${job.counts?.processed ?? 0} of ${job.total ?? "?"} addresses answered) written to ${command.out}.`,
  );
}

async function startJob(client: MailvetClient, command: ValidateCommand): Promise<EmailValidation> {
  const kind = inputKind(command.input);
  if (kind === "file") {
    const bytes = new Uint8Array(await readFile(command.input));
    return client.uploadFile(bytes, basename(command.input), { label: command.label });
  }
  const text = kind === "stdin" ? await readStdin() : await readFile(command.input, "utf8");
  const emails = parseAddressLines(text);
  if (!emails.length) throw new UsageError(`No addresses in ${kind === "stdin" ? "stdin" : command.input}.`);
  return client.createJob(emails, { label: command.label });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Waits for the job with a progress display. Ctrl-C stops waiting: on a
 * terminal it offers to cancel the job, elsewhere it says how to, since the
 * job keeps running on the server either way.
 */
async function waitWithProgress(
  client: MailvetClient,
  id: string,
  interactive: boolean,
): Promise<EmailValidation | typeof INTERRUPTED> {
  const view = new ProgressView(process.stderr);
  const howToCancel = `Job ${id} keeps running on the server; cancel it with: mailvet cancel ${id}`;
  for (;;) {
    const stop = new AbortController();
    const onSigint = () => stop.abort();
    process.on("SIGINT", onSigint);
    try {
      return await client.waitForJob(id, { signal: stop.signal, onProgress: (job) => view.update(job) });
    } catch (err) {
      if (!stop.signal.aborted) throw err;
    } finally {
      process.off("SIGINT", onSigint);
      view.stop();
    }
    if (!interactive) {
      note(`\nInterrupted. ${howToCancel}`);
      return INTERRUPTED;
    }
    const answer = await ask("\nCancel the job on the server? [y/N] ");
    if (answer === null) {
      note(`\n${howToCancel}`);
      return INTERRUPTED;
    }
    if (isYes(answer)) {
      const canceled = await client.cancel(id);
      note(
        `Canceled job ${id} after ${canceled.counts?.processed ?? 0} of ${canceled.total ?? "?"} addresses.`,
      );
      return INTERRUPTED;
    }
    note("Still waiting (Ctrl-C to stop).");
  }
}

/** One line from the terminal; null when the user presses Ctrl-C or Ctrl-D instead. */
function ask(question: string): Promise<string | null> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  return new Promise<string | null>((resolve) => {
    rl.once("SIGINT", () => resolve(null));
    rl.once("close", () => resolve(null));
    rl.question(question, resolve);
  }).finally(() => rl.close());
}

// ── output ──────────────────────────────────────────────────────────────

/** Streams a download to a file (through a .part file, so a failure leaves no half file) or stdout. */
async function writeOutput(body: ReadableStream<Uint8Array>, out: string | undefined): Promise<void> {
  const source = Readable.fromWeb(body as unknown as NodeReadableStream<Uint8Array>);
  if (!out) {
    await pipeline(source, process.stdout as Writable, { end: false }).catch((err: NodeJS.ErrnoException) => {
      // A reader such as `head` closing the pipe early is not a failure.
      if (err.code !== "EPIPE") throw err;
    });
    return;
  }
  const partial = `${out}.part`;
  try {
    await pipeline(source, createWriteStream(partial));
    await rename(partial, out);
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
}
