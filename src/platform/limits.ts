// Production limits that `wrangler dev` and the vitest Workers pool do not
// enforce, counted per invocation (one request, RPC call, alarm or DO fetch):
// 6 simultaneous outgoing connections, 1,000 D1 queries, 100 bound parameters
// per D1 statement. This file only counts; guard.ts wires it into the env,
// the Durable Object classes and the global fetch (PLATFORM_LIMITS=enforce).
//
// Crossing a limit throws PlatformLimitError from the offending operation
// (production fails such a D1 query, and holds a 7th connection back until
// one of six is done: either way the code is wrong for production), logs one
// loud line and records the violation, because the application may catch the
// error (a failed call becomes a retry): the tests' setup fails any test
// during which a violation was recorded.

import { AsyncLocalStorage } from "node:async_hooks";

export const LIMITS = {
  /** fetch(), TCP sockets and Durable Object calls open at once. */
  connections: 6,
  /** D1 statements per invocation; each statement of a batch counts. */
  d1Queries: 1000,
  /** Bound parameters per D1 statement. */
  d1Params: 100,
} as const;

export type LimitName = keyof typeof LIMITS;
export type InvocationKind = "fetch" | "rpc" | "alarm" | "do_fetch";

export interface Invocation {
  readonly kind: InvocationKind;
  /** "GET /email-validations", "JobObject.alarm", … */
  readonly name: string;
  /** The Durable Object whose method runs, so its internal calls stay in this budget. */
  readonly owner: object | null;
  open: number;
  queries: number;
}

export interface Violation {
  limit: LimitName;
  value: number;
  max: number;
  invocation: InvocationKind | "none";
  name: string;
  /** The operation that was refused: "fetch http://…", "MX.enqueue", "D1 batch", … */
  what: string;
}

export class PlatformLimitError extends Error {
  override readonly name = "PlatformLimitError";
  constructor(readonly violation: Violation) {
    const { limit, value, max, invocation, name, what } = violation;
    super(`platform limit exceeded: ${limit} ${value} > ${max} in ${invocation} ${name} (${what})`);
  }
}

const storage = new AsyncLocalStorage<Invocation>();

/** Runs `fn` as one invocation with a budget of its own (AsyncLocalStorage follows awaits and timers). */
export function runInvocation<T>(kind: InvocationKind, name: string, owner: object | null, fn: () => T): T {
  return storage.run({ kind, name, owner, open: 0, queries: 0 }, fn);
}

export function currentInvocation(): Invocation | undefined {
  return storage.getStore();
}

const release0 = () => {};

/**
 * Counts one outgoing connection; returns its release (safe to call twice).
 * Throws PlatformLimitError when it would be the 7th open at once. Outside
 * any guarded invocation nothing is counted.
 */
export function openConnection(what: string): () => void {
  const inv = storage.getStore();
  if (!inv) return release0;
  if (inv.open >= LIMITS.connections) violate(inv, "connections", inv.open + 1, what);
  inv.open++;
  let open = true;
  return () => {
    if (open) {
      open = false;
      inv.open--;
    }
  };
}

/**
 * An outgoing call that holds a connection until its promise settles: a
 * fetch until its response headers, a Durable Object call until its result,
 * or any new kind of outgoing call. Over the limit it rejects without
 * starting the call.
 */
export function countedCall<T>(what: string, start: () => Promise<T>): Promise<T> {
  if (!storage.getStore()) return start();
  let release: () => void;
  try {
    release = openConnection(what);
  } catch (err) {
    return Promise.reject(err);
  }
  try {
    return Promise.resolve(start()).finally(release);
  } catch (err) {
    release();
    throw err;
  }
}

/**
 * A TCP socket that holds a connection from connect until it is closed:
 * `countedSocket("smtp host:25", () => connect(address, options))`.
 * Over the limit it throws before connecting.
 */
export function countedSocket<S extends { closed: Promise<unknown> }>(what: string, open: () => S): S {
  if (!storage.getStore()) return open();
  const release = openConnection(what);
  let socket: S;
  try {
    socket = open();
  } catch (err) {
    release();
    throw err;
  }
  socket.closed.then(release, release);
  return socket;
}

/** Counts `n` D1 statements against the invocation's budget; throws past it. */
export function countQueries(n: number, what: string): void {
  const inv = storage.getStore();
  if (!inv) return;
  inv.queries += n;
  // Production refuses every query past the limit, so each one is a violation.
  if (inv.queries > LIMITS.d1Queries) violate(inv, "d1Queries", inv.queries, what);
}

/** Checks one D1 statement's bound parameters. */
export function checkParams(n: number, what: string): void {
  if (n > LIMITS.d1Params) violate(storage.getStore(), "d1Params", n, what);
}

// ── The record ──────────────────────────────────────────────────────────

/** Enough to tell what went wrong; a runaway loop must not grow it without end. */
const MAX_RECORDED = 100;
const recorded: Violation[] = [];

/** Violations recorded since the last take, oldest first (at most the first 100). */
export function recordedViolations(): readonly Violation[] {
  return recorded;
}

/** Returns the recorded violations and forgets them (tests that provoke violations on purpose). */
export function takeViolations(): Violation[] {
  return recorded.splice(0);
}

function violate(inv: Invocation | undefined, limit: LimitName, value: number, what: string): never {
  const violation: Violation = {
    limit,
    value,
    max: LIMITS[limit],
    invocation: inv?.kind ?? "none",
    name: inv?.name ?? "",
    what,
  };
  if (recorded.length < MAX_RECORDED) recorded.push(violation);
  console.error(JSON.stringify({ msg: "platform limit exceeded", ...violation }));
  throw new PlatformLimitError(violation);
}
