// deep-email-validator answers valid: true/false with the check that failed
// (regex, typo, disposable, mx, smtp) and a message. This maps each answer to
// the four classes by what the message says, the way a careful user would
// read it; it never looks at the truth.
//
//   valid                                      → deliverable
//   regex                                      → undeliverable  (not an address)
//   disposable                                 → risky          (the same class mailvet gives)
//   mx "MX record not found"                   → undeliverable  (the tool says: no mail host)
//   smtp "Mailbox not found." (any 550)        → undeliverable
//   smtp 552 message (mailbox out of space)    → risky
//   smtp other 5xx messages (551, 553, 554, 50x) → undeliverable (a permanent refusal)
//   smtp 4xx messages (421, 450, 451, 452)     → unknown        (a "try later")
//   smtp Timeout, connection errors, closes, "Unrecognized SMTP response" → unknown
//   the harness' own deadline                  → unknown
// The tool has no catch-all notion: catch_all is always false.

import type { ResultClass } from "../world/truth";

export interface BaselineLine {
  email: string;
  valid: boolean;
  reason: string | null;
  detail: string | null;
  ms: number;
}

// The messages deep-email-validator prints for SMTP codes (its ErrorCodes table), by code.
const TEMPORARY =
  /^SMTP Error: (The mail server will be shut down|The mailbox that you are trying to reach is busy|The requested action was not done)/;
const FULL = /^SMTP Error: The mailbox that you are trying to reach has run out of space/;
const PERMANENT =
  /^SMTP Error: (The last command contained a syntax error|The parameters or arguments|The mail server has not implemented|The last command was sent out of sequence|One of the parameters|The specified user is not local|The mail address that you specified|The mail transaction has failed)/;

export function baselineClass(line: BaselineLine): ResultClass {
  if (line.valid) return "deliverable";
  const detail = line.detail ?? "";
  switch (line.reason) {
    case "regex":
    case "typo":
      return "undeliverable";
    case "disposable":
      return "risky";
    case "mx":
      return "undeliverable";
    case "smtp":
      if (detail === "Mailbox not found.") return "undeliverable";
      if (FULL.test(detail)) return "risky";
      if (TEMPORARY.test(detail)) return "unknown";
      if (PERMANENT.test(detail)) return "undeliverable";
      return "unknown"; // Timeout, connection refused, closed, unrecognized reply
    default:
      return "unknown";
  }
}
