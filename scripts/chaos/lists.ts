// The two address lists of a chaos run. The big job is mostly unknown users at
// normal.test (fast 550s) with every other kind of fixture domain mixed in,
// including greylisting and a rate-limited host, whose addresses are deferred
// and retried across the crashes. Tarpit addresses are kept to a handful:
// each batch that holds one waits out the SMTP reply timeout.

import { buildList, duplicatesIn, type Mix } from "../lib/addresses";
import { seededRandom } from "../lib/random";

export const MAIN_TOTAL = 20_000;
export const CANCEL_TOTAL = 5_000;

const MAIN_MIX: Mix = {
  realMailboxes: true,
  catchAll: 600,
  greylist: 150,
  nullMx: 200,
  noSuchDomain: 300,
  syntaxGarbage: 300,
  disposable: 150,
  blocked: 100,
  oddHostsEach: 20,
  rateLimited: 10,
  tarpit: 3,
};

const CANCEL_MIX: Mix = {
  ...MAIN_MIX,
  catchAll: 150,
  greylist: 30,
  nullMx: 50,
  noSuchDomain: 80,
  syntaxGarbage: 80,
  disposable: 40,
  blocked: 30,
  oddHostsEach: 5,
  rateLimited: 0,
  tarpit: 0,
};

export interface ChaosLists {
  main: string[];
  cancel: string[];
}

export function chaosLists(seed: number): ChaosLists {
  const random = seededRandom(seed);
  const main = buildList(MAIN_TOTAL, MAIN_MIX, "m", random);
  const cancel = buildList(CANCEL_TOTAL, CANCEL_MIX, "k", random);
  for (const [name, list, total] of [
    ["main", main, MAIN_TOTAL],
    ["cancel", cancel, CANCEL_TOTAL],
  ] as const) {
    const dups = duplicatesIn(list);
    if (list.length !== total || dups.length)
      throw new Error(`the ${name} list is wrong: ${list.length} addresses, duplicates ${dups.slice(0, 5)}`);
  }
  return { main, cancel };
}
