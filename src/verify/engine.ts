import { mapLimit } from "../lib/concurrency";
import type { MxProbeRequest, MxProbeResult } from "../mx/protocol";
import { checkLists } from "./lists";
import { checkSyntax } from "./syntax";
import type { CheckResults, DnsResult, SmtpResult } from "./types";

// Runs the checks for a batch of addresses: syntax and lists locally, DNS once
// per domain, SMTP once per domain through the object that owns its MX host.
// I/O comes in through `deps`, so this file only orders the work.

export interface EngineDeps {
  resolve(domain: string): Promise<DnsResult>;
  /** Probes one domain's mailboxes through the MX object of its primary MX; absent when SMTP is off. */
  probe?: (primaryMx: string, req: MxProbeRequest) => Promise<MxProbeResult>;
}

/** DoH lookups in flight at once: a Worker invocation has 6 outgoing connections. */
const DNS_PARALLEL = 4;
/** MX objects called at once; each runs its own sockets under its own politeness cap. */
const PROBE_PARALLEL = 16;

export async function checkAddresses(emails: readonly string[], deps: EngineDeps): Promise<CheckResults[]> {
  const checks: CheckResults[] = emails.map((email) => {
    const syntax = checkSyntax(email);
    return { syntax, flags: checkLists(syntax), dns: null, smtp: null, smtpDisabled: !deps.probe };
  });

  const checkable = checks.filter((c) => c.syntax.valid && !c.syntax.ipLiteral);
  const domains = [...new Set(checkable.map((c) => c.syntax.asciiDomain))];
  const answers = new Map<string, DnsResult>();
  await mapLimit(domains, DNS_PARALLEL, async (domain) => {
    answers.set(domain, await deps.resolve(domain));
  });
  for (const c of checkable) c.dns = answers.get(c.syntax.asciiDomain) ?? null;

  const probe = deps.probe;
  if (!probe) return checks;

  // Disposable domains are risky whatever their server says: no need to knock.
  const byDomain = new Map<string, CheckResults[]>();
  for (const c of checkable) {
    const status = c.dns?.status;
    if ((status !== "ok" && status !== "implicit_mx") || c.flags.disposable) continue;
    const list = byDomain.get(c.syntax.asciiDomain) ?? [];
    list.push(c);
    byDomain.set(c.syntax.asciiDomain, list);
  }

  await mapLimit([...byDomain], PROBE_PARALLEL, async ([domain, group]) => {
    const hosts = answers.get(domain)?.hosts ?? [];
    const primary = hosts[0];
    if (!primary) return;
    const addresses = group.map((c) => c.syntax.address);
    let results: Record<string, SmtpResult>;
    try {
      ({ results } = await probe(primary.host, { domain, hosts, addresses }));
    } catch (err) {
      // The MX object or the prober failed: an honest unknown, never a guess.
      const failed: SmtpResult = { status: "error", reply: null, mxHost: primary.host, catchAll: null };
      results = Object.fromEntries(addresses.map((a) => [a, failed]));
      console.error(JSON.stringify({ msg: "probe failed", domain, error: String(err) }));
    }
    for (const c of group) c.smtp = results[c.syntax.address] ?? null;
  });
  return checks;
}
