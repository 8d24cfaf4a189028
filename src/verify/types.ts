// The check results the engine passes between its modules. Each check
// (syntax, lists, dns, smtp) produces one of these; verdict() turns them into
// the result a user sees. Nothing here does I/O.

export type ResultClass = "deliverable" | "risky" | "undeliverable" | "unknown";

/** Machine-readable reason codes, one per verdict. */
export type Reason =
  | "accepted" // the server accepted the mailbox
  | "invalid_syntax"
  | "no_domain" // NXDOMAIN
  | "null_mx" // RFC 7505 "0 ." record: accepts no mail
  | "no_mx" // domain exists but has neither MX nor A/AAAA
  | "reserved_domain" // RFC 2606 / RFC 6761 special-use name (example.com, .test, .invalid...)
  | "dns_error" // SERVFAIL, malformed answer: the domain's DNS is broken
  | "dns_unavailable" // our DoH resolver could not be reached until the deadline
  | "prober_unavailable" // our SMTP prober failed until the deadline
  | "mx_object_unavailable" // the host object of the domain's mail server failed until the deadline
  | "disposable"
  | "catch_all"
  | "catch_all_unknown" // accepted, but whether the domain accepts every address could not be learned
  | "mailbox_not_found" // 550 5.1.1, M365 5.4.1
  | "mailbox_disabled" // 5.2.1
  | "mailbox_full" // 552, 5.2.2, 4.2.2
  | "blocked" // 5.7.x / block-list text: our IP is refused, says nothing of the mailbox
  | "greylisted" // 450/451/4.7.x until the deadline passed
  | "rate_limited" // 421 until the deadline passed
  | "smtp_timeout" // connect/banner/reply timed out on every MX
  | "smtp_unreachable" // no MX host could be connected to
  | "smtp_error" // unexpected reply we could not classify
  | "smtp_not_checked"; // SMTP_MODE=off: DNS-level verdict only

export interface SyntaxResult {
  valid: boolean;
  /** The address as given, trimmed. */
  input: string;
  local: string;
  /** Domain as given (may be Unicode). */
  domain: string;
  /** Domain converted to A-labels (punycode) and lower-cased; "" when invalid. */
  asciiDomain: string;
  /** The address to use on the wire: local@asciiDomain. */
  address: string;
  /** Why the syntax check failed, when it did. */
  error?: string;
  /** Local part has non-ASCII characters: the server must offer SMTPUTF8. */
  needsSmtpUtf8: boolean;
  /** Domain is an address literal such as [192.0.2.1]. */
  ipLiteral: boolean;
  quotedLocal: boolean;
}

export interface ListFlags {
  disposable: boolean;
  role: boolean;
  free: boolean;
  /** Suggested correction for a likely typo in a common provider's domain. */
  didYouMean: string | null;
}

export interface MxHost {
  /** Host name of the exchanger, lower case, no trailing dot. */
  host: string;
  preference: number;
  /** IPv4/IPv6 addresses of the host, resolved over DoH. */
  addresses: string[];
}

export type DnsStatus =
  | "ok" // hosts lists the exchangers in preference order
  | "implicit_mx" // no MX records; the domain's own A/AAAA is used (RFC 5321 §5.1)
  | "null_mx"
  | "nxdomain"
  | "no_mail_host" // exists, no MX, no A/AAAA
  | "reserved" // a special-use name (src/verify/reserved.ts), answered without a query
  | "error" // SERVFAIL, bad answer: unknown, never undeliverable
  | "unavailable"; // the resolver could not be reached (network, timeout, HTTP error): our failure, not the domain's

export interface DnsResult {
  status: DnsStatus;
  hosts: MxHost[];
  /** Seconds this answer may be cached for (smallest TTL seen). */
  ttl: number;
  error?: string;
}

/** How the server answered RCPT TO for one address. */
export type MailboxStatus =
  | "exists"
  | "not_found"
  | "disabled"
  | "full"
  | "blocked"
  | "greylisted" // try again later, inside the job
  | "rate_limited" // 421 or similar: back off this MX, try again later
  | "timeout"
  | "unreachable"
  | "error"
  // Our own infrastructure failed until the deadline; nothing was learned of the mailbox.
  | "prober_unavailable"
  | "mx_object_unavailable";

export interface SmtpReply {
  code: number;
  /** Enhanced status code such as "5.1.1", when the server sent one. */
  enhanced: string | null;
  text: string;
}

export interface SmtpResult {
  status: MailboxStatus;
  /** The reply that decided it, if any. */
  reply: SmtpReply | null;
  /** MX host that gave the answer (or the last one tried). */
  mxHost: string | null;
  /**
   * Whether the domain accepts any recipient: true or false when probed
   * (or known from cache), null when it could not be learned. An accepted
   * address with null is never called deliverable.
   */
  catchAll: boolean | null;
}

export interface CheckResults {
  syntax: SyntaxResult;
  flags: ListFlags;
  dns: DnsResult | null; // null when syntax failed
  smtp: SmtpResult | null; // null when not attempted
  /** SMTP was switched off by configuration. */
  smtpDisabled: boolean;
}

export interface Verdict {
  result: ResultClass;
  catchAll: boolean;
  reason: Reason;
  score: number; // 0..100
  smtpCode: number | null;
  smtpText: string | null;
  mxHost: string | null;
  flags: ListFlags;
}
