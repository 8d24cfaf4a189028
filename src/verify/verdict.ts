// The verdict: one pure function from the check results to what the user
// sees. Every outcome is decided by a reason code; the reason fixes the
// result class and the base score, so the two can never disagree.

import type { CheckResults, MailboxStatus, Reason, ResultClass, Verdict } from "./types";

const CLASS_OF: Record<Reason, ResultClass> = {
  accepted: "deliverable",
  catch_all: "risky",
  catch_all_unknown: "risky",
  mailbox_full: "risky",
  disposable: "risky",
  invalid_syntax: "undeliverable",
  no_domain: "undeliverable",
  null_mx: "undeliverable",
  no_mx: "undeliverable",
  reserved_domain: "undeliverable",
  mailbox_not_found: "undeliverable",
  mailbox_disabled: "undeliverable",
  // Never undeliverable: none of these says anything about the mailbox.
  dns_error: "unknown",
  dns_unavailable: "unknown",
  prober_unavailable: "unknown",
  mx_object_unavailable: "unknown",
  blocked: "unknown",
  greylisted: "unknown",
  rate_limited: "unknown",
  smtp_timeout: "unknown",
  smtp_unreachable: "unknown",
  smtp_error: "unknown",
  smtp_not_checked: "unknown",
};

// How likely a message is to arrive: deliverable 90-100, risky 30-70,
// unknown 20-50 (higher when the server merely asked us to wait), undeliverable 0-10.
const BASE_SCORE: Record<Reason, number> = {
  accepted: 100,
  catch_all: 55,
  catch_all_unknown: 60,
  mailbox_full: 40,
  disposable: 30,
  greylisted: 50,
  smtp_not_checked: 45,
  rate_limited: 45,
  blocked: 40,
  smtp_timeout: 35,
  smtp_unreachable: 30,
  smtp_error: 30,
  dns_error: 25,
  dns_unavailable: 35,
  prober_unavailable: 35,
  mx_object_unavailable: 35,
  mailbox_disabled: 10,
  mailbox_not_found: 5,
  no_mx: 5,
  null_mx: 0,
  reserved_domain: 0,
  no_domain: 0,
  invalid_syntax: 0,
};

// Role and free accounts reach a person less reliably, so a deliverable one
// scores a little lower; they never change the class.
const ROLE_PENALTY = 6;
const FREE_PENALTY = 2;

const REASON_OF_REPLY: Record<Exclude<MailboxStatus, "exists">, Reason> = {
  not_found: "mailbox_not_found",
  disabled: "mailbox_disabled",
  full: "mailbox_full",
  blocked: "blocked",
  greylisted: "greylisted",
  rate_limited: "rate_limited",
  timeout: "smtp_timeout",
  unreachable: "smtp_unreachable",
  error: "smtp_error",
  prober_unavailable: "prober_unavailable",
  mx_object_unavailable: "mx_object_unavailable",
};

export function verdict(checks: CheckResults): Verdict {
  const reason = reasonFor(checks);
  const { smtp, flags } = checks;
  return {
    result: CLASS_OF[reason],
    catchAll: smtp?.catchAll === true,
    reason,
    score: scoreFor(reason, checks),
    smtpCode: smtp?.reply?.code ?? null,
    smtpText: smtp?.reply?.text ?? null,
    mxHost: smtp?.mxHost ?? null,
    flags,
  };
}

// Checks in the order that lets each one overrule the ones after it.
function reasonFor({ syntax, flags, dns, smtp, smtpDisabled }: CheckResults): Reason {
  if (!syntax.valid) return "invalid_syntax";
  // An address literal names no domain to look up; the engine does not probe it.
  if (syntax.ipLiteral) return "smtp_not_checked";
  if (!dns) return "dns_error";
  switch (dns.status) {
    case "nxdomain":
      return "no_domain";
    case "null_mx":
      return "null_mx";
    case "no_mail_host":
      return "no_mx";
    case "reserved":
      return "reserved_domain";
    case "error":
      return "dns_error";
    case "unavailable":
      return "dns_unavailable";
    case "ok":
    case "implicit_mx":
      break;
  }
  if (flags.disposable) return "disposable";
  if (smtpDisabled || !smtp) return "smtp_not_checked";
  // The real address is asked before the catch-all probe, so a rejection of
  // it stands even on a domain that accepts random names. An acceptance is
  // only worth something once we know the domain does not accept everything.
  if (smtp.status === "exists") {
    if (smtp.catchAll === true) return "catch_all";
    return smtp.catchAll === false ? "accepted" : "catch_all_unknown";
  }
  return REASON_OF_REPLY[smtp.status];
}

function scoreFor(reason: Reason, { flags }: CheckResults): number {
  let score = BASE_SCORE[reason];
  if (CLASS_OF[reason] === "deliverable") {
    if (flags.role) score -= ROLE_PENALTY;
    if (flags.free) score -= FREE_PENALTY;
  }
  return Math.max(0, Math.min(100, score));
}
