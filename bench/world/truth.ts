// What a perfect verifier would answer for each behaviour (DESIGN.md §4):
// what the server says about the mailbox when it says something; unknown when
// the world hides the answer from everyone (blocks, tarpits). A server that
// accepts every recipient (at once or after greylisting) says nothing of any
// one mailbox: risky, catch_all.

import type { Behaviour, MailboxState } from "./params";

export type ResultClass = "deliverable" | "risky" | "undeliverable" | "unknown";

export interface Truth {
  result: ResultClass;
  catchAll: boolean;
}

const BY_MAILBOX: Record<MailboxState, ResultClass> = {
  exists: "deliverable",
  unknown: "undeliverable",
  full: "risky",
  disabled: "undeliverable",
};

/** Behaviours whose server, given patience, answers with the mailbox's real state. */
const REAL_ANSWER: ReadonlySet<Behaviour> = new Set([
  "mailbox_exists",
  "mailbox_unknown",
  "mailbox_full",
  "mailbox_disabled",
  // A patient verifier waits out greylisting and the rate limit.
  "greylist",
  "rate_limit",
  // A patient verifier opens no more connections a second than the host allows.
  "conn_rate",
  // One server under two names is still a normal server.
  "hosting_two_names",
  "implicit_mx",
  "backup_mx",
  "idn",
]);

export function truthFor(behaviour: Behaviour, mailbox: MailboxState): Truth {
  if (REAL_ANSWER.has(behaviour)) return { result: BY_MAILBOX[mailbox], catchAll: false };
  switch (behaviour) {
    case "catch_all":
    case "greylist_catch_all":
      return { result: "risky", catchAll: true };
    case "disposable":
      return { result: "risky", catchAll: false };
    case "blocked":
    case "tarpit":
    case "tarpit_shared":
      return { result: "unknown", catchAll: false };
    default:
      // syntax, nxdomain, null_mx
      return { result: "undeliverable", catchAll: false };
  }
}

/** The behaviour group of an ordinary address is its mailbox's state. */
export function mailboxBehaviour(state: MailboxState): Behaviour {
  return `mailbox_${state}` as Behaviour;
}
