// The mail world of the real-software suite: one DNS zone served by NSD
// (behind dnsdist's DoH), and Postfix listeners that each behave like one
// kind of real mail server. Every listener shares one port; each has an
// address of its own on 127.0.1.0/24, away from the scripted fixtures.

export const ZONE = "realmail.test";

/** One Postfix listener: its address, and the main.cf overrides that make it what it is. */
export interface Listener {
  name: string;
  ip: string;
  /** Postfix parameters for this listener only (master.cf `-o`). */
  overrides: Record<string, string>;
}

/** Where postgrey listens (its port is chosen at start-up). */
export const POSTGREY_IP = "127.0.1.3";
export const NSD_IP = "127.0.1.53";
export const DOH_IP = "127.0.1.54";
/** Nothing ever listens here: connections are refused at once. */
export const DEAD_IP = "127.0.1.99";

/** Recipient checks every listener runs; %ACCESS% and %POLICY% are filled in at start-up. */
export const RECIPIENT_CHECKS = "check_recipient_access,texthash:%ACCESS%,reject_unlisted_recipient";

export const LISTENERS: Listener[] = [
  { name: "plain", ip: "127.0.1.1", overrides: {} },
  { name: "catchall", ip: "127.0.1.2", overrides: {} },
  {
    name: "grey",
    ip: POSTGREY_IP,
    overrides: {
      smtpd_recipient_restrictions: `${RECIPIENT_CHECKS},check_policy_service,inet:%POLICY%,permit`,
    },
  },
  {
    name: "conncap",
    ip: "127.0.1.4",
    // Postfix's defaults for errors (soft 10, hard 20) stay: a real host meets both.
    overrides: { smtpd_client_connection_count_limit: "1" },
  },
  { name: "rcptlimit", ip: "127.0.1.5", overrides: { smtpd_recipient_limit: "3" } },
  {
    name: "errors",
    ip: "127.0.1.6",
    overrides: { smtpd_soft_error_limit: "3", smtpd_hard_error_limit: "6", smtpd_error_sleep_time: "1s" },
  },
  {
    name: "errdrop",
    ip: "127.0.1.11",
    // No delay before the drop: the hard limit is met first.
    overrides: { smtpd_soft_error_limit: "100", smtpd_hard_error_limit: "4" },
  },
  { name: "backup", ip: "127.0.1.7", overrides: {} },
  { name: "blocked", ip: "127.0.1.8", overrides: { smtpd_client_restrictions: "reject" } },
  {
    name: "tarpit",
    ip: "127.0.1.10",
    // The client check runs before the banner and sleeps past the reply timeout.
    overrides: { smtpd_delay_reject: "no", smtpd_client_restrictions: "sleep,6,permit" },
  },
];

const ip = (name: string) => LISTENERS.find((l) => l.name === name)!.ip;

/** The zone's records below ZONE, in zone-file syntax (relative names). */
export const RECORDS: string[] = [
  `plain        MX 10 mx-plain`,
  `mx-plain     A ${ip("plain")}`,
  `catchall     MX 10 mx-catchall`,
  `mx-catchall  A ${ip("catchall")}`,
  `grey         MX 10 mx-grey`,
  `mx-grey      A ${ip("grey")}`,
  `conncap      MX 10 mx-conncap`,
  `mx-conncap   A ${ip("conncap")}`,
  `rcptlimit    MX 10 mx-rcptlimit`,
  `mx-rcptlimit A ${ip("rcptlimit")}`,
  `errors       MX 10 mx-errors`,
  `mx-errors    A ${ip("errors")}`,
  `errdrop      MX 10 mx-errdrop`,
  `mx-errdrop   A ${ip("errdrop")}`,
  `backup       MX 10 mx-dead`,
  `backup       MX 20 mx-backup`,
  `mx-dead      A ${DEAD_IP}`,
  `mx-backup    A ${ip("backup")}`,
  `blocked      MX 10 mx-blocked`,
  `mx-blocked   A ${ip("blocked")}`,
  `tarpit       MX 10 mx-tarpit`,
  `mx-tarpit    A ${ip("tarpit")}`,
  `deadmx       MX 10 mx-dead`,
  // No MX: the domain's own address is its mail host (RFC 5321 5.1).
  `implicit     A ${ip("plain")}`,
  // RFC 7505: this domain takes no mail.
  `nullmx       MX 0 .`,
  // Exists, but has neither MX nor address.
  `nomail       TXT "v=spf1 -all"`,
];

export const DOMAINS = [
  "plain",
  "catchall",
  "grey",
  "conncap",
  "rcptlimit",
  "errors",
  "errdrop",
  "backup",
  "blocked",
  "tarpit",
  "deadmx",
  "implicit",
].map((d) => `${d}.${ZONE}`);

const NAMES = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"];

/** Mailboxes that exist, per domain (catch-all accepts any name). */
export const MAILBOXES: Record<string, string[]> = {
  plain: NAMES.slice(0, 5),
  grey: NAMES.slice(0, 3),
  conncap: [...NAMES, ...NAMES.map((n) => `${n}.team`)],
  rcptlimit: NAMES.slice(0, 6),
  errors: NAMES.slice(0, 4),
  errdrop: NAMES.slice(0, 3),
  backup: NAMES.slice(0, 2),
  blocked: NAMES.slice(0, 2),
  tarpit: NAMES.slice(0, 1),
  implicit: NAMES.slice(0, 2),
};

/** Postfix access-map entries: the replies a real server gives for full and disabled mailboxes. */
export const ACCESS: Record<string, string> = {
  [`full@plain.${ZONE}`]: "452 4.2.2 Mailbox full",
  [`over@plain.${ZONE}`]: "552 5.2.2 Mailbox over quota",
  [`gone@plain.${ZONE}`]: "550 5.2.1 Mailbox disabled",
};

export type Expected = [email: string, result: string, catchAll: boolean, reason: string];

const at = (domain: string) => (local: string) => `${local}@${domain}.${ZONE}`;
const ghosts = (domain: string, n: number) => Array.from({ length: n }, (_, i) => at(domain)(`ghost${i}`));
const good = (domain: string): Expected[] =>
  (MAILBOXES[domain] ?? []).map((e) => [at(domain)(e), "deliverable", false, "accepted"]);
const bad = (domain: string, n: number): Expected[] =>
  ghosts(domain, n).map((e) => [e, "undeliverable", false, "mailbox_not_found"]);
const all = (domain: string, n: number, result: string, reason: string): Expected[] =>
  Array.from({ length: n }, (_, i) => [at(domain)(`user${i}`), result, false, reason]);

/** The suite's whole address list, each with the verdict a correct validator gives. */
export const EXPECTED: Expected[] = [
  ...good("plain"),
  ...bad("plain", 5),
  [at("plain")("full"), "risky", false, "mailbox_full"],
  [at("plain")("over"), "risky", false, "mailbox_full"],
  [at("plain")("gone"), "undeliverable", false, "mailbox_disabled"],
  ...["alice", "zed", "info"].map((l): Expected => [at("catchall")(l), "risky", true, "catch_all"]),
  ...good("grey"),
  ...bad("grey", 2),
  ...good("conncap"),
  ...bad("conncap", 33),
  ...good("rcptlimit"),
  ...bad("rcptlimit", 4),
  ...good("errors"),
  ...bad("errors", 16),
  ...good("errdrop"),
  ...bad("errdrop", 9),
  ...good("backup"),
  ...bad("backup", 2),
  ...all("blocked", 2, "unknown", "blocked"),
  ...all("tarpit", 1, "unknown", "smtp_timeout"),
  ...all("deadmx", 2, "unknown", "smtp_unreachable"),
  ...good("implicit"),
  ...bad("implicit", 1),
  [at("nullmx")("alice"), "undeliverable", false, "null_mx"],
  [at("nomail")("alice"), "undeliverable", false, "no_mx"],
  [at("nosuch")("alice"), "undeliverable", false, "no_domain"],
];
