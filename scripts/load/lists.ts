// Address lists for the load jobs: a few hundred to a few thousand addresses,
// mostly fast answers (unknown users at normal.test) with some of every
// quick fixture kind. No greylisting, rate limits or tarpits: they would make
// job length depend on timeouts rather than on the service under load.

import { buildList, type Mix, NO_MIX } from "../lib/addresses";

export const MIN_JOB = 300;
export const MAX_JOB = 3000;

const LOAD_MIX_PER_1000: Mix = {
  ...NO_MIX,
  realMailboxes: true,
  catchAll: 40,
  nullMx: 20,
  noSuchDomain: 20,
  syntaxGarbage: 20,
  disposable: 10,
  blocked: 10,
};

/** Job number `n` of the run: its size drawn from [MIN_JOB, MAX_JOB], its local parts its own. */
export function loadJobList(n: number, random: () => number): string[] {
  const size = MIN_JOB + Math.floor(random() * (MAX_JOB - MIN_JOB + 1));
  const scale = size / 1000;
  const mix: Mix = { ...LOAD_MIX_PER_1000 };
  for (const k of ["catchAll", "nullMx", "noSuchDomain", "syntaxGarbage", "disposable", "blocked"] as const)
    mix[k] = Math.round(LOAD_MIX_PER_1000[k] * scale);
  return buildList(size, mix, `j${n}-`, random);
}
