import pLimit, { type LimitFunction } from "p-limit";
import type { MxProbeRequest, MxProbeResult } from "../mx/protocol";
import { checkLists } from "./lists";
import { checkSyntax } from "./syntax";
import type { CheckResults, DnsResult, SmtpResult } from "./types";

// Runs the checks for a batch of addresses: syntax and lists locally, DNS once
// per domain, SMTP once per domain in one conversation. Jobs do not come
// here: they queue their addresses at host objects (src/job/dispatch.ts).
// This serves direct validation of a few addresses.
// I/O comes in through `deps`, so this file only orders the work.

export interface EngineDeps {
  resolve(domain: string): Promise<DnsResult>;
  /** Probes one domain's mailboxes; absent when SMTP is off. */
  probe?: (primaryMx: string, req: MxProbeRequest) => Promise<MxProbeResult>;
  /** Runs each probe: the invocation's bound on outgoing connections (the resolver shares it). */
  outbound?: LimitFunction;
}

/** A Worker invocation may hold 6 outgoing connections at once. */
const OUTBOUND = 6;

/** Checks every address and returns the results in input order. */
export async function checkAddresses(emails: readonly string[], deps: EngineDeps): Promise<CheckResults[]> {
  const out = new Array<CheckResults>(emails.length);
  await streamChecks(emails, deps, (i, check) => {
    out[i] = check;
  });
  return out;
}

/**
 * Checks every address and hands each result to `emit` as soon as it is
 * known: syntax failures at once, DNS-level verdicts when their domain
 * resolves, mailbox answers when their domain's SMTP probe returns. A slow
 * mail server therefore holds back only its own domain's addresses.
 */
export async function streamChecks(
  emails: readonly string[],
  deps: EngineDeps,
  emit: (index: number, check: CheckResults) => void,
): Promise<void> {
  const outbound = deps.outbound ?? pLimit(OUTBOUND);
  const byDomain = new Map<string, { index: number; check: CheckResults }[]>();
  emails.forEach((email, index) => {
    const syntax = checkSyntax(email);
    const check: CheckResults = {
      syntax,
      flags: checkLists(syntax),
      dns: null,
      smtp: null,
      smtpDisabled: !deps.probe,
    };
    if (!syntax.valid || syntax.ipLiteral) {
      emit(index, check);
      return;
    }
    const group = byDomain.get(syntax.asciiDomain) ?? [];
    group.push({ index, check });
    byDomain.set(syntax.asciiDomain, group);
  });

  await Promise.all(
    [...byDomain].map(async ([domain, group]) => {
      const dns = await deps.resolve(domain);
      const toProbe: typeof group = [];
      for (const item of group) {
        item.check.dns = dns;
        // Disposable domains are risky whatever their server says: no need to knock.
        const mailable = dns.status === "ok" || dns.status === "implicit_mx";
        if (deps.probe && mailable && !item.check.flags.disposable && dns.hosts[0]) toProbe.push(item);
        else emit(item.index, item.check);
      }
      if (!toProbe.length || !deps.probe) return;
      const probe = deps.probe;
      const primary = dns.hosts[0]!;
      const addresses = [...new Set(toProbe.map((item) => item.check.syntax.address))];
      let results: Record<string, SmtpResult>;
      try {
        ({ results } = await outbound(() => probe(primary.host, { domain, hosts: dns.hosts, addresses })));
      } catch (err) {
        // The prober or the socket layer failed: an honest unknown, never a guess.
        const failed: SmtpResult = { status: "error", reply: null, mxHost: primary.host, catchAll: null };
        results = Object.fromEntries(addresses.map((a) => [a, failed]));
        console.error(JSON.stringify({ msg: "probe failed", domain, error: String(err) }));
      }
      for (const item of toProbe) {
        item.check.smtp = results[item.check.syntax.address] ?? null;
        emit(item.index, item.check);
      }
    }),
  );
}
