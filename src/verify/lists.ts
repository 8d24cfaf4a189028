// List-based flags: disposable domain, free provider, role account, and a
// "did you mean" for typos of common providers. All lists come from
// maintained packages; the Sets are built once, when the module loads.

import { POPULAR_DOMAINS, run as suggestEmail } from "@zootools/email-spell-checker";
import { disposableEmailBlocklistSet } from "disposable-email-domains-js";
// The package's index.js loads this through createRequire, which workerd
// lacks; the JSON itself bundles fine.
import freeProviderDomains from "email-providers/all.json";
import commonProviderDomains from "email-providers/common.json";
// @ts-expect-error -- the package ships no type declarations; it exports string[].
import rolePrefixes from "role-based-email-addresses";
import { reservedNameOf } from "./reserved";
import type { ListFlags, SyntaxResult } from "./types";

const DISPOSABLE_DOMAINS: ReadonlySet<string> = disposableEmailBlocklistSet();
// Disposable wins: email-providers lists some throwaway services (mailinator.com,
// yopmail.com...) as providers. A domain is reported as one or the other, never both.
// The list also holds example.com: a reserved name is nobody's provider.
const FREE_DOMAINS: ReadonlySet<string> = new Set(
  (freeProviderDomains as string[]).filter(
    (domain) => !DISPOSABLE_DOMAINS.has(domain) && reservedNameOf(domain) === null,
  ),
);
const ROLE_LOCALS: ReadonlySet<string> = new Set(
  (rolePrefixes as string[]).map((role) => role.toLowerCase()),
);
// The well-known providers a typo is corrected to, and never corrected away
// from. Not the full free list: it also holds typo domains (gmai.com, yaho.com)
// that people reach only by mistyping.
const WELL_KNOWN_PROVIDERS: ReadonlySet<string> = new Set(
  [...POPULAR_DOMAINS, ...(commonProviderDomains as string[])].filter(
    (domain) => !DISPOSABLE_DOMAINS.has(domain),
  ),
);

export function checkLists(syntax: SyntaxResult): ListFlags {
  const domain = syntax.valid ? syntax.asciiDomain : domainOf(syntax.input);
  const local = syntax.valid ? syntax.local : localOf(syntax.input);
  const canSuggest = syntax.valid && !syntax.ipLiteral;
  return {
    disposable: isDisposableDomain(domain),
    role: isRoleLocal(local),
    free: isFreeDomain(domain),
    didYouMean: canSuggest ? suggestAddress(syntax.local, syntax.asciiDomain) : null,
  };
}

/** The domain or any parent of it is on the disposable list (x.y.mailinator.com counts). */
export function isDisposableDomain(domain: string): boolean {
  const labels = normaliseDomain(domain).split(".");
  // Stop before the bare TLD: the list holds registrable names, never a TLD.
  for (let i = 0; i < labels.length - 1; i++) {
    if (DISPOSABLE_DOMAINS.has(labels.slice(i).join("."))) return true;
  }
  return false;
}

/** A free mailbox provider (gmail.com, gmx.de...) that is not also a disposable one. */
export function isFreeDomain(domain: string): boolean {
  const name = normaliseDomain(domain);
  return FREE_DOMAINS.has(name) && !isDisposableDomain(name);
}

/** The local part names a role (info, sales, postmaster...), ignoring case and a +tag. */
export function isRoleLocal(local: string): boolean {
  const mailbox = unquote(local).toLowerCase();
  const plus = mailbox.indexOf("+");
  return ROLE_LOCALS.has(plus < 0 ? mailbox : mailbox.slice(0, plus));
}

/**
 * The likely intended domain when `address`'s domain looks like a typo of a
 * common provider (gmial.com -> gmail.com); null when the domain is fine or unknown.
 */
export function suggestDomain(address: string): string | null {
  const domain = domainOf(address);
  // The spelling checker measures the domain against every provider: costly, and
  // a list repeats its domains, so each is measured once per isolate.
  const known = SUGGESTIONS.get(domain);
  if (known !== undefined) return known;
  const suggestion = suggestFor(domain);
  if (SUGGESTIONS.size >= MAX_SUGGESTIONS) SUGGESTIONS.clear();
  SUGGESTIONS.set(domain, suggestion);
  return suggestion;
}

const SUGGESTIONS = new Map<string, string | null>();
const MAX_SUGGESTIONS = 50_000;

function suggestFor(domain: string): string | null {
  // A real provider is never "corrected" into another (mac.com is not a typo of mail.com).
  if (domain === "" || WELL_KNOWN_PROVIDERS.has(domain)) return null;
  // The checker parses the address itself; a plain local part keeps quoted
  // or exotic ones from confusing it.
  const suggestion = suggestEmail({ email: `x@${domain}` });
  if (!suggestion || suggestion.domain === domain) return null;
  // It also "fixes" TLDs of any domain (acme.co.za -> acme.co); only
  // corrections to a well-known provider are worth showing.
  return WELL_KNOWN_PROVIDERS.has(suggestion.domain) ? suggestion.domain : null;
}

function suggestAddress(local: string, domain: string): string | null {
  const suggested = suggestDomain(`${local}@${domain}`);
  return suggested === null ? null : `${local}@${suggested}`;
}

function domainOf(address: string): string {
  const at = address.lastIndexOf("@");
  return at < 0 ? "" : normaliseDomain(address.slice(at + 1));
}

function localOf(address: string): string {
  const at = address.lastIndexOf("@");
  return at < 0 ? "" : address.slice(0, at);
}

function normaliseDomain(domain: string): string {
  return domain.trim().toLowerCase().replace(/\.$/, "");
}

// "info"@x and info@x are the same mailbox.
function unquote(local: string): string {
  if (local.length < 2 || !local.startsWith('"') || !local.endsWith('"')) return local;
  return local.slice(1, -1).replace(/\\(.)/g, "$1");
}
