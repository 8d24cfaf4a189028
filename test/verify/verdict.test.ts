import { describe, expect, it } from "vitest";
import type {
  CheckResults,
  DnsResult,
  ListFlags,
  MailboxStatus,
  Reason,
  ResultClass,
  SmtpResult,
  SyntaxResult,
} from "../../src/verify/types";
import { verdict } from "../../src/verify/verdict";

const VALID_SYNTAX: SyntaxResult = {
  valid: true,
  input: "alice@example.com",
  local: "alice",
  domain: "example.com",
  asciiDomain: "example.com",
  address: "alice@example.com",
  needsSmtpUtf8: false,
  ipLiteral: false,
  quotedLocal: false,
};
const NO_FLAGS: ListFlags = { disposable: false, role: false, free: false, didYouMean: null };
const DNS_OK: DnsResult = {
  status: "ok",
  hosts: [{ host: "mx.example.com", preference: 10, addresses: ["192.0.2.10"] }],
  ttl: 300,
};

function smtp(status: MailboxStatus, code: number | null, extra: Partial<SmtpResult> = {}): SmtpResult {
  return {
    status,
    reply: code === null ? null : { code, enhanced: null, text: `${code} reply text` },
    mxHost: "mx.example.com",
    catchAll: false,
    ...extra,
  };
}

function checks(overrides: Partial<CheckResults> = {}): CheckResults {
  return {
    syntax: VALID_SYNTAX,
    flags: NO_FLAGS,
    dns: DNS_OK,
    smtp: null,
    smtpDisabled: false,
    ...overrides,
  };
}

function dns(status: DnsResult["status"]): DnsResult {
  return { status, hosts: [], ttl: 60 };
}

const SCORE_RANGE: Record<ResultClass, [number, number]> = {
  deliverable: [90, 100],
  risky: [30, 70],
  unknown: [20, 50],
  undeliverable: [0, 10],
};

// One row per reason code: the check results that lead to it.
const BY_REASON: [Reason, ResultClass, CheckResults][] = [
  ["accepted", "deliverable", checks({ smtp: smtp("exists", 250) })],
  ["invalid_syntax", "undeliverable", checks({ syntax: { ...VALID_SYNTAX, valid: false }, dns: null })],
  ["no_domain", "undeliverable", checks({ dns: dns("nxdomain") })],
  ["null_mx", "undeliverable", checks({ dns: dns("null_mx") })],
  ["no_mx", "undeliverable", checks({ dns: dns("no_mail_host") })],
  ["dns_error", "unknown", checks({ dns: dns("error") })],
  ["disposable", "risky", checks({ flags: { ...NO_FLAGS, disposable: true }, smtp: smtp("exists", 250) })],
  ["catch_all", "risky", checks({ smtp: smtp("exists", 250, { catchAll: true }) })],
  ["mailbox_not_found", "undeliverable", checks({ smtp: smtp("not_found", 550) })],
  ["mailbox_disabled", "undeliverable", checks({ smtp: smtp("disabled", 550) })],
  ["mailbox_full", "risky", checks({ smtp: smtp("full", 552) })],
  ["blocked", "unknown", checks({ smtp: smtp("blocked", 550) })],
  ["greylisted", "unknown", checks({ smtp: smtp("greylisted", 451) })],
  ["rate_limited", "unknown", checks({ smtp: smtp("rate_limited", 421) })],
  ["smtp_timeout", "unknown", checks({ smtp: smtp("timeout", null) })],
  ["smtp_unreachable", "unknown", checks({ smtp: smtp("unreachable", null, { mxHost: null }) })],
  ["smtp_error", "unknown", checks({ smtp: smtp("error", 503) })],
  ["smtp_not_checked", "unknown", checks({ smtpDisabled: true })],
];

describe("verdict by reason", () => {
  it("covers every reason code", () => {
    const covered = new Set(BY_REASON.map(([reason]) => reason));
    expect(covered.size).toBe(18);
  });

  it.each(BY_REASON)("%s -> %s", (reason, result, input) => {
    const v = verdict(input);
    expect(v.reason).toBe(reason);
    expect(v.result).toBe(result);
    const [low, high] = SCORE_RANGE[result];
    expect(v.score).toBeGreaterThanOrEqual(low);
    expect(v.score).toBeLessThanOrEqual(high);
    expect(Number.isInteger(v.score)).toBe(true);
  });
});

describe("verdict details", () => {
  it("copies the SMTP reply and MX host", () => {
    const v = verdict(
      checks({
        smtp: {
          status: "not_found",
          reply: { code: 550, enhanced: "5.1.1", text: "5.1.1 <nobody@example.com>: user unknown" },
          mxHost: "mx1.example.com",
          catchAll: null,
        },
      }),
    );
    expect(v).toMatchObject({
      result: "undeliverable",
      reason: "mailbox_not_found",
      smtpCode: 550,
      smtpText: "5.1.1 <nobody@example.com>: user unknown",
      mxHost: "mx1.example.com",
      catchAll: false,
    });
  });

  it("reports nulls when there was no SMTP answer", () => {
    const v = verdict(checks({ dns: dns("nxdomain") }));
    expect(v).toMatchObject({ smtpCode: null, smtpText: null, mxHost: null, catchAll: false });
  });

  it("passes the flags through unchanged", () => {
    const flags: ListFlags = { disposable: false, role: true, free: true, didYouMean: "alice@gmail.com" };
    expect(verdict(checks({ flags, smtp: smtp("exists", 250) })).flags).toEqual(flags);
  });

  it("marks catch-all only when the domain was found catch-all", () => {
    expect(verdict(checks({ smtp: smtp("exists", 250, { catchAll: true }) })).catchAll).toBe(true);
    expect(verdict(checks({ smtp: smtp("exists", 250, { catchAll: false }) })).catchAll).toBe(false);
  });

  it("never calls an accepted address deliverable while the domain's catch-all status is unknown", () => {
    // A greylisting catch-all accepts the real address once it is asked again; its
    // random probe may never be answered in time. Accepted + unknown is risky.
    expect(verdict(checks({ smtp: smtp("exists", 250, { catchAll: null }) }))).toMatchObject({
      result: "risky",
      reason: "catch_all_unknown",
      catchAll: false,
    });
  });

  it("keeps a 550 on the real address undeliverable on a catch-all domain", () => {
    const v = verdict(checks({ smtp: smtp("not_found", 550, { catchAll: true }) }));
    expect(v).toMatchObject({
      result: "undeliverable",
      reason: "mailbox_not_found",
      smtpCode: 550,
      catchAll: true,
    });
  });

  it("treats an address literal as not checkable", () => {
    const syntax: SyntaxResult = {
      ...VALID_SYNTAX,
      domain: "[192.0.2.1]",
      asciiDomain: "[192.0.2.1]",
      address: "alice@[192.0.2.1]",
      ipLiteral: true,
    };
    expect(verdict(checks({ syntax, dns: null }))).toMatchObject({
      result: "unknown",
      reason: "smtp_not_checked",
    });
  });

  it("never calls a DNS failure undeliverable, whatever SMTP said", () => {
    const v = verdict(checks({ dns: dns("error"), smtp: smtp("not_found", 550) }));
    expect(v).toMatchObject({ result: "unknown", reason: "dns_error" });
  });

  it("lets DNS failures outrank the disposable flag", () => {
    const flags = { ...NO_FLAGS, disposable: true };
    expect(verdict(checks({ flags, dns: dns("nxdomain") })).reason).toBe("no_domain");
    expect(verdict(checks({ flags, dns: dns("error") })).reason).toBe("dns_error");
  });

  it("reports disposable even when SMTP is switched off", () => {
    const flags = { ...NO_FLAGS, disposable: true };
    expect(verdict(checks({ flags, smtpDisabled: true }))).toMatchObject({
      result: "risky",
      reason: "disposable",
    });
  });

  it("counts implicit MX as a working domain", () => {
    expect(verdict(checks({ dns: dns("implicit_mx"), smtp: smtp("exists", 250) })).reason).toBe("accepted");
  });

  it("says not checked when SMTP was switched off, even with a stale SMTP result", () => {
    expect(verdict(checks({ smtpDisabled: true, smtp: smtp("exists", 250) })).reason).toBe(
      "smtp_not_checked",
    );
  });

  it("says not checked when SMTP was not attempted", () => {
    expect(verdict(checks({ smtp: null })).reason).toBe("smtp_not_checked");
  });

  it("is deterministic", () => {
    const input = checks({ smtp: smtp("exists", 250, { catchAll: true }) });
    expect(verdict(input)).toEqual(verdict(input));
  });
});

describe("role and free are flags, never a verdict", () => {
  const flagCombos: [string, ListFlags][] = [
    ["role", { ...NO_FLAGS, role: true }],
    ["free", { ...NO_FLAGS, free: true }],
    ["role and free", { ...NO_FLAGS, role: true, free: true }],
  ];
  const answers: [MailboxStatus, number | null][] = [
    ["exists", 250],
    ["not_found", 550],
    ["disabled", 550],
    ["full", 552],
    ["blocked", 554],
    ["greylisted", 451],
    ["timeout", null],
  ];
  const cases = flagCombos.flatMap(([name, flags]) =>
    answers.map(([status, code]) => [name, status, flags, code] as const),
  );

  it.each(cases)("%s does not change the class of a %s answer", (_name, status, flags, code) => {
    const plain = verdict(checks({ smtp: smtp(status, code) }));
    const flagged = verdict(checks({ flags, smtp: smtp(status, code) }));
    expect(flagged.result).toBe(plain.result);
    expect(flagged.reason).toBe(plain.reason);
  });

  it("lowers a deliverable score a little, and only that", () => {
    const plain = verdict(checks({ smtp: smtp("exists", 250) })).score;
    const role = verdict(checks({ flags: { ...NO_FLAGS, role: true }, smtp: smtp("exists", 250) })).score;
    const free = verdict(checks({ flags: { ...NO_FLAGS, free: true }, smtp: smtp("exists", 250) })).score;
    const both = verdict(
      checks({ flags: { ...NO_FLAGS, role: true, free: true }, smtp: smtp("exists", 250) }),
    );
    expect(role).toBeLessThan(plain);
    expect(free).toBeLessThan(plain);
    expect(both.score).toBeGreaterThanOrEqual(90);
    expect(both.result).toBe("deliverable");

    const rejected = verdict(checks({ smtp: smtp("not_found", 550) })).score;
    const rejectedRole = verdict(
      checks({ flags: { ...NO_FLAGS, role: true }, smtp: smtp("not_found", 550) }),
    );
    expect(rejectedRole.score).toBe(rejected);
  });

  it("orders risky scores catch-all > full > disposable", () => {
    const catchAll = verdict(checks({ smtp: smtp("exists", 250, { catchAll: true }) })).score;
    const full = verdict(checks({ smtp: smtp("full", 552) })).score;
    const disposable = verdict(checks({ flags: { ...NO_FLAGS, disposable: true } })).score;
    expect(catchAll).toBeGreaterThan(full);
    expect(full).toBeGreaterThan(disposable);
  });
});
