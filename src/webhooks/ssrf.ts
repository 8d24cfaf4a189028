// Guards webhook URLs against server-side request forgery: a customer must
// not be able to make this service POST to its own network, to a cloud
// metadata endpoint or to anything else that is not a public internet host.
//
// Host names are checked by resolving them (A and AAAA over DoH) and refusing
// the URL if any address is not public. The check should run again before
// every attempt: a name can be re-pointed (DNS rebinding) after it passed once.
//
// WEBHOOK_ALLOW_LOOPBACK="true" is the dev/test setting: it allows http: and
// loopback addresses (127/8, ::1, localhost) for a receiver on the same
// machine, and nothing else (private, link-local and metadata stay refused).

import ipaddr from "ipaddr.js";
import { resolveAddresses } from "../verify/dns";

/** The A/AAAA addresses of a host name; throws when they cannot be known. */
export type AddressResolver = (host: string) => Promise<string[]>;

export interface UrlCheckOptions {
  allowLoopback: boolean;
  /** Without a resolver, URLs naming a host (not an IP literal) are refused: unchecked means unsafe. */
  resolve?: AddressResolver;
}

export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

export async function checkWebhookUrl(url: string, opts: UrlCheckOptions): Promise<UrlCheck> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return refuse("not a valid absolute URL");
  }
  const schemes = opts.allowLoopback ? ["https:", "http:"] : ["https:"];
  if (!schemes.includes(parsed.protocol)) {
    return refuse(`scheme ${parsed.protocol} not allowed (only ${schemes.join(" or ")})`);
  }
  // fetch() rejects URLs with credentials, and they would end up in logs.
  if (parsed.username || parsed.password) return refuse("credentials in the URL are not supported");

  // The URL parser has already turned decimal, octal and hex IPv4 forms into
  // dotted decimal and compressed IPv6, so literals reach us in canonical form.
  const host = parsed.hostname.toLowerCase().replace(/\.$/, "");
  if (host === "") return refuse("no host");
  if (host.startsWith("[") || ipaddr.IPv4.isValidFourPartDecimal(host)) {
    const problem = addressProblem(host, opts.allowLoopback);
    return problem ? refuse(`${host} is ${problem}`) : { ok: true, url: parsed };
  }
  if (NUMERIC_HOST.test(host)) return refuse(`${host} is a numeric host in a non-canonical form`);

  const name = classifyName(host);
  if (name === "loopback") {
    return opts.allowLoopback ? { ok: true, url: parsed } : refuse(`${host} is a loopback name`);
  }
  if (name !== "public") return refuse(`${host} is ${name}`);

  if (!opts.resolve) return refuse(`cannot check the addresses of ${host}: no resolver`);
  let addresses: string[];
  try {
    addresses = await opts.resolve(host);
  } catch (err) {
    return refuse(`could not resolve ${host}: ${errorMessage(err)}`);
  }
  if (addresses.length === 0) return refuse(`${host} has no A or AAAA records`);
  for (const address of addresses) {
    const problem = addressProblem(address, opts.allowLoopback);
    if (problem) return refuse(`${host} resolves to ${address}, ${problem}`);
  }
  return { ok: true, url: parsed };
}

/** True when a webhook must not be sent to this IP (v4 dotted decimal or v6, brackets optional). */
export function isForbiddenAddress(ip: string, allowLoopback: boolean): boolean {
  return addressProblem(ip, allowLoopback) !== null;
}

function refuse(reason: string): UrlCheck {
  return { ok: false, reason };
}

/** What is wrong with an address ("a private address"...), or null if it may be used. */
function addressProblem(ip: string, allowLoopback: boolean): string | null {
  const kind = classifyAddress(ip);
  if (kind === "public") return null;
  if (kind === "loopback") return allowLoopback ? null : "a loopback address";
  return kind;
}

// ── Addresses ──────────────────────────────────────────────────────────

/** "public", "loopback", or why the address is refused. */
type AddressKind = "public" | "loopback" | string;

/** Cloud metadata addresses, named before the wider ranges that hold them. */
const METADATA = [ipaddr.parseCIDR("169.254.169.254/32"), ipaddr.parseCIDR("fd00:ec2::254/128")];

/** ipaddr.js's names for special ranges, as reasons; any other non-unicast range is refused by its name. */
const REASONS: Record<string, string> = {
  unspecified: "a 'this network' address",
  broadcast: "the broadcast address",
  multicast: "a multicast address",
  linkLocal: "a link-local address",
  loopback: "loopback",
  carrierGradeNat: "a carrier-grade NAT address",
  private: "a private address",
  reserved: "a reserved address",
  uniqueLocal: "a unique-local address",
  deprecatedSiteLocal: "a site-local address",
  discard: "a discard-only address",
  teredo: "a Teredo address",
};

/** IPv6 ranges that carry an IPv4 address: judged by that address. */
const NAT64 = ipaddr.parseCIDR("64:ff9b::/96");

function classifyAddress(text: string): AddressKind {
  const ip = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  // Strict forms only: a lenient parser reads "01.2.3.4" or "0x7f.0.0.1" in ways others do not.
  let address: ipaddr.IPv4 | ipaddr.IPv6;
  if (ipaddr.IPv4.isValidFourPartDecimal(ip)) address = ipaddr.IPv4.parse(ip);
  else if (ip.includes(":") && ipaddr.IPv6.isValid(ip) && !ip.includes("%")) address = ipaddr.IPv6.parse(ip);
  // Anything we cannot read is refused rather than guessed at.
  else return "not an IP address we can check";
  return classify(address);
}

function classify(address: ipaddr.IPv4 | ipaddr.IPv6): AddressKind {
  if (METADATA.some(([net, bits]) => net.kind() === address.kind() && address.match(net, bits))) {
    return "a cloud metadata address";
  }
  const range = address.range();
  if (address.kind() === "ipv6") {
    const six = address as ipaddr.IPv6;
    const embedded = embeddedIpv4(six, range);
    if (embedded) return classify(embedded);
    if (range === "rfc6052") return "a local-use NAT64 address";
    // ::/96 but :: and ::1: the deprecated IPv4-compatible form.
    if (range === "unicast" && six.parts.slice(0, 6).every((p) => p === 0)) {
      return "an IPv4-compatible (deprecated) address";
    }
    if (range === "unspecified") return "the unspecified address";
  }
  if (range === "unicast") return "public";
  return REASONS[range] ?? `a ${range} address`;
}

/** The IPv4 address inside an IPv4-mapped, -translated, NAT64 or 6to4 address. */
function embeddedIpv4(ip: ipaddr.IPv6, range: string): ipaddr.IPv4 | null {
  const [, g1 = 0, g2 = 0] = ip.parts;
  const low = ip.parts.slice(6);
  const fromGroups = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  if (range === "ipv4Mapped" || range === "rfc6145" || (range === "rfc6052" && ip.match(NAT64))) {
    return fromGroups(low[0] ?? 0, low[1] ?? 0);
  }
  // 6to4 (2002:AABB:CCDD::/48) carries its IPv4 address in bits 16–47.
  if (range === "6to4") return fromGroups(g1, g2);
  return null;
}

// ── Names ──────────────────────────────────────────────────────────────

/** Dotted numbers or hex that are no canonical IPv4: a lenient parser might still read them as one. */
const NUMERIC_HOST = /^(?:0x[0-9a-f]*|\d+)(?:\.(?:0x[0-9a-f]*|\d+))*$/i;

/** Names that only mean something inside a private network (RFC 6762, 8375, ICANN's .internal). */
const INTERNAL_SUFFIXES = ["internal", "local", "localdomain", "home.arpa"];
/** Cloud metadata endpoints reachable by name (GCP, AWS). */
const METADATA_NAMES = ["metadata.goog", "metadata.google.internal", "instance-data.ec2.internal"];

function classifyName(host: string): "public" | "loopback" | string {
  // RFC 6761: localhost and its subdomains are always loopback, whatever DNS says.
  if (host === "localhost" || host.endsWith(".localhost")) return "loopback";
  if (METADATA_NAMES.includes(host)) return "a cloud metadata name";
  if (INTERNAL_SUFFIXES.some((s) => host === s || host.endsWith(`.${s}`))) return "an internal name";
  // A single label resolves through the search domains of whoever resolves it.
  if (!host.includes(".")) return "not a fully qualified name";
  return "public";
}

// ── Resolution ─────────────────────────────────────────────────────────

/**
 * Resolves A and AAAA over DNS-over-HTTPS with the engine's resolver
 * (src/verify/dns.ts). Any failure of either query throws, so that an
 * unknown answer is refused.
 */
export function dohAddressResolver(dohUrl: string, timeoutMs: number): AddressResolver {
  return (host) => resolveAddresses(host, { dohUrl, timeoutMs });
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
