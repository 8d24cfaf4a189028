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

import { Buffer } from "node:buffer";
import * as dnsPacket from "dns-packet";

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
  if (host.startsWith("[") || parseIpv4(host) !== null) {
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

interface V4Range {
  base: number;
  bits: number;
  kind: AddressKind;
}

function v4(cidr: string, kind: AddressKind): V4Range {
  const [base, bits] = cidr.split("/");
  return { base: parseIpv4(base!)!, bits: Number(bits), kind };
}

// IANA special-purpose registry, plus the cloud metadata address. More
// specific entries come first so the reason names them.
const V4_RANGES: V4Range[] = [
  v4("0.0.0.0/8", "a 'this network' address"),
  v4("10.0.0.0/8", "a private address"),
  v4("100.64.0.0/10", "a carrier-grade NAT address"),
  v4("127.0.0.0/8", "loopback"),
  v4("169.254.169.254/32", "a cloud metadata address"),
  v4("169.254.0.0/16", "a link-local address"),
  v4("172.16.0.0/12", "a private address"),
  v4("192.0.0.0/24", "an IETF protocol address"),
  v4("192.0.2.0/24", "a documentation address"),
  v4("192.88.99.0/24", "a 6to4 relay address"),
  v4("192.168.0.0/16", "a private address"),
  v4("198.18.0.0/15", "a benchmarking address"),
  v4("198.51.100.0/24", "a documentation address"),
  v4("203.0.113.0/24", "a documentation address"),
  v4("224.0.0.0/4", "a multicast address"),
  v4("255.255.255.255/32", "the broadcast address"),
  v4("240.0.0.0/4", "a reserved address"),
];

interface V6Range {
  base: bigint;
  bits: number;
  kind: AddressKind;
}

function v6(cidr: string, kind: AddressKind): V6Range {
  const [base, bits] = cidr.split("/");
  return { base: parseIpv6(base!)!, bits: Number(bits), kind };
}

/** Ranges that carry an IPv4 address in their low 32 bits: judged by that address. */
const V6_EMBEDDING_V4: V6Range[] = [
  v6("::ffff:0:0/96", "IPv4-mapped"),
  v6("::ffff:0:0:0/96", "IPv4-translated"),
  v6("64:ff9b::/96", "NAT64"),
];

const V6_RANGES: V6Range[] = [
  v6("::/128", "the unspecified address"),
  v6("::1/128", "loopback"),
  v6("::/96", "an IPv4-compatible (deprecated) address"),
  v6("64:ff9b:1::/48", "a local-use NAT64 address"),
  v6("100::/64", "a discard-only address"),
  v6("2001::/32", "a Teredo address"),
  v6("2001:db8::/32", "a documentation address"),
  v6("fd00:ec2::254/128", "a cloud metadata address"),
  v6("fc00::/7", "a unique-local address"),
  v6("fe80::/10", "a link-local address"),
  v6("fec0::/10", "a site-local address"),
  v6("ff00::/8", "a multicast address"),
];

const SIX_TO_FOUR = v6("2002::/16", "6to4");

function classifyAddress(ip: string): AddressKind {
  const four = parseIpv4(ip);
  if (four !== null) return classifyV4(four);
  const six = parseIpv6(ip);
  if (six !== null) return classifyV6(six);
  // Anything we cannot read is refused rather than guessed at.
  return "not an IP address we can check";
}

function classifyV4(ip: number): AddressKind {
  for (const r of V4_RANGES) {
    const shift = 32 - r.bits;
    if (ip >>> shift === r.base >>> shift) return r.kind;
  }
  return "public";
}

function classifyV6(ip: bigint): AddressKind {
  for (const r of V6_EMBEDDING_V4) {
    if (inV6(ip, r)) return classifyV4(Number(ip & 0xffff_ffffn));
  }
  // 6to4 (2002:AABB:CCDD::/48) carries its IPv4 address in bits 16–47.
  if (inV6(ip, SIX_TO_FOUR)) return classifyV4(Number((ip >> 80n) & 0xffff_ffffn));
  for (const r of V6_RANGES) if (inV6(ip, r)) return r.kind;
  return "public";
}

function inV6(ip: bigint, r: V6Range): boolean {
  const shift = BigInt(128 - r.bits);
  return ip >> shift === r.base >> shift;
}

/** Strict dotted decimal; leading zeros (octal to some parsers) do not pass. */
function parseIpv4(text: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return null;
  let n = 0;
  for (const part of m.slice(1)) {
    if ((part.length > 1 && part.startsWith("0")) || Number(part) > 255) return null;
    n = n * 256 + Number(part);
  }
  return n;
}

/** RFC 4291 text form (with "::" and a dotted IPv4 tail), brackets optional, as a 128-bit number. */
function parseIpv6(text: string): bigint | null {
  let s = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  if (!s.includes(":")) return null;
  const lastColon = s.lastIndexOf(":");
  const tail = s.slice(lastColon + 1);
  if (tail.includes(".")) {
    const four = parseIpv4(tail);
    if (four === null) return null;
    s = `${s.slice(0, lastColon + 1)}${(four >>> 16).toString(16)}:${(four & 0xffff).toString(16)}`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(":") : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...rest];
  let n = 0n;
  for (const g of groups) {
    if (!/^[0-9a-f]{1,4}$/i.test(g)) return null;
    n = (n << 16n) | BigInt(Number.parseInt(g, 16));
  }
  return n;
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

// ── Resolution over DoH ────────────────────────────────────────────────

const DNS_MESSAGE = "application/dns-message";
/** A DNS message over HTTPS is at most 64 KiB (RFC 8484 §6). */
const MAX_MESSAGE_BYTES = 65_535;
const RCODE_NOERROR = 0;
const RCODE_NXDOMAIN = 3;

/**
 * Resolves A and AAAA over DNS-over-HTTPS (RFC 8484, GET). Every A/AAAA
 * record of the answers counts, whichever name in a CNAME chain owns it: for
 * a safety check, considering too many addresses is the safe mistake. Any
 * failure of either query throws, so that an unknown answer is refused.
 */
export function dohAddressResolver(dohUrl: string, timeoutMs: number): AddressResolver {
  return async (host) => {
    const name = host.toLowerCase().replace(/\.$/, "");
    const [a, aaaa] = await Promise.all([
      queryAddresses(dohUrl, name, "A", timeoutMs),
      queryAddresses(dohUrl, name, "AAAA", timeoutMs),
    ]);
    return [...new Set([...a, ...aaaa])];
  };
}

async function queryAddresses(
  dohUrl: string,
  name: string,
  type: "A" | "AAAA",
  timeoutMs: number,
): Promise<string[]> {
  const query = dnsPacket.encode({
    type: "query",
    id: 0,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name, class: "IN" }],
  });
  const url = new URL(dohUrl);
  url.searchParams.set("dns", query.toString("base64url"));
  const signal = AbortSignal.timeout(timeoutMs);
  let body: ArrayBuffer;
  try {
    const response = await fetch(url, { headers: { accept: DNS_MESSAGE }, signal });
    if (response.status !== 200 || !response.headers.get("content-type")?.startsWith(DNS_MESSAGE)) {
      await response.body?.cancel();
      throw new Error(`DoH server answered HTTP ${response.status} ${response.headers.get("content-type")}`);
    }
    body = await response.arrayBuffer();
  } catch (err) {
    if (signal.aborted) throw new Error(`${type} lookup timed out after ${timeoutMs} ms`);
    throw err;
  }
  if (body.byteLength > MAX_MESSAGE_BYTES) throw new Error("DoH answer larger than a DNS message");
  let packet: dnsPacket.DecodedPacket;
  try {
    packet = dnsPacket.decode(Buffer.from(body));
  } catch {
    throw new Error(`malformed DNS answer to ${type} ${name}`);
  }
  if (packet.type !== "response") throw new Error(`malformed DNS answer to ${type} ${name}`);
  const rcode = (packet.flags ?? 0) & 0xf;
  if (rcode === RCODE_NXDOMAIN) return [];
  if (rcode !== RCODE_NOERROR) throw new Error(`${type} ${name}: resolver answered RCODE ${rcode}`);
  return (packet.answers ?? []).flatMap((r) => (r.type === "A" || r.type === "AAAA" ? [String(r.data)] : []));
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
