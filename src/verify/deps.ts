import pLimit from "p-limit";
import type { Config } from "../config";
import { readProberConfig, readSmtpConfig } from "../config";
import { ProberPool } from "../mx/prober-pool";
import { RelayClient } from "../mx/relay";
import { cacheApiDnsCache, DnsResolver, type QueryLimiter } from "./dns";
import type { EngineDeps } from "./engine";
import { probeDomain } from "./smtp";
import { connectSocket } from "./smtp-socket";

// Wires the engine to the runtime for direct validation: DoH through fetch
// with the Cache API as the cross-job DNS cache, SMTP over a socket (direct)
// or through the prober (relay). Every outgoing connection of the request
// shares one bound of 6, the platform's limit per invocation.

const OUTBOUND = 6;

export function newResolver(cfg: Config, limiter?: QueryLimiter): DnsResolver {
  return new DnsResolver({
    dohUrl: cfg.dohUrl,
    timeoutMs: cfg.dnsTimeoutMs,
    sharedCache: cacheApiDnsCache(caches.default),
    limiter,
    resolveReserved: cfg.resolveReserved,
  });
}

export function engineDeps(env: Env, cfg: Config): EngineDeps {
  const outbound = pLimit(OUTBOUND);
  const dns = newResolver(cfg, outbound);
  const deps: EngineDeps = { resolve: (domain) => dns.resolve(domain), outbound };
  const smtp = readSmtpConfig(env);
  if (cfg.smtpMode === "direct") {
    deps.probe = async (_mx, req) => probeDomain({ ...req, catchAllKnown: null }, smtp, connectSocket);
  } else if (cfg.smtpMode === "relay") {
    const probers = readProberConfig(env);
    const pool = new ProberPool(probers.urls, { downMs: probers.downMs });
    const relay = new RelayClient({ pool, secret: probers.secret, smtp });
    deps.probe = async (_mx, req) => relay.probe({ ...req, catchAllKnown: null });
  }
  return deps;
}
