// Address lists over the fixture world (test/fixtures/world.ts), seeded so a
// run can be repeated. Every list is free of duplicates under mailvet's own
// rule (local part as given, domain lower-cased, trimmed), so "one result per
// submitted address" can be checked exactly.

import { MAILBOXES } from "../../test/fixtures/world";
import { shuffle } from "./random";

/** How many addresses of each kind; the rest of `total` are unknown users at normal.test (550 5.1.1). */
export interface Mix {
  /** Existing mailboxes on domains served by the normal MX (alias, implicit, backup, IDN, free). */
  realMailboxes: boolean;
  catchAll: number;
  greylist: number;
  nullMx: number;
  /** Spread over ten names that do not exist (NXDOMAIN). */
  noSuchDomain: number;
  syntaxGarbage: number;
  disposable: number;
  blocked: number;
  /** A few of each: nomail, lame, deadmx, servfail, mxfail, drop, rcptlimit, conncap, m365. */
  oddHostsEach: number;
  /** Rate-limited host: 421 then a back-off, so these wait until the deferral deadline. */
  rateLimited: number;
  /** Never answers: each batch holding one waits for the SMTP timeout. Keep it tiny. */
  tarpit: number;
}

export const NO_MIX: Mix = {
  realMailboxes: false,
  catchAll: 0,
  greylist: 0,
  nullMx: 0,
  noSuchDomain: 0,
  syntaxGarbage: 0,
  disposable: 0,
  blocked: 0,
  oddHostsEach: 0,
  rateLimited: 0,
  tarpit: 0,
};

const REAL_MAILBOX_DOMAINS = [
  "normal.test",
  "alias.test",
  "implicit.test",
  "backup.test",
  "xn--bcher-kva.test",
  "gmail.com",
  "m365.test",
  "greylist.test",
];
const ODD_DOMAINS = [
  "nomail.test",
  "lame.test",
  "deadmx.test",
  "servfail.test",
  "mxfail.test",
  "drop.test",
  "rcptlimit.test",
  "conncap.test",
  "m365.test",
];
/** Malformed shapes; `#` becomes a unique number. None has a control character (the API refuses those). */
const GARBAGE = [
  "plainaddress#",
  "#@",
  "@missing-local#.test",
  "two#@@normal.test",
  "dots#..twice@normal.test",
  ".lead#@normal.test",
  "trail#.@normal.test",
  "x#@normal..test",
  "x#@-dash.test",
  "x#@normal.test@normal.test",
  "spa ce#@normal.test",
  "x#@[999.1.1.1]",
  'quo"te#@normal.test',
  "x#@no_tld",
  "(comment)#@normal.test",
];

/**
 * `total` distinct addresses: the mix, then unknown users at normal.test to
 * fill up, shuffled. `prefix` keeps the local parts of two lists apart.
 */
export function buildList(total: number, mix: Mix, prefix: string, random: () => number): string[] {
  const out = new Set<string>();
  const add = (email: string) => {
    if (out.size < total) out.add(email);
  };
  const range = (n: number, make: (i: number) => string) => {
    for (let i = 0; i < n; i++) add(make(i));
  };
  if (mix.realMailboxes) {
    // ASCII mailboxes only: a UTF-8 local part needs SMTPUTF8 and is a story of its own.
    const ascii = MAILBOXES.filter((m) => /^[a-z]+$/.test(m));
    for (const domain of REAL_MAILBOX_DOMAINS) for (const m of ascii) add(`${m}@${domain}`);
    add("full@normal.test");
    add("disabled@normal.test");
  }
  range(mix.catchAll, (i) => `${prefix}c${i}@catchall.test`);
  range(mix.greylist, (i) => `${prefix}g${i}@greylist.test`);
  range(mix.nullMx, (i) => `${prefix}n${i}@nullmx.test`);
  range(mix.noSuchDomain, (i) => `${prefix}x${i}@no-such-domain-${i % 10}.test`);
  range(mix.syntaxGarbage, (i) => (GARBAGE[i % GARBAGE.length] as string).replace("#", `${prefix}${i}`));
  range(mix.disposable, (i) => `${prefix}d${i}@mailinator.com`);
  range(mix.blocked, (i) => `${prefix}b${i}@blocked.test`);
  for (const domain of ODD_DOMAINS) range(mix.oddHostsEach, (i) => `${prefix}o${i}@${domain}`);
  range(mix.rateLimited, (i) => `${prefix}r${i}@ratelimit.test`);
  range(mix.tarpit, (i) => `${prefix}t${i}@tarpit.test`);
  for (let i = 0; out.size < total; i++) add(`${prefix}u${i}@normal.test`);
  return shuffle(random, [...out]);
}

/** mailvet's de-duplication key (src/ingest/entries.ts): local part as given, domain lower-cased. */
export function dedupeKey(email: string): string {
  const trimmed = email.trim();
  const at = trimmed.lastIndexOf("@");
  return at < 0 ? trimmed : trimmed.slice(0, at + 1) + trimmed.slice(at + 1).toLowerCase();
}

/** Addresses that mailvet would merge with an earlier one (should be none). */
export function duplicatesIn(list: readonly string[]): string[] {
  const seen = new Set<string>();
  return list.filter((e) => {
    const key = dedupeKey(e);
    if (seen.has(key)) return true;
    seen.add(key);
    return false;
  });
}
