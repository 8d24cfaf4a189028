// Builds a mail world from its parameters: the DNS zone, the SMTP servers
// (one loopback address each), the mailboxes behind them, the list to verify
// and the ground truth for every address in it. Pure and seeded.

import { domainToASCII } from "node:url";
import { pick, seededRandom, shuffle } from "../../scripts/lib/random";
import type { RecordSet } from "../../test/fixtures/world";
import {
  COMPANY_SUFFIXES,
  COMPANY_WORDS,
  DISPOSABLE_DOMAINS,
  FIRST_NAMES,
  IDN_WORDS,
  LAST_NAMES,
  PROVIDER_NAMES,
  ROLE_LOCALS,
} from "./names";
import type { Behaviour, MailboxState, ServerBehaviour, SpecialBehaviour, WorldParams } from "./params";
import { apportion, zipfWeights } from "./random";
import { mailboxBehaviour, type ResultClass, truthFor } from "./truth";

export interface MxServer {
  ip: string;
  host: string;
  /** Other host names with an A record to the same address: the same server under another name. */
  aliases?: string[];
  behaviour: ServerBehaviour;
  /** Why it exists: a big provider, shared hosting, a domain's own host, or a special behaviour. */
  role: string;
}

export interface TruthRecord {
  email: string;
  result: ResultClass;
  catch_all: boolean;
  behaviour: Behaviour;
  /** A-label domain, "" for syntax garbage. */
  domain: string;
}

/** What a perfect verifier must send to one MX address: its recipients, over how many domains. */
export interface MxLoad {
  ip: string;
  /** Every name of the server ("mx1.hostco.test = mail.hostco.test" for one with two names). */
  host: string;
  behaviour: ServerBehaviour;
  /** The server's role (provider, hosting, own, or the special behaviour it was made for). */
  role: string;
  rcpts: number;
  domains: number;
}

export interface World {
  params: WorldParams;
  /** The list to verify, in input order. */
  list: string[];
  truth: Map<string, TruthRecord>;
  zone: Record<string, RecordSet[]>;
  servers: MxServer[];
  /** Addresses that MX records point at but nothing listens on. */
  deadIps: string[];
  /** "local@a-label-domain" (lower case) → state; absent means 550 5.1.1. */
  mailboxes: Map<string, MailboxState>;
  load: MxLoad[];
}

const TLD = "test";
/** Behaviours of which every server answers RCPT with something about mailboxes. */
const PROBED_FOR_CATCH_ALL: ReadonlySet<ServerBehaviour> = new Set([
  "normal",
  "catch_all",
  "greylist",
  "greylist_catch_all",
  "rate_limit",
  "conn_rate",
]);

/** Special behaviours whose domains all name one server as their MX (at least `minSharedServerDomains` of them). */
const ONE_SERVER_FOR_ALL: ReadonlySet<SpecialBehaviour> = new Set([
  "tarpit_shared",
  "conn_rate",
  "hosting_two_names",
]);

export function generateWorld(params: WorldParams): World {
  const rand = seededRandom(params.seed);
  const builder = new WorldBuilder(params, rand);
  const special = Object.entries(params.shares) as [SpecialBehaviour, number][];
  const specialCounts = special.map(([kind, share]) => [kind, Math.round(share * params.emails)] as const);
  const ordinary = params.emails - specialCounts.reduce((sum, [, n]) => sum + n, 0);

  builder.ordinaryDomains(ordinary);
  for (const [kind, count] of specialCounts) {
    if (count > 0) builder.specialDomains(kind, count);
  }
  return builder.finish();
}

class WorldBuilder {
  private readonly zone: Record<string, RecordSet[]> = {};
  private readonly servers: MxServer[] = [];
  private readonly deadIps: string[] = [];
  private readonly mailboxes = new Map<string, MailboxState>();
  private readonly truth = new Map<string, TruthRecord>();
  private readonly list: string[] = [];
  private readonly load = new Map<string, MxLoad>();
  private readonly usedDomains = new Set<string>();
  private ipCounter = 0;
  private domainCounter = 0;
  private garbageCounter = 0;
  private readonly ordinaryNames: string[] = [];
  /** The one server of each behaviour in ONE_SERVER_FOR_ALL, once made. */
  private readonly sharedServers = new Map<SpecialBehaviour, MxServer>();

  constructor(
    private readonly params: WorldParams,
    private readonly rand: () => number,
  ) {}

  ordinaryDomains(total: number): void {
    const { params, rand } = this;
    const counts = apportion(total, zipfWeights(params.domains, params.zipfExponent));
    const hosting = Array.from({ length: params.hostingMxHosts }, (_, k) =>
      this.addServer(`mx${k + 1}.hostingco.${TLD}`, "normal", "hosting"),
    );
    counts.forEach((count, rank) => {
      const provider = rank < params.providers;
      const domain = provider ? this.providerDomain(rank) : this.companyDomain();
      this.ordinaryNames.push(domain);
      let target: MxServer;
      if (provider) target = this.addServer(`mx.${domain}`, "normal", "provider");
      else if (hosting.length && rand() < params.hostedShare) target = pick(rand, hosting);
      else target = this.addServer(`mail.${domain}`, "normal", "own");
      this.setMx(domain, [{ preference: 10, exchange: target.host }]);
      this.populate(domain, domain, count, null, target);
    });
  }

  specialDomains(kind: SpecialBehaviour, count: number): void {
    if (kind === "syntax") {
      for (let i = 0; i < count; i++) this.addGarbage();
      return;
    }
    const per = this.params.addressesPerSpecialDomain;
    const domainCount =
      kind === "disposable"
        ? Math.min(DISPOSABLE_DOMAINS.length, Math.max(1, Math.ceil(count / per)))
        : ONE_SERVER_FOR_ALL.has(kind)
          ? Math.min(count, Math.max(this.params.minSharedServerDomains, Math.round(count / per)))
          : Math.max(1, Math.round(count / per));
    const counts = apportion(count, Array(domainCount).fill(1 / domainCount));
    counts.forEach((n, i) => {
      const { unicode, ascii } = this.specialDomainName(kind, i);
      this.populate(unicode, ascii, n, kind, this.wireSpecial(kind, ascii, i));
    });
  }

  finish(): World {
    shuffle(this.rand, this.list);
    return {
      params: this.params,
      list: this.list,
      truth: this.truth,
      zone: this.zone,
      servers: this.servers,
      deadIps: this.deadIps,
      mailboxes: this.mailboxes,
      load: [...this.load.values()].filter((l) => l.rcpts > 0),
    };
  }

  /** Puts a special domain in DNS; returns the server a perfect verifier asks, or null when none is asked. */
  private wireSpecial(kind: SpecialBehaviour, domain: string, index: number): MxServer | null {
    switch (kind) {
      case "catch_all":
      case "greylist":
      case "greylist_catch_all":
      case "rate_limit":
      case "blocked":
      case "tarpit": {
        const server = this.addServer(`mail.${domain}`, kind, kind);
        this.setMx(domain, [{ preference: 10, exchange: server.host }]);
        // Nothing to ask a tarpit: it never says hello.
        return kind === "tarpit" ? null : server;
      }
      case "tarpit_shared": {
        // One tarpit behind many domains: a verifier that knows hosts, not only domains, waits once.
        const server = this.sharedServer(kind, `mx.tarpithost.${TLD}`, "tarpit");
        this.setMx(domain, [{ preference: 10, exchange: server.host }]);
        return null;
      }
      case "conn_rate": {
        const server = this.sharedServer(kind, `smtp.throttlehost.${TLD}`, "conn_rate");
        this.setMx(domain, [{ preference: 10, exchange: server.host }]);
        return server;
      }
      case "hosting_two_names": {
        // One server, two names: the domains alternate between them.
        const server = this.sharedServer(kind, `mx1.hostco.${TLD}`, "normal", [`mail.hostco.${TLD}`]);
        const names = [server.host, ...(server.aliases ?? [])];
        this.setMx(domain, [{ preference: 10, exchange: names[index % names.length] as string }]);
        return server;
      }
      case "disposable": {
        // A working server; a perfect verifier knows the answer from the list and need not ask.
        const server = this.addServer(`mx.${domain}`, "normal", kind);
        this.setMx(domain, [{ preference: 10, exchange: server.host }]);
        return null;
      }
      case "idn": {
        const server = this.addServer(`mx.${domain}`, "normal", kind);
        this.setMx(domain, [{ preference: 10, exchange: server.host }]);
        return server;
      }
      case "implicit_mx":
        // The domain's own A record is the exchanger.
        return this.addServer(domain, "normal", kind);
      case "backup_mx": {
        const dead = this.takeIp();
        this.deadIps.push(dead);
        this.zone[`mx1.${domain}`] = [{ type: "A", address: dead }];
        const backup = this.addServer(`mx2.${domain}`, "normal", kind);
        this.setMx(domain, [
          { preference: 10, exchange: `mx1.${domain}` },
          { preference: 20, exchange: backup.host },
        ]);
        return backup;
      }
      case "null_mx":
        this.setMx(domain, [{ preference: 0, exchange: "." }]);
        return null;
      case "nxdomain":
        return null; // absent from the zone
      case "syntax":
        return null;
    }
  }

  /** Adds `count` addresses on a domain, their mailboxes and their truth. */
  private populate(
    unicodeDomain: string,
    asciiDomain: string,
    count: number,
    kind: SpecialBehaviour | null,
    server: MxServer | null,
  ): void {
    if (count === 0) return;
    const used = new Set<string>();
    for (let i = 0; i < count; i++) {
      const local = this.localPart(used);
      const state = this.mailboxState();
      const email = `${local}@${unicodeDomain}`;
      const behaviour = kind ?? mailboxBehaviour(state);
      const t = truthFor(behaviour, state);
      if (state !== "unknown") this.mailboxes.set(`${local}@${asciiDomain}`.toLowerCase(), state);
      this.addAddress({ email, result: t.result, catch_all: t.catchAll, behaviour, domain: asciiDomain });
    }
    if (!server) return;
    const load = this.loadOf(server);
    load.rcpts += count;
    load.domains++;
    // One random recipient per domain tells a perfect verifier whether it accepts everything.
    if (PROBED_FOR_CATCH_ALL.has(server.behaviour)) load.rcpts++;
  }

  private addGarbage(): void {
    const n = `${pick(this.rand, FIRST_NAMES)}${++this.garbageCounter}`;
    const d = this.ordinaryNames.length ? pick(this.rand, this.ordinaryNames) : `example.${TLD}`;
    const forms = [
      () => n, // no @
      () => `${n}@`, // no domain
      () => `@${n}.${TLD}`, // no local part
      () => `${n}@@${d}`,
      () => `${n} ${pick(this.rand, LAST_NAMES)}@${d}`, // unquoted space
      () => `${n}..x@${d}`, // consecutive dots
      () => `.${n}@${d}`, // leading dot
      () => `${n}@-${d}`, // label starts with a hyphen
      () => `${n}@${d.split(".")[0]}`, // no dot in the domain
      () => `"${n}@${d}`, // unbalanced quote
    ];
    const email = forms[this.garbageCounter % forms.length]!();
    this.addAddress({ email, result: "undeliverable", catch_all: false, behaviour: "syntax", domain: "" });
  }

  private addAddress(record: TruthRecord): void {
    this.truth.set(record.email, record);
    this.list.push(record.email);
  }

  private addServer(
    host: string,
    behaviour: ServerBehaviour,
    role: string,
    aliases: string[] = [],
  ): MxServer {
    const server: MxServer = {
      ip: this.takeIp(),
      host,
      behaviour,
      role,
      ...(aliases.length ? { aliases } : {}),
    };
    this.servers.push(server);
    for (const name of [host, ...aliases])
      this.zone[name] = [...(this.zone[name] ?? []), { type: "A", address: server.ip }];
    return server;
  }

  /** The one server all domains of `kind` name as MX, made on first use. */
  private sharedServer(
    kind: SpecialBehaviour,
    host: string,
    behaviour: ServerBehaviour,
    aliases: string[] = [],
  ): MxServer {
    let server = this.sharedServers.get(kind);
    if (!server) {
      server = this.addServer(host, behaviour, kind, aliases);
      this.sharedServers.set(kind, server);
    }
    return server;
  }

  private setMx(domain: string, records: { preference: number; exchange: string }[]): void {
    this.zone[domain] = records.map((r) => ({ type: "MX" as const, ...r }));
  }

  private loadOf(server: MxServer): MxLoad {
    let load = this.load.get(server.ip);
    if (!load) {
      const host = [server.host, ...(server.aliases ?? [])].join(" = ");
      load = { ip: server.ip, host, behaviour: server.behaviour, role: server.role, rcpts: 0, domains: 0 };
      this.load.set(server.ip, load);
    }
    return load;
  }

  /** 127.1.0.1, 127.1.0.2, … skipping .0 and .255 in the last octet. */
  private takeIp(): string {
    const i = this.ipCounter++;
    const low = (i % 254) + 1;
    const mid = Math.floor(i / 254);
    return `127.${1 + Math.floor(mid / 256)}.${mid % 256}.${low}`;
  }

  private providerDomain(rank: number): string {
    const base = PROVIDER_NAMES[rank] ?? `provider${rank}`;
    return this.claimDomain(`${base}.${TLD}`);
  }

  private companyDomain(): string {
    const name = `${pick(this.rand, COMPANY_WORDS)}${pick(this.rand, COMPANY_SUFFIXES)}${++this.domainCounter}`;
    return this.claimDomain(`${name}.${TLD}`);
  }

  private specialDomainName(kind: SpecialBehaviour, i: number): { unicode: string; ascii: string } {
    if (kind === "disposable") {
      const name = DISPOSABLE_DOMAINS[i % DISPOSABLE_DOMAINS.length]!;
      return { unicode: name, ascii: this.claimDomain(name) };
    }
    if (kind === "idn") {
      const unicode = `${IDN_WORDS[i % IDN_WORDS.length]}${++this.domainCounter}.${TLD}`;
      const ascii = domainToASCII(unicode);
      if (!ascii) throw new Error(`cannot convert IDN ${unicode}`);
      this.claimDomain(ascii);
      return { unicode, ascii };
    }
    const ascii = this.companyDomain();
    return { unicode: ascii, ascii };
  }

  private claimDomain(domain: string): string {
    if (this.usedDomains.has(domain)) throw new Error(`domain ${domain} generated twice`);
    this.usedDomains.add(domain);
    return domain;
  }

  private localPart(used: Set<string>): string {
    const { rand } = this;
    for (let attempt = 0; attempt < 100; attempt++) {
      const f = pick(rand, FIRST_NAMES);
      const l = pick(rand, LAST_NAMES);
      const forms = [`${f}.${l}`, `${f}${l[0]}`, `${f[0]}${l}`, `${f}_${l}`, f, `${l}.${f}`];
      let local = rand() < 0.04 ? pick(rand, ROLE_LOCALS) : pick(rand, forms);
      if (attempt > 2) local += String(Math.floor(rand() * 10_000));
      if (!used.has(local)) {
        used.add(local);
        return local;
      }
    }
    const fallback = `user${used.size}`;
    used.add(fallback);
    return fallback;
  }

  private mailboxState(): MailboxState {
    const mix = this.params.mailboxMix;
    let x = this.rand() * (mix.exists + mix.unknown + mix.full + mix.disabled);
    for (const state of ["exists", "unknown", "full", "disabled"] as const) {
      x -= mix[state];
      if (x < 0) return state;
    }
    return "exists";
  }
}
