// Moves waiting addresses on: the checks that need no mail server (syntax,
// lists, DNS) run here, and every address that needs SMTP is handed to the
// host object of its domain's primary exchanger with one short call per host.
// Answers that need no mail server are recorded at once.

import type { NewResult } from "../db/results";
import { hostKey } from "../mx/key";
import type { HostRecipient } from "../mx/protocol";
import { verdictDetail } from "../verify/detail";
import { checkLists } from "../verify/lists";
import { checkSyntax } from "../verify/syntax";
import type { CheckResults, DnsResult, SmtpResult } from "../verify/types";
import { verdict } from "../verify/verdict";
import type { JobStore, WaitingAddress } from "./store";

export interface DispatchDeps {
  jobId: string;
  store: JobStore;
  resolve(domain: string): Promise<DnsResult>;
  /** Hands recipients to one host object; resolves once they are stored there. */
  enqueue(host: string, recipients: HostRecipient[]): Promise<void>;
  /** SMTP_MODE is not off. */
  smtp: boolean;
  /** How long an address may wait for "try again later" servers. */
  deadlineMs: number;
  atomically(fn: () => void): void;
  /** Whether the job still wants work done (a cancel may land during any await). */
  live(): boolean;
}

/** Dispatches addresses; throws after the others went through when a host could not be reached. */
export async function dispatch(addresses: readonly WaitingAddress[], deps: DispatchDeps): Promise<void> {
  const now = Date.now();
  const checked = addresses.map((a) => ({ position: a.position, check: preflight(a.email, deps.smtp) }));
  const domains = new Set(
    checked
      .filter(({ check }) => check.syntax.valid && !check.syntax.ipLiteral)
      .map(({ check }) => check.syntax.asciiDomain),
  );
  const dns = new Map<string, DnsResult>();
  await Promise.all(
    [...domains].map(async (domain) => {
      dns.set(domain, deps.store.dns(domain) ?? (await deps.resolve(domain)));
    }),
  );
  if (!deps.live()) return;

  const byHost = new Map<string, HostRecipient[]>();
  const answeredNow: typeof checked = [];
  for (const item of checked) {
    const domain = item.check.syntax.asciiDomain;
    item.check.dns = dns.get(domain) ?? null;
    const primary = item.check.dns?.hosts[0];
    const mailable = item.check.dns?.status === "ok" || item.check.dns?.status === "implicit_mx";
    if (!deps.smtp || !mailable || !primary || !item.check.syntax.valid || item.check.syntax.ipLiteral) {
      answeredNow.push(item);
      continue;
    }
    const key = hostKey(primary);
    byHost.set(key, [
      ...(byHost.get(key) ?? []),
      {
        job: deps.jobId,
        position: item.position,
        address: item.check.syntax.address,
        domain,
        mx: primary,
        fallback: item.check.dns!.hosts.slice(1),
        // Disposable domains are risky whatever the server says: only the catch-all flag is asked.
        probeOnly: item.check.flags.disposable,
        deadlineAt: now + deps.deadlineMs,
      },
    ]);
  }
  deps.atomically(() => {
    for (const [domain, result] of dns) deps.store.rememberDns(domain, result);
    for (const { position, check } of answeredNow)
      deps.store.answer(position, resultRow(deps, position, check));
  });

  const failures: unknown[] = [];
  await Promise.all(
    [...byHost].map(async ([host, recipients]) => {
      try {
        await deps.enqueue(host, recipients);
        deps.atomically(() =>
          deps.store.sentToHost(
            recipients.map((r) => r.position),
            host,
            now,
          ),
        );
      } catch (err) {
        // A passing failure of our own: the addresses stay waiting and go out again.
        failures.push(err);
      }
    }),
  );
  if (failures.length)
    throw new Error(`${failures.length} host object(s) unreachable: ${String(failures[0])}`);
}

/** A host's answer for one address becomes its result row. */
export function answerRow(
  deps: Pick<DispatchDeps, "jobId" | "store">,
  position: number,
  email: string,
  smtp: SmtpResult,
): NewResult {
  const check = preflight(email, true);
  check.dns = deps.store.dns(check.syntax.asciiDomain);
  check.smtp = smtp;
  return resultRow(deps, position, check);
}

function preflight(email: string, smtp: boolean): CheckResults {
  const syntax = checkSyntax(email);
  return { syntax, flags: checkLists(syntax), dns: null, smtp: null, smtpDisabled: !smtp };
}

function resultRow(
  deps: Pick<DispatchDeps, "jobId" | "store">,
  position: number,
  check: CheckResults,
): NewResult {
  const v = verdict(check);
  const input = deps.store.address(position);
  return {
    jobId: deps.jobId,
    position,
    email: input?.email ?? check.syntax.input,
    result: v.result,
    catchAll: v.catchAll,
    reason: v.reason,
    score: v.score,
    detail: JSON.stringify(verdictDetail(v)),
    extra: input?.extra ?? null,
  };
}
