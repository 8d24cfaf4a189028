// What the simulated mail world is made of, and its rules. Every figure has a
// default and a CLI flag (see cli.ts); the world is a pure function of these.

/** What an SMTP server does with a client, independent of which mailboxes exist. */
export type ServerBehaviour =
  | "normal"
  | "catch_all"
  | "greylist"
  | "greylist_catch_all"
  | "rate_limit"
  | "conn_rate"
  | "blocked"
  | "tarpit";

/** Why an address is in the list: the behaviour it exercises (the per-behaviour accuracy groups). */
export type Behaviour =
  | "mailbox_exists"
  | "mailbox_unknown"
  | "mailbox_full"
  | "mailbox_disabled"
  | "catch_all"
  | "greylist"
  | "greylist_catch_all"
  | "rate_limit"
  | "conn_rate"
  | "blocked"
  | "tarpit"
  | "tarpit_shared"
  | "hosting_two_names"
  | "null_mx"
  | "implicit_mx"
  | "nxdomain"
  | "backup_mx"
  | "idn"
  | "disposable"
  | "syntax";

/** Special behaviours get a fixed share of the list; the rest is ordinary mail on a Zipf curve of domains. */
export type SpecialBehaviour = Exclude<
  Behaviour,
  "mailbox_exists" | "mailbox_unknown" | "mailbox_full" | "mailbox_disabled"
>;

export type MailboxState = "exists" | "unknown" | "full" | "disabled";

export interface WorldParams {
  emails: number;
  /** Ordinary mail domains, ranked by a Zipf law. */
  domains: number;
  zipfExponent: number;
  /** The top-ranked domains that run their own big MX host. */
  providers: number;
  /** Shared hosting MX hosts that serve part of the long tail. */
  hostingMxHosts: number;
  /** Share of long-tail domains on shared hosting (the others run their own MX). */
  hostedShare: number;
  replyLatencyMs: number;
  bannerDelayMs: number;
  /** Concurrent connections one client may hold on any MX; the next one gets 421. */
  connCap: number;
  /** A greylisting server answers 451 for a recipient until this long after its first try. */
  greylistSeconds: number;
  /** A rate-limiting server answers 421 to a client until this long after its first connection. */
  rateLimitSeconds: number;
  /** A connection-rate-limited server answers 421 to a client's connections beyond this many in any 1 s. */
  connRatePerSecond: number;
  /** RCPTs one session may send; the next gets 452 4.5.3. */
  rcptLimit: number;
  seed: number;
  /** Share of the list for each special behaviour. */
  shares: Record<SpecialBehaviour, number>;
  /** Special behaviours spread over domains of about this many addresses each. */
  addressesPerSpecialDomain: number;
  /** Behaviours whose domains all share one server have at least this many domains (fewer only if fewer addresses). */
  minSharedServerDomains: number;
  /** Mailbox states on ordinary servers. */
  mailboxMix: Record<MailboxState, number>;
}

export const DEFAULT_SHARES: Record<SpecialBehaviour, number> = {
  syntax: 0.01,
  disposable: 0.01,
  nxdomain: 0.01,
  null_mx: 0.005,
  implicit_mx: 0.01,
  backup_mx: 0.01,
  catch_all: 0.04,
  greylist: 0.02,
  greylist_catch_all: 0.01,
  tarpit: 0.003,
  tarpit_shared: 0.005,
  rate_limit: 0.015,
  conn_rate: 0.015,
  hosting_two_names: 0.03,
  blocked: 0.01,
  idn: 0.01,
};

export const DEFAULT_MAILBOX_MIX: Record<MailboxState, number> = {
  exists: 0.78,
  unknown: 0.15,
  full: 0.035,
  disabled: 0.035,
};

export function defaultParams(emails: number): WorldParams {
  return {
    emails,
    domains: Math.min(5000, Math.max(40, Math.round(emails / 25))),
    zipfExponent: 1,
    providers: 6,
    hostingMxHosts: 4,
    hostedShare: 0.5,
    replyLatencyMs: 20,
    bannerDelayMs: 50,
    connCap: 5,
    greylistSeconds: 15,
    rateLimitSeconds: 10,
    connRatePerSecond: 3,
    rcptLimit: 50,
    seed: 42,
    shares: { ...DEFAULT_SHARES },
    addressesPerSpecialDomain: 25,
    minSharedServerDomains: 10,
    mailboxMix: { ...DEFAULT_MAILBOX_MIX },
  };
}

/** One line per behaviour for the report: what the world does, and why the truth is what it is. */
export const BEHAVIOUR_NOTES: Record<Behaviour, string> = {
  mailbox_exists: "250 to RCPT → deliverable",
  mailbox_unknown: "550 5.1.1 user unknown → undeliverable",
  mailbox_full: "552 5.2.2 mailbox full → risky",
  mailbox_disabled: "550 5.2.1 account disabled → undeliverable",
  catch_all: "server accepts any recipient → risky, catch_all",
  greylist: "451 4.7.1 until the greylist delay, then the mailbox's real answer → that answer",
  greylist_catch_all:
    "451 4.7.1 to every recipient until the greylist delay, then accepts any → risky, catch_all",
  rate_limit: "421 at the banner during a cool-down after the first connection, then normal → real answer",
  conn_rate:
    "one host for many domains: 421 at the banner to a client's connections beyond N in any 1 s, normal otherwise → real answer",
  blocked: "550 5.7.1 Spamhaus block to every RCPT: says nothing of the mailbox → unknown",
  tarpit: "accepts TCP, never sends a banner → unknown",
  tarpit_shared: "one tarpit named as MX by many domains: accepts TCP, never sends a banner → unknown",
  hosting_two_names:
    "shared hosting under two MX names (mx1. and mail.hostco.test → one IP, one connection cap) → real answer",
  null_mx: "MX 0 . (RFC 7505) → undeliverable",
  implicit_mx: "no MX, an A record with a working server (RFC 5321 §5.1) → real answer",
  nxdomain: "domain does not exist → undeliverable",
  backup_mx: "primary MX refuses connections, the backup works → real answer",
  idn: "Unicode domain (A-label in DNS), working server → real answer",
  disposable: "domain on the disposable lists, working server → risky",
  syntax: "not an address → undeliverable",
};
