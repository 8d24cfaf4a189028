import { describe, expect, it } from "vitest";
import {
  commandUsage,
  DEFAULT_URL,
  inputKind,
  interpret,
  isYes,
  type ParsedArgv,
  parseAddressLines,
  parseResultClasses,
  UsageError,
  usage,
} from "../src/cli/args";
import { describeFailure, jobDetails, jobsTable, shortTime, table } from "../src/cli/format";
import {
  displayStatus,
  etaSeconds,
  fittedProgressLine,
  formatCounts,
  formatDuration,
  formatRate,
  progressLine,
  RateMeter,
  snapshot,
} from "../src/cli/progress";
import type { EmailValidation } from "../src/client/index";

const ENV = { MAILVET_API_KEY: "mv_env" };

// What node's parseArgs yields for an argv; workerd lacks parseArgs itself, so
// these tests start from its output (see `tokenize`).
function argv(positionals: string[], values: ParsedArgv["values"] = {}): ParsedArgv {
  return { positionals, values };
}

function run(parsed: ParsedArgv, env: Record<string, string | undefined> = ENV) {
  const out = interpret(parsed, env);
  if (out.kind !== "run") throw new Error(`expected a command, got help for ${parsed.positionals.join(" ")}`);
  return out;
}

function usageError(parsed: ParsedArgv, env: Record<string, string | undefined> = ENV): UsageError {
  try {
    interpret(parsed, env);
  } catch (err) {
    if (err instanceof UsageError) return err;
    throw err;
  }
  throw new Error(`expected a UsageError for ${parsed.positionals.join(" ")}`);
}

describe("interpret", () => {
  it("parses validate with its options", () => {
    const { command, connection } = run(
      argv(["validate", "list.csv"], {
        url: "https://mv.example",
        out: "out.csv",
        result: "deliverable,risky",
        label: "Q3",
      }),
    );
    expect(command).toEqual({
      name: "validate",
      input: "list.csv",
      out: "out.csv",
      result: ["deliverable", "risky"],
      format: "csv",
      label: "Q3",
    });
    expect(connection).toEqual({ baseUrl: "https://mv.example", apiKey: "mv_env" });
  });

  it("parses every id command", () => {
    expect(run(argv(["status", "abc"], { json: true })).command).toEqual({
      name: "status",
      id: "abc",
      json: true,
    });
    expect(run(argv(["cancel", "abc"])).command).toEqual({ name: "cancel", id: "abc", json: false });
    expect(run(argv(["pause", "abc"])).command).toEqual({ name: "pause", id: "abc", json: false });
    expect(run(argv(["resume", "abc"])).command).toEqual({ name: "resume", id: "abc", json: false });
    expect(run(argv(["delete", "abc"])).command).toEqual({ name: "delete", id: "abc" });
    expect(run(argv(["download", "abc"], { format: "ndjson", result: "unknown" })).command).toEqual({
      name: "download",
      id: "abc",
      out: undefined,
      result: ["unknown"],
      format: "ndjson",
    });
    expect(run(argv(["jobs"])).command).toEqual({ name: "jobs", json: false, limit: 20 });
    expect(run(argv(["jobs"], { limit: "5", json: true })).command).toEqual({
      name: "jobs",
      json: true,
      limit: 5,
    });
  });

  it("takes the connection from flags first, then the environment, then the default URL", () => {
    expect(run(argv(["jobs"]), { MAILVET_API_KEY: "k1" }).connection).toEqual({
      baseUrl: DEFAULT_URL,
      apiKey: "k1",
    });
    expect(run(argv(["jobs"]), { MAILVET_API_KEY: "k1", MAILVET_URL: "http://h:1" }).connection.baseUrl).toBe(
      "http://h:1",
    );
    expect(run(argv(["jobs"], { key: "k2", url: "http://x" }), { MAILVET_API_KEY: "k1" }).connection).toEqual(
      {
        baseUrl: "http://x",
        apiKey: "k2",
      },
    );
  });

  it("refuses to run without a key, but still shows help", () => {
    expect(usageError(argv(["jobs"]), {}).message).toMatch(/No API key.*--key.*MAILVET_API_KEY/);
    expect(interpret(argv(["jobs"], { help: true }), {})).toEqual({
      kind: "help",
      text: commandUsage("jobs"),
    });
    expect(interpret(argv([], { help: true }), {})).toEqual({ kind: "help", text: usage() });
    expect(interpret(argv(["help", "download"]), {})).toEqual({
      kind: "help",
      text: commandUsage("download"),
    });
  });

  it("explains mistakes", () => {
    expect(usageError(argv([])).message).toBe("Missing command.");
    expect(usageError(argv(["frobnicate"])).message).toBe("Unknown command 'frobnicate'.");
    expect(usageError(argv(["status"])).message).toBe("'status' needs <id>.");
    expect(usageError(argv(["status", "a", "b"])).message).toBe("Unexpected argument 'b'.");
    expect(usageError(argv(["status", "a"], { out: "f" })).message).toBe(
      "'--out' is not an option of 'status'.",
    );
    expect(usageError(argv(["download", "a"], { format: "xml" })).message).toMatch(/csv or ndjson/);
    expect(usageError(argv(["download", "a"], { result: "good" })).message).toMatch(
      /Unknown result class 'good'/,
    );
    expect(usageError(argv(["jobs"], { limit: "0" })).message).toMatch(/--limit/);
    expect(usageError(argv(["jobs"], { url: "localhost:8787" })).message).toMatch(/http:\/\//);
  });

  it("documents every command in the usage text", () => {
    for (const name of ["validate", "jobs", "status", "cancel", "pause", "resume", "download", "delete"]) {
      expect(usage()).toContain(`  ${name}`);
    }
    expect(commandUsage("validate")).toContain("--result <classes>");
    expect(commandUsage("delete")).not.toContain("--json");
  });
});

describe("small parsers", () => {
  it("reads result classes, case-insensitively and once each", () => {
    expect(parseResultClasses(undefined)).toBeUndefined();
    expect(parseResultClasses("")).toBeUndefined();
    expect(parseResultClasses("Risky, deliverable,risky")).toEqual(["risky", "deliverable"]);
  });

  it("tells lists to send as JSON from files to upload", () => {
    expect(inputKind("-")).toBe("stdin");
    expect(inputKind("list.TXT")).toBe("text");
    expect(inputKind("list.csv")).toBe("file");
    expect(inputKind("list.xlsx")).toBe("file");
  });

  it("reads one address per line, skipping blanks and comments", () => {
    expect(parseAddressLines("\uFEFFa@x.test\r\n\n  b@x.test  \n# note\nc@x.test")).toEqual([
      "a@x.test",
      "b@x.test",
      "c@x.test",
    ]);
  });

  it("only takes y or yes as yes", () => {
    expect([isYes("y"), isYes("YES"), isYes(" y ")]).toEqual([true, true, true]);
    expect([isYes(""), isYes("n"), isYes("yep"), isYes(null)]).toEqual([false, false, false, false]);
  });
});

describe("rate and ETA", () => {
  it("measures results per second over a sliding window", () => {
    const meter = new RateMeter(10_000);
    expect(meter.perSecond()).toBeNull();
    meter.add(0, 0);
    expect(meter.perSecond()).toBeNull();
    meter.add(2_000, 20);
    expect(meter.perSecond()).toBe(10);
    // A slow start falls out of the window: only the last 10 s count.
    meter.add(12_000, 220);
    meter.add(14_000, 260);
    expect(meter.perSecond()).toBe(20);
  });

  it("starts over when the count goes backwards", () => {
    const meter = new RateMeter();
    meter.add(0, 50);
    meter.add(1_000, 60);
    meter.add(2_000, 5);
    expect(meter.perSecond()).toBeNull();
  });

  it("estimates the time left", () => {
    expect(etaSeconds(100, 10)).toBe(10);
    expect(etaSeconds(0, null)).toBe(0);
    expect(etaSeconds(100, null)).toBeNull();
    expect(etaSeconds(100, 0)).toBeNull();
  });

  it("formats durations and rates compactly", () => {
    expect(formatDuration(null)).toBe("--");
    expect(formatDuration(0)).toBe("0s");
    expect(formatDuration(41.2)).toBe("42s");
    expect(formatDuration(65)).toBe("1m 05s");
    expect(formatDuration(3 * 3600 + 7 * 60 + 9)).toBe("3h 07m");
    expect(formatRate(null)).toBe("--/s");
    expect(formatRate(2.345)).toBe("2.3/s");
    expect(formatRate(123.6)).toBe("124/s");
  });
});

const counts = { processed: 40, deliverable: 30, undeliverable: 6, risky: 3, unknown: 1 };

function job(extra: Partial<EmailValidation> = {}): EmailValidation {
  return {
    id: "0190aaaa-0000-7000-8000-000000000001",
    object: "email_validation",
    status: "processing",
    results: [],
    _links: { self: { href: "/email-validations/0190aaaa-0000-7000-8000-000000000001" } },
    total: 100,
    counts,
    paused: false,
    label: "Q3",
    created_at: "2026-01-31T12:34:56.789Z",
    started_at: "2026-01-31T12:35:00.000Z",
    finished_at: null,
    ...extra,
  };
}

describe("the progress line on a terminal", () => {
  const big = { processed: 48_210, deliverable: 31_004, risky: 9_872, undeliverable: 6_311, unknown: 1_023 };
  const s = snapshot(job({ counts: big, total: 100_000 }), 1234);

  it.each([20, 40, 60, 79, 80, 100, 132, 200])("is never wider than %i columns", (columns) => {
    expect(fittedProgressLine(s, big, columns).length).toBeLessThanOrEqual(columns);
  });

  it("keeps a bar, the counts and the ETA in 80 columns, and every word where there is room", () => {
    expect(fittedProgressLine(s, big, 80)).toBe(
      "processing 48% 48210/100000 | ok 31004 risky 9872 bad 6311 unk 1023 | ETA 42s",
    );
    expect(fittedProgressLine(s, big, 60)).toMatch(
      /^processing [\u2588\u2591]{8,24} 48% 48210\/100000 \| ETA 42s$/,
    );
    expect(fittedProgressLine(s, big, 160)).toMatch(
      new RegExp(
        `^processing [\u2588\u2591]{24} 48% 48210/100000 \\| ${formatCounts(big)} \\| 1234/s \\| ETA 42s$`,
      ),
    );
    expect(fittedProgressLine(s, big, 30)).toBe("processing 48% 48210/100000");
  });
});

describe("progress text", () => {
  it("shows counts by class, rate and ETA of a running job", () => {
    expect(formatCounts(counts)).toBe("deliverable 30 · risky 3 · undeliverable 6 · unknown 1");
    const s = snapshot(job(), 12);
    expect(s).toEqual({
      status: "processing",
      processed: 40,
      total: 100,
      percent: 40,
      counts: formatCounts(counts),
      rate: "12/s",
      eta: "5s",
    });
    expect(progressLine(s)).toBe(`processing 40/100 (40%) | ${formatCounts(counts)} | 12/s | ETA 5s`);
  });

  it("gives no rate or ETA while a job is queued or paused", () => {
    expect(snapshot(job({ status: "queued" }), 12)).toMatchObject({
      status: "queued",
      rate: "--/s",
      eta: "--",
    });
    expect(snapshot(job({ paused: true }), 12)).toMatchObject({ status: "paused", rate: "--/s", eta: "--" });
    expect(displayStatus({ status: "processing", paused: true })).toBe("paused");
  });

  it("copes with a job polled without details", () => {
    expect(snapshot(job({ total: undefined, counts: undefined }), null)).toMatchObject({
      processed: 0,
      total: 0,
      percent: 0,
    });
  });
});

describe("tables", () => {
  it("aligns columns", () => {
    expect(
      table(
        ["A", "BB"],
        [
          ["xxx", "y"],
          ["z", ""],
        ],
      ),
    ).toBe("A    BB\nxxx  y\nz");
  });

  it("lists jobs", () => {
    const text = jobsTable([
      job(),
      job({ id: "j2", status: "completed", label: null, counts: { ...counts, processed: 100 } }),
    ]);
    expect(text.split("\n")).toEqual([
      "ID                                    STATUS      PROCESSED  CREATED              LABEL",
      "0190aaaa-0000-7000-8000-000000000001  processing  40/100     2026-01-31 12:34:56  Q3",
      "j2                                    completed   100/100    2026-01-31 12:34:56",
    ]);
    expect(jobsTable([])).toBe("No jobs.");
  });

  it("describes one job", () => {
    const text = jobDetails(
      job({ _errors: [{ code: "internal_error", title: "Internal Error", detail: "boom" }] }),
    );
    expect(text).toContain("status:    processing");
    expect(text).toContain("processed: 40/100");
    expect(text).toContain("finished:  -");
    expect(text).toContain("error:     internal_error: boom");
    expect(shortTime(null)).toBe("-");
  });

  it("says why a request failed", () => {
    const refused = Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } });
    expect(describeFailure(refused, "http://localhost:8787")).toMatch(
      /cannot reach http:\/\/localhost:8787 \(ECONNREFUSED\)/,
    );
    expect(describeFailure(new Error("ENOENT: no such file"), "x")).toBe("ENOENT: no such file");
  });
});
