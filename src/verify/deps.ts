import type { Config } from "../config";
import { cacheApiDnsCache, DnsResolver } from "./dns";
import { type EngineDeps, engineLimits } from "./engine";

// Wires the engine to the runtime: DoH through fetch with the Cache API as the
// cross-job DNS cache, SMTP through the Durable Object that owns each MX host.

export function newResolver(cfg: Config): DnsResolver {
  return new DnsResolver({
    dohUrl: cfg.dohUrl,
    timeoutMs: cfg.dnsTimeoutMs,
    sharedCache: cacheApiDnsCache(caches.default),
  });
}

export function engineDeps(env: Env, cfg: Config, dns: DnsResolver): EngineDeps {
  const deps: EngineDeps = { resolve: (domain) => dns.resolve(domain), ...engineLimits() };
  if (cfg.smtpMode !== "off") {
    deps.probe = (primaryMx, req) => env.MX.get(env.MX.idFromName(primaryMx)).probe(req);
  }
  return deps;
}
