// Moves waiting addresses on: the checks that need no mail server (syntax,
// lists, DNS) run here, and every address that needs SMTP is handed to the
// host object of its domain's primary exchanger with one short call per host.
// Answers that need no mail server are recorded at once. When our own
// infrastructure fails (the DoH resolver, a host object), the address is not
// answered: it waits, with a growing back-off, and only at its deadline gets
// an honest "unavailable" answer that names what failed.

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
  /** Hands recipients to one host object; resolves once they are stored there, false when the job stopped first. */
  enqueue(host: string, recipients: HostRecipient[]): Promise<boolean>;
  /** The job's run (it grows with every resume); hosts refuse runs they were told to drop. */
  epoch: number;
  /** How long an address may wait for an unreachable resolver, and for an unreachable host object. */
  dnsRetryDeadlineMs: number;
  /** SMTP_MODE is not off. */
  smtp: boolean;
  /** How long an address may wait for "try again later" servers. */
  deadlineMs: number;
  atomically(fn: () => void): void;
  /** Whether the job still wants work done (a cancel may land during any await). */
  live(): boolean;
}

/** First wait after our infrastructure failed an address; it doubles up to the ceiling. */
const DEFER_BASE_MS = 1000;
const DEFER_CEILING_MS = 30_000;

/** Dispatches addresses; addresses our infrastructure failed wait for a later turn. */
export async function dispatch(addresses: readonly WaitingAddress[], deps: DispatchDeps): Promise<void> {
  const now = Date.now();
  const byPosition = new Map(addresses.map((a) => [a.position, a]));
  const deferred: WaitingAddress[] = [];
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
    if (item.check.dns?.status === "unavailable") {
      const address = byPosition.get(item.position)!;
      if (pastDeadline(address, now, deps.dnsRetryDeadlineMs)) answeredNow.push(item);
      else deferred.push(address);
      continue;
    }
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
        epoch: deps.epoch,
      },
    ]);
  }
  deps.atomically(() => {
    for (const [domain, result] of dns)
      if (result.status !== "unavailable") deps.store.rememberDns(domain, result);
    for (const { position, check } of answeredNow)
      deps.store.answer(position, resultRow(deps, position, check));
    deferAll(deps, deferred, now, deps.dnsRetryDeadlineMs);
    // Marked before the calls: a cancel while they are under way tells these hosts too.
    for (const [host, recipients] of byHost)
      deps.store.sentToHost(
        recipients.map((r) => r.position),
        host,
        now,
      );
  });

  let failed = 0;
  let firstError: unknown = null;
  await Promise.all(
    [...byHost].map(async ([host, recipients]) => {
      try {
        await deps.enqueue(host, recipients);
      } catch (err) {
        // A passing failure of our own: the addresses wait and go out again, until their deadline.
        failed++;
        firstError ??= err;
        const waiting = recipients.map((r) => byPosition.get(r.position)!);
        if (!deps.live()) return;
        deps.atomically(() => {
          const late = waiting.filter((a) => pastDeadline(a, Date.now(), deps.deadlineMs));
          deferAll(
            deps,
            waiting.filter((a) => !late.includes(a)),
            Date.now(),
            deps.deadlineMs,
          );
          for (const a of late)
            deps.store.answer(
              a.position,
              answerRow(deps, a.position, a.email, unavailable("mx_object_unavailable")),
            );
        });
      }
    }),
  );
  if (failed)
    console.error(
      JSON.stringify({
        msg: "host objects unreachable",
        job: deps.jobId,
        hosts: failed,
        error: String(firstError),
      }),
    );
}

function pastDeadline(address: WaitingAddress, now: number, deadlineMs: number): boolean {
  return address.deferredSince !== null && now - address.deferredSince >= deadlineMs;
}

/** Each address waits for its next turn: the wait doubles with each deferral, and never passes the deadline. */
function deferAll(
  deps: Pick<DispatchDeps, "store">,
  addresses: readonly WaitingAddress[],
  now: number,
  deadlineMs: number,
): void {
  const byDue = new Map<number, number[]>();
  for (const a of addresses) {
    const wait = Math.min(DEFER_CEILING_MS, DEFER_BASE_MS * 2 ** Math.min(a.deferrals, 16));
    const due = Math.min(now + wait, (a.deferredSince ?? now) + deadlineMs);
    byDue.set(due, [...(byDue.get(due) ?? []), a.position]);
  }
  for (const [due, positions] of byDue) deps.store.defer(positions, due, now);
}

function unavailable(status: "mx_object_unavailable"): SmtpResult {
  return { status, reply: null, mxHost: null, catchAll: null };
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
