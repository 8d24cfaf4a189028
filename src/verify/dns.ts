// MX resolution over DNS-over-HTTPS (RFC 8484). Workers have no DNS socket,
// so every lookup is a wire-format query sent over fetch() to a resolver URL.
// SERVFAIL and garbage end as status "error", a resolver we could not reach
// (network, timeout, HTTP error) as "unavailable": an unknown answer must
// never read as "this domain does not exist", and our own outage must never
// read as the domain's fault.

import { Buffer } from "node:buffer";
import * as dnsPacket from "dns-packet";
import pLimit from "p-limit";
import { answersAsReserved } from "./reserved";
import type { ResolverBreaker } from "./resolver-breaker";
import type { DnsResult, MxHost } from "./types";

/** DoH requests in flight at once: a Worker invocation may hold 6 connections. */
const MAX_PARALLEL_QUERIES = 4;
/** CNAME hops followed for one lookup, inside answers and by re-querying. */
const MAX_CNAME_HOPS = 8;
/** Exchangers resolved per domain; real domains list a handful at most. */
const MAX_MX_HOSTS = 10;
const MIN_TTL = 30;
const MAX_TTL = 86_400;
/** Negative-answer TTL when the resolver sends no SOA to take it from. */
const DEFAULT_NEGATIVE_TTL = 300;
/** An answer that lost a host to a transient failure is kept only briefly. */
const PARTIAL_ANSWER_TTL = 60;
/** A DNS message over HTTPS is at most 64 KiB (RFC 8484 §6). */
const MAX_MESSAGE_BYTES = 65_535;
const DNS_MESSAGE = "application/dns-message";

const RCODE_NOERROR = 0;
const RCODE_NXDOMAIN = 3;
const RCODE_NAMES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"];

/** Runs a task when a slot is free; shared by all queries it should bound. */
export type QueryLimiter = <T>(task: () => Promise<T>) => Promise<T>;

export function queryLimiter(max: number): QueryLimiter {
  const limit = pLimit(max);
  return (task) => limit(task);
}

export interface ResolveOptions {
  dohUrl: string;
  /** Per DoH request, from the moment it gets a slot. */
  timeoutMs: number;
  fetcher?: typeof fetch;
  /** GET is HTTP-cache friendly (RFC 8484 §4.1); POST is the fallback for picky resolvers. */
  method?: "GET" | "POST";
  /** Bounds concurrent DoH requests; defaults to a fresh limiter of 4 for this resolution. */
  limiter?: QueryLimiter;
  /** Exchangers' addresses already looked up: shared hosting names one exchanger for many domains. */
  hostCache?: Map<string, Promise<HostAddresses>>;
}

interface QueryContext {
  dohUrl: string;
  timeoutMs: number;
  fetcher: typeof fetch;
  method: "GET" | "POST";
  limit: QueryLimiter;
  hostCache?: Map<string, Promise<HostAddresses>>;
  /** Set when a query failed because the resolver could not be reached. */
  unreachable?: boolean;
}

/** Resolves a domain (A-label, lower case) to its mail exchangers and their addresses. */
export async function resolveMailHosts(domain: string, opts: ResolveOptions): Promise<DnsResult> {
  const ctx = queryContext(opts);
  const name = normalizeName(domain);
  if (!name) return errorResult("empty domain name");
  const result = await resolveName(name, ctx);
  // Any failure to reach the resolver makes an unknown answer ours, not the domain's.
  return result.status === "error" && ctx.unreachable ? { ...result, status: "unavailable" } : result;
}

async function resolveName(name: string, ctx: QueryContext): Promise<DnsResult> {
  const mx = await lookup(name, "MX", ctx);
  switch (mx.kind) {
    case "error":
      return errorResult(mx.error);
    case "nxdomain":
      return { status: "nxdomain", hosts: [], ttl: clampTtl(mx.ttl) };
    case "nodata":
      // RFC 5321 §5.1: no MX, so the (canonical) domain itself is the exchanger.
      return implicitMx(mx.canonical, mx.ttl, ctx);
    case "found":
      return explicitMx(mx.records as dnsPacket.MxAnswer[], mx.ttl, ctx);
  }
}

function queryContext(opts: ResolveOptions): QueryContext {
  return {
    dohUrl: opts.dohUrl,
    timeoutMs: opts.timeoutMs,
    // Bound to globalThis: workerd rejects a detached fetch with "Illegal invocation".
    fetcher: opts.fetcher ?? ((input, init) => fetch(input, init)),
    method: opts.method ?? "GET",
    limit: opts.limiter ?? queryLimiter(MAX_PARALLEL_QUERIES),
    hostCache: opts.hostCache,
  };
}

/** A host's A and AAAA addresses, CNAMEs followed; throws when either lookup fails. */
export async function resolveAddresses(host: string, opts: ResolveOptions): Promise<string[]> {
  const r = await resolveHost(normalizeName(host), queryContext(opts));
  if (r.failed) throw new Error(r.problem);
  return r.addresses;
}

async function explicitMx(
  records: dnsPacket.MxAnswer[],
  mxTtl: number,
  ctx: QueryContext,
): Promise<DnsResult> {
  const exchangers = records
    .map((r) => ({ host: normalizeName(r.data.exchange), preference: r.data.preference ?? 0 }))
    // The root name "." is RFC 7505's null MX: it names no exchanger.
    .filter((x) => x.host !== "")
    // Array.prototype.sort is stable, so equal preferences keep answer order.
    .sort((a, b) => a.preference - b.preference)
    .filter((x, i, all) => all.findIndex((y) => y.host === x.host) === i)
    .slice(0, MAX_MX_HOSTS);
  if (exchangers.length === 0) return { status: "null_mx", hosts: [], ttl: clampTtl(mxTtl) };

  const resolved = await Promise.all(exchangers.map((x) => resolveExchanger(x.host, ctx)));
  let ttl = Math.min(mxTtl, ...resolved.map((r) => r.ttl));
  const hosts: MxHost[] = [];
  const failures: string[] = [];
  resolved.forEach((r, i) => {
    const x = exchangers[i]!;
    if (r.addresses.length > 0)
      hosts.push({ host: x.host, preference: x.preference, addresses: r.addresses });
    else failures.push(`${x.host}: ${r.problem}`);
  });

  const transient = resolved.some((r) => r.addresses.length === 0 && r.failed);
  if (hosts.length > 0) {
    if (transient) ttl = Math.min(ttl, PARTIAL_ANSWER_TTL);
    return { status: "ok", hosts, ttl: clampTtl(ttl) };
  }
  // An exchanger we could not look up may well exist: unknown, not undeliverable.
  if (transient) return errorResult(`no MX host could be resolved (${failures.join("; ")})`);
  return {
    status: "no_mail_host",
    hosts: [],
    ttl: clampTtl(ttl),
    error: `no MX host has an address (${failures.join("; ")})`,
  };
}

async function implicitMx(host: string, mxTtl: number, ctx: QueryContext): Promise<DnsResult> {
  const r = await resolveHost(host, ctx);
  const ttl = clampTtl(Math.min(mxTtl, r.ttl));
  if (r.addresses.length > 0) {
    return { status: "implicit_mx", hosts: [{ host, preference: 0, addresses: r.addresses }], ttl };
  }
  if (r.failed) return errorResult(`no MX records, and the address lookup failed: ${r.problem}`);
  return { status: "no_mail_host", hosts: [], ttl, error: "no MX records and no A/AAAA records" };
}

interface HostAddresses {
  /** IPv4 first, then IPv6. */
  addresses: string[];
  ttl: number;
  /** A lookup failed (SERVFAIL, timeout...), so missing addresses prove nothing. */
  failed: boolean;
  /** Why there are no addresses, for the error text. */
  problem: string;
  /** A lookup failed because the resolver could not be reached. */
  unreachable: boolean;
}

/** An exchanger's addresses, looked up once per cache; a failed lookup is not kept. */
async function resolveExchanger(host: string, ctx: QueryContext): Promise<HostAddresses> {
  const cache = ctx.hostCache;
  if (!cache) return resolveHost(host, ctx);
  let pending = cache.get(host);
  if (!pending) {
    pending = resolveHost(host, ctx).then((r) => {
      if (r.failed) cache.delete(host);
      return r;
    });
    cache.set(host, pending);
  }
  const r = await pending;
  if (r.unreachable) ctx.unreachable = true;
  return r;
}

async function resolveHost(host: string, parent: QueryContext): Promise<HostAddresses> {
  // Its own context: a cached answer tells every domain that shares it whether the resolver was reached.
  const ctx: QueryContext = { ...parent, unreachable: false };
  const [a, aaaa] = await Promise.all([lookup(host, "A", ctx), lookup(host, "AAAA", ctx)]);
  if (ctx.unreachable) parent.unreachable = true;
  const addresses: string[] = [];
  let ttl = Number.POSITIVE_INFINITY;
  for (const r of [a, aaaa]) {
    if (r.kind === "error") continue;
    ttl = Math.min(ttl, r.ttl);
    if (r.kind === "found") for (const rec of r.records) addresses.push(String(rec.data));
  }
  const errors = [a, aaaa].flatMap((r) => (r.kind === "error" ? [r.error] : []));
  const problem = errors[0] ?? (a.kind === "nxdomain" ? "NXDOMAIN" : "no A/AAAA records");
  return {
    addresses: [...new Set(addresses)],
    ttl,
    failed: errors.length > 0,
    problem,
    unreachable: ctx.unreachable === true,
  };
}

type LookupType = "MX" | "A" | "AAAA";
/** A resource record: everything in a message but the EDNS pseudo-record. */
type Rr = Exclude<dnsPacket.Answer, dnsPacket.OptAnswer>;

type Lookup =
  | { kind: "found"; canonical: string; records: Rr[]; ttl: number }
  | { kind: "nodata"; canonical: string; ttl: number }
  | { kind: "nxdomain"; ttl: number }
  | { kind: "error"; error: string };

/** One name and type, following CNAMEs the way RFC 5321 §5.1 asks. */
async function lookup(name: string, type: LookupType, ctx: QueryContext): Promise<Lookup> {
  let current = name;
  let ttl = Number.POSITIVE_INFINITY;
  let hops = 0;
  for (;;) {
    const asked = current;
    let packet: dnsPacket.DecodedPacket;
    try {
      packet = await dohQuery(asked, type, ctx);
    } catch (err) {
      if (err instanceof DohError && err.unreachable) ctx.unreachable = true;
      return { kind: "error", error: `${type} ${asked}: ${errorMessage(err)}` };
    }
    const rcode = (packet.flags ?? 0) & 0xf;
    if (rcode === RCODE_NXDOMAIN) return { kind: "nxdomain", ttl: Math.min(ttl, negativeTtl(packet)) };
    if (rcode !== RCODE_NOERROR) {
      return {
        kind: "error",
        error: `${type} ${asked}: resolver answered ${RCODE_NAMES[rcode] ?? `RCODE ${rcode}`}`,
      };
    }

    // A recursive resolver lists the chain first: CNAME records, then the target's records.
    const answers = (packet.answers ?? []).filter((a): a is Rr => a.type !== "OPT");
    for (;;) {
      const alias = answers.find((a) => a.type === "CNAME" && normalizeName(a.name) === current);
      if (!alias) break;
      if (++hops > MAX_CNAME_HOPS) return { kind: "error", error: `${type} ${name}: CNAME chain too long` };
      ttl = Math.min(ttl, alias.ttl ?? 0);
      current = normalizeName(String(alias.data));
    }
    const records = answers.filter((a) => a.type === type && normalizeName(a.name) === current);
    if (records.length > 0) {
      for (const r of records) ttl = Math.min(ttl, r.ttl ?? 0);
      return { kind: "found", canonical: current, records, ttl };
    }
    // An SOA means the resolver chased the chain and the target has no such records.
    if (current === asked || hasSoa(packet)) {
      return { kind: "nodata", canonical: current, ttl: Math.min(ttl, negativeTtl(packet)) };
    }
    // The resolver stopped at a CNAME: ask for its target ourselves.
  }
}

class DohError extends Error {
  /** The resolver could not be reached or did not answer as one: our failure. */
  constructor(
    message: string,
    readonly unreachable = false,
  ) {
    super(message);
  }
}

async function dohQuery(name: string, type: LookupType, ctx: QueryContext): Promise<dnsPacket.DecodedPacket> {
  // ID 0 keeps GET answers HTTP-cacheable (RFC 8484 §4.1); HTTP pairs the answer with the question.
  const query = dnsPacket.encode({
    type: "query",
    id: 0,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name, class: "IN" }],
  });
  return ctx.limit(async () => {
    const signal = AbortSignal.timeout(ctx.timeoutMs);
    const body = await fetchMessage(query, ctx, signal);
    let packet: dnsPacket.DecodedPacket;
    try {
      packet = dnsPacket.decode(Buffer.from(body));
    } catch (err) {
      throw new DohError(`malformed DNS answer: ${errorMessage(err)}`);
    }
    const question = packet.questions?.[0];
    if (packet.type !== "response") throw new DohError("malformed DNS answer: not a response");
    if (question && (normalizeName(question.name) !== name || question.type !== type)) {
      throw new DohError(`answer is for ${question.type} ${question.name}, not the question asked`);
    }
    return packet;
  });
}

async function fetchMessage(query: Buffer, ctx: QueryContext, signal: AbortSignal): Promise<ArrayBuffer> {
  const timeoutText = `DoH request timed out after ${ctx.timeoutMs} ms`;
  try {
    const response = await ctx.fetcher(dohRequest(query, ctx), { signal });
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new DohError(`DoH server answered HTTP ${response.status}`, true);
    }
    const contentType = response.headers.get("content-type") ?? "";
    if (!contentType.toLowerCase().startsWith(DNS_MESSAGE)) {
      await response.body?.cancel();
      throw new DohError(`DoH server sent ${contentType || "no content type"}, not ${DNS_MESSAGE}`, true);
    }
    const body = await response.arrayBuffer();
    if (body.byteLength > MAX_MESSAGE_BYTES) throw new DohError("DoH answer larger than a DNS message");
    return body;
  } catch (err) {
    if (err instanceof DohError) throw err;
    if (signal.aborted) throw new DohError(timeoutText, true);
    throw new DohError(`DoH request failed: ${errorMessage(err)}`, true);
  }
}

function dohRequest(query: Buffer, ctx: QueryContext): Request {
  const headers = { accept: DNS_MESSAGE };
  if (ctx.method === "POST") {
    return new Request(ctx.dohUrl, {
      method: "POST",
      headers: { ...headers, "content-type": DNS_MESSAGE },
      body: new Uint8Array(query),
    });
  }
  const url = new URL(ctx.dohUrl);
  url.searchParams.set("dns", query.toString("base64url"));
  return new Request(url, { headers });
}

function hasSoa(packet: dnsPacket.DecodedPacket): boolean {
  return (packet.authorities ?? []).some((a) => a.type === "SOA");
}

/** RFC 2308 §5: a negative answer lives for min(SOA TTL, SOA MINIMUM). */
function negativeTtl(packet: dnsPacket.DecodedPacket): number {
  const soa = (packet.authorities ?? []).find((a): a is dnsPacket.SoaAnswer => a.type === "SOA");
  if (!soa) return DEFAULT_NEGATIVE_TTL;
  return Math.min(soa.ttl ?? DEFAULT_NEGATIVE_TTL, soa.data.minimum ?? DEFAULT_NEGATIVE_TTL);
}

function clampTtl(ttl: number): number {
  if (!Number.isFinite(ttl)) return MAX_TTL;
  return Math.min(MAX_TTL, Math.max(MIN_TTL, Math.floor(ttl)));
}

/** Lower case, no trailing dot; the root name "." becomes "". */
function normalizeName(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, "");
}

function errorResult(error: string): DnsResult {
  return { status: "error", hosts: [], ttl: MIN_TTL, error };
}

function unavailableResult(error: string): DnsResult {
  return { status: "unavailable", hosts: [], ttl: MIN_TTL, error };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ---- Caching ---------------------------------------------------------------

/** A cache shared across jobs (and isolates); it holds no "error" results. */
export interface DnsSharedCache {
  get(domain: string): Promise<DnsResult | null>;
  put(domain: string, result: DnsResult): Promise<void>;
}

export interface DnsResolverOptions {
  dohUrl: string;
  timeoutMs: number;
  sharedCache?: DnsSharedCache;
  fetcher?: typeof fetch;
  method?: "GET" | "POST";
  /** DoH requests in flight across all of this resolver's lookups. */
  maxParallelQueries?: number;
  /** Runs each DoH request: a caller's own limiter, shared with its other outgoing calls. */
  limiter?: QueryLimiter;
  /** Fails lookups fast while the resolver cannot be reached; share one across runs. */
  breaker?: ResolverBreaker;
  /** Reserved names (src/verify/reserved.ts) looked up like any other, e.g. ["test"] for a local test world. */
  resolveReserved?: readonly string[];
}

/**
 * Resolves mail hosts for one job's run: answers are memoised for their TTL
 * (errors for the 30 s minimum, so a broken domain is not re-asked for every
 * address), concurrent lookups of a domain share one resolution, and the
 * optional shared cache is read first and filled with every non-error answer.
 */
/** What a reserved name gets: no query is sent, and the answer never changes. */
const RESERVED_ANSWER: DnsResult = { status: "reserved", hosts: [], ttl: 86_400 };

export class DnsResolver {
  private readonly memo = new Map<string, { result: DnsResult; expiresAt: number }>();
  private readonly inFlight = new Map<string, Promise<DnsResult>>();
  private readonly hostCache = new Map<string, Promise<HostAddresses>>();
  // One limiter for every lookup: callers run several domains at once, and
  // the 6-connection budget is per invocation, not per domain.
  private readonly limiter: QueryLimiter;

  constructor(private readonly opts: DnsResolverOptions) {
    this.limiter = opts.limiter ?? queryLimiter(opts.maxParallelQueries ?? MAX_PARALLEL_QUERIES);
  }

  resolve(domain: string): Promise<DnsResult> {
    const key = normalizeName(domain);
    if (answersAsReserved(key, this.opts.resolveReserved ?? [])) return Promise.resolve(RESERVED_ANSWER);
    const memo = this.memo.get(key);
    if (memo && memo.expiresAt > Date.now()) return Promise.resolve(memo.result);
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const resolution = this.lookUp(key).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, resolution);
    return resolution;
  }

  private async lookUp(domain: string): Promise<DnsResult> {
    const cached = await this.opts.sharedCache?.get(domain).catch(() => null);
    if (cached) return this.remember(domain, cached);
    const { dohUrl, timeoutMs, fetcher, method, breaker } = this.opts;
    if (breaker && !breaker.allows()) return unavailableResult("DoH resolver unreachable (circuit open)");
    const result = await resolveMailHosts(domain, {
      dohUrl,
      timeoutMs,
      fetcher,
      method,
      limiter: this.limiter,
      hostCache: this.hostCache,
    });
    if (result.status === "unavailable") {
      // Our outage is asked again (after the caller's back-off), never remembered as the domain's answer.
      breaker?.unreachable(result.error ?? "unreachable");
      return result;
    }
    breaker?.reached();
    this.remember(domain, result);
    // A transient failure must not be served to other jobs; a failing cache must not fail the lookup.
    if (result.status !== "error") await this.opts.sharedCache?.put(domain, result).catch(() => {});
    return result;
  }

  private remember(domain: string, result: DnsResult): DnsResult {
    this.memo.set(domain, { result, expiresAt: Date.now() + result.ttl * 1000 });
    return result;
  }
}

const CACHE_ORIGIN = "https://dns-cache.mailvet.internal";
const DNS_STATUSES = new Set<string>([
  "ok",
  "implicit_mx",
  "null_mx",
  "nxdomain",
  "no_mail_host",
  "reserved",
  "error",
]);

/**
 * A DnsSharedCache on the Workers Cache API (pass `caches.default`). The
 * stored TTL drives eviction; reads return the TTL that is left, as a
 * recursive resolver does.
 */
export function cacheApiDnsCache(cache: Cache): DnsSharedCache {
  // Versioned so a change to the stored shape cannot be misread after a deploy.
  const keyFor = (domain: string) => `${CACHE_ORIGIN}/mx/v1/${encodeURIComponent(normalizeName(domain))}`;
  return {
    async get(domain) {
      const response = await cache.match(keyFor(domain));
      if (!response) return null;
      const stored: unknown = await response.json().catch(() => null);
      if (!isStoredAnswer(stored)) return null;
      const left = Math.ceil((stored.expiresAt - Date.now()) / 1000);
      return left > 0 ? { ...stored.result, ttl: left } : null;
    },
    async put(domain, result) {
      const ttl = clampTtl(result.ttl);
      const stored: StoredAnswer = { result, expiresAt: Date.now() + ttl * 1000 };
      await cache.put(
        keyFor(domain),
        new Response(JSON.stringify(stored), {
          headers: { "content-type": "application/json", "cache-control": `max-age=${ttl}` },
        }),
      );
    },
  };
}

interface StoredAnswer {
  result: DnsResult;
  expiresAt: number;
}

function isStoredAnswer(value: unknown): value is StoredAnswer {
  if (typeof value !== "object" || value === null) return false;
  const { result, expiresAt } = value as Partial<StoredAnswer>;
  return (
    typeof expiresAt === "number" &&
    typeof result === "object" &&
    result !== null &&
    DNS_STATUSES.has(result.status) &&
    Array.isArray(result.hosts) &&
    typeof result.ttl === "number"
  );
}
