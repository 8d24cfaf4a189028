// Address syntax: RFC 5321 Mailbox (the form that can go in RCPT TO), with
// RFC 6531 UTF-8 local parts and IDNA domains. Comments, folding white space
// and the obsolete RFC 5322 forms are rejected: they cannot be sent on the
// SMTP wire as they are, and no real mailbox needs them.

import type { SyntaxResult } from "./types";

const MAX_LOCAL_OCTETS = 64; // RFC 5321 §4.5.3.1.1
const MAX_ADDRESS_OCTETS = 254; // RFC 5321 path limit (256) minus the angle brackets
const MAX_DOMAIN_OCTETS = 253; // RFC 1035, without the trailing dot
const MAX_LABEL_OCTETS = 63;
// Far above any valid address; stops pathological input before any parsing.
const MAX_INPUT_CHARS = 1024;

// C0 controls (CR, LF, NUL, TAB...), DEL and the C1 controls.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
export const CONTROL_CHAR = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Text a job may hold at all: no control characters (they could smuggle
 * commands into SMTP) and no broken UTF-16 (it would be stored altered).
 */
export function isSafeText(text: string): boolean {
  return !CONTROL_CHAR.test(text) && !LONE_SURROGATE.test(text);
}
const NON_ASCII = /[\u0080-\uffff]/;
const WHITESPACE = /\s/;
// One dot-atom element: RFC 5322 atext, plus any non-ASCII character (RFC 6531).
const ATOM = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\uffff]+$/;
// The only ASCII a host name may hold before IDNA; anything else (% / : @ ...)
// would be read as URL syntax by the IDNA step, or is simply not LDH.
const DOMAIN_ASCII_ALLOWED = /^[A-Za-z0-9.\-\u0080-\uffff]+$/;
const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
// A TLD starting with a digit is either all-numeric (RFC 3696 §2 forbids it)
// or something the URL parser would read as an IPv4 address.
const TLD_START = /^[a-z]/;
const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6_GROUP = /^[0-9A-Fa-f]{1,4}$/;
const IPV6_TAG = /^IPv6:/i;

const utf8 = new TextEncoder();

function octets(text: string): number {
  return utf8.encode(text).length;
}

export function checkSyntax(raw: string): SyntaxResult {
  const input = raw.trim();
  const at = input.lastIndexOf("@");
  // A domain never contains "@", so the last one separates the parts even
  // when a quoted local part holds an "@" of its own.
  const local = at < 0 ? input : input.slice(0, at);
  const domain = at < 0 ? "" : input.slice(at + 1);
  const result: SyntaxResult = {
    valid: false,
    input,
    local,
    domain,
    asciiDomain: "",
    address: "",
    needsSmtpUtf8: NON_ASCII.test(local),
    ipLiteral: false,
    quotedLocal: local.startsWith('"'),
  };
  const fail = (error: string): SyntaxResult => ({ ...result, error });

  // Checked on the raw text: a trailing CR or LF is not "surrounding white
  // space" to forgive, it is an injection attempt or a broken reader upstream.
  if (CONTROL_CHAR.test(raw)) return fail("contains a control character");
  if (LONE_SURROGATE.test(raw)) return fail("contains malformed Unicode");
  if (input === "") return fail("empty");
  if (input.length > MAX_INPUT_CHARS) return fail("too long");
  if (at < 0) return fail("missing @");
  if (local === "") return fail("empty local part");
  if (domain === "") return fail("empty domain");

  const localError = result.quotedLocal ? quotedLocalError(local) : dotAtomError(local);
  if (localError) return fail(localError);
  if (octets(local) > MAX_LOCAL_OCTETS) return fail(`local part longer than ${MAX_LOCAL_OCTETS} octets`);

  const host = domain.startsWith("[") ? addressLiteral(domain) : hostName(domain);
  if ("error" in host) return fail(host.error);

  const address = `${local}@${host.ascii}`;
  if (octets(address) > MAX_ADDRESS_OCTETS) return fail(`address longer than ${MAX_ADDRESS_OCTETS} octets`);
  return { ...result, valid: true, asciiDomain: host.ascii, address, ipLiteral: host.literal };
}

function dotAtomError(local: string): string | null {
  if (WHITESPACE.test(local)) return "white space outside quotes";
  if (local.startsWith(".")) return "local part starts with a dot";
  if (local.endsWith(".")) return "local part ends with a dot";
  if (local.includes("..")) return "local part has consecutive dots";
  for (const atom of local.split(".")) {
    if (!ATOM.test(atom)) return "local part has a character that needs quoting";
  }
  return null;
}

// RFC 5321 Quoted-string with RFC 6531's UTF-8 qtext: the whole local part
// must be one quoted string (no "a"."b" or "a"b obsolete forms).
function quotedLocalError(local: string): string | null {
  let i = 1;
  while (i < local.length) {
    const ch = local[i]!;
    if (ch === '"') {
      return i === local.length - 1 ? null : "text after the closing quote";
    }
    if (ch === "\\") {
      const next = local.charCodeAt(i + 1);
      // quoted-pairSMTP = "\" %d32-126: only printable ASCII may be escaped.
      if (!(next >= 32 && next <= 126)) return "bad escape in quoted local part";
      i += 2;
      continue;
    }
    i += 1;
  }
  return "unclosed quote";
}

type Host = { ascii: string; literal: boolean } | { error: string };

function hostName(domain: string): Host {
  if (WHITESPACE.test(domain)) return { error: "white space in domain" };
  if (!DOMAIN_ASCII_ALLOWED.test(domain))
    return { error: "domain has a character not allowed in a host name" };
  const ascii = toAsciiDomain(domain);
  if (ascii === null) return { error: "domain is not a valid host name" };
  if (octets(ascii) > MAX_DOMAIN_OCTETS) return { error: `domain longer than ${MAX_DOMAIN_OCTETS} octets` };
  // A single label (test@io) is valid RFC 5321 syntax; DNS decides whether it takes mail.
  const labels = ascii.split(".");
  for (const label of labels) {
    if (label === "") return { error: "domain has an empty label" };
    if (label.length > MAX_LABEL_OCTETS)
      return { error: `domain label longer than ${MAX_LABEL_OCTETS} octets` };
    if (!LDH_LABEL.test(label)) return { error: "domain label is not letters, digits and inner hyphens" };
  }
  if (!TLD_START.test(labels[labels.length - 1]!))
    return { error: "top-level domain does not start with a letter" };
  return { ascii, literal: false };
}

// IDNA (UTS #46) through the platform's WHATWG URL parser: it maps, validates
// and Punycode-encodes the labels and lower-cases the result. The caller has
// already kept out every ASCII character that the URL parser gives a meaning.
function toAsciiDomain(domain: string): string | null {
  try {
    return new URL(`http://${domain}`).hostname;
  } catch {
    return null;
  }
}

// RFC 5321 §4.1.3 address literals: [IPv4] and [IPv6:...]. General
// "[tag:content]" literals and bare RFC 5322 domain literals are not
// deliverable over SMTP and are rejected.
function addressLiteral(domain: string): Host {
  if (!domain.endsWith("]")) return { error: "unclosed address literal" };
  const inner = domain.slice(1, -1);
  const valid = IPV6_TAG.test(inner) ? isIpv6Literal(inner.slice(5)) : IPV4.test(inner);
  if (!valid) return { error: "invalid address literal" };
  return { ascii: domain.toLowerCase(), literal: true };
}

// RFC 5321 IPv6-addr. Stricter than RFC 4291: "::" must stand for at least
// two groups, so a full address never contains it.
function isIpv6Literal(text: string): boolean {
  let groupsText = text;
  let totalGroups = 8;
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (tail.includes(".")) {
    // IPv6v4 forms: the IPv4 address takes the place of the last two groups.
    if (!IPV4.test(tail)) return false;
    groupsText = text.slice(0, lastColon + 1);
    if (!groupsText.endsWith("::")) groupsText = groupsText.slice(0, -1);
    totalGroups = 6;
  }
  const halves = groupsText.split("::");
  if (halves.length > 2) return false;
  const groups: string[] = [];
  for (const half of halves) {
    if (half === "") continue;
    for (const group of half.split(":")) {
      if (!IPV6_GROUP.test(group)) return false;
      groups.push(group);
    }
  }
  return halves.length === 2 ? groups.length <= totalGroups - 2 : groups.length === totalGroups;
}

export class UnsafeSmtpAddressError extends Error {
  override name = "UnsafeSmtpAddressError";
}

/**
 * Last line of defence before an address is written into an SMTP command:
 * refuses anything that could end the command line early or smuggle a second one.
 */
export function assertSafeForSmtp(address: string): void {
  if (CONTROL_CHAR.test(address)) {
    throw new UnsafeSmtpAddressError("address contains a control character");
  }
  if (address.length === 0 || octets(address) > MAX_ADDRESS_OCTETS) {
    throw new UnsafeSmtpAddressError(`address is empty or longer than ${MAX_ADDRESS_OCTETS} octets`);
  }
}
