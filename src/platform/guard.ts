// Wires the counting of limits.ts into the worker when PLATFORM_LIMITS is
// "enforce" (wrangler dev, tests): the fetch handler and every Durable Object
// method, alarm and fetch run as invocations with budgets of their own; the
// env they see counts D1 statements and calls through Durable Object stubs;
// the global fetch counts too (until its response headers arrive). With any other value (production enforces the
// limits itself) nothing here wraps anything.

import { DurableObject } from "cloudflare:workers";
import {
  checkParams,
  countedCall,
  countedSocket,
  countQueries,
  currentInvocation,
  type InvocationKind,
  runInvocation,
} from "./limits";

export function limitsEnforced(env: Env): boolean {
  return env.PLATFORM_LIMITS === "enforce";
}

// ── Entry points ────────────────────────────────────────────────────────

type FetchHandler = (request: Request, env: Env, ctx: ExecutionContext) => Response | Promise<Response>;

/** The worker's fetch handler, each request an invocation. */
export function guardFetchHandler(handler: FetchHandler): FetchHandler {
  return (request, env, ctx) => {
    if (!limitsEnforced(env)) return handler(request, env, ctx);
    const guarded = guardEnv(env);
    // The path only: the query string may hold an API key.
    const name = `${request.method} ${new URL(request.url).pathname}`;
    return runInvocation("fetch", name, null, () => handler(request, guarded, ctx));
  };
}

type DurableObjectClass = new (ctx: DurableObjectState, env: Env) => DurableObject<Env>;

/**
 * A Durable Object class whose every method call (RPC), alarm and fetch runs
 * as an invocation, and whose `env` is guarded. Export it in place of the class:
 * `export const JobObject = guardDurableObject(JobObjectImpl)`.
 */
export function guardDurableObject<C extends DurableObjectClass>(Base: C): C {
  const Guarded = class extends (Base as DurableObjectClass) {
    // biome-ignore lint/correctness/noUnreachableSuper: when off, the plain object replaces this one
    constructor(ctx: DurableObjectState, env: Env) {
      // Off: the plain object, so not even a method wrapper runs.
      // biome-ignore lint/correctness/noConstructorReturn: the runtime takes the returned object as the instance
      if (!limitsEnforced(env)) return new Base(ctx, env);
      super(ctx, guardEnv(env));
    }
  };
  Object.defineProperty(Guarded, "name", { value: Base.name });
  // Most derived first, so an override wins over the method it overrides.
  for (
    let proto = Base.prototype;
    proto && proto !== DurableObject.prototype && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      const d = Object.getOwnPropertyDescriptor(proto, key);
      if (key === "constructor" || Object.hasOwn(Guarded.prototype, key) || typeof d?.value !== "function")
        continue;
      Object.defineProperty(Guarded.prototype, key, { ...d, value: asInvocation(Base.name, key, d.value) });
    }
  }
  return Guarded as unknown as C;
}

function asInvocation(className: string, key: string, method: (...args: unknown[]) => unknown) {
  const kind: InvocationKind = key === "alarm" ? "alarm" : key === "fetch" ? "do_fetch" : "rpc";
  const name = `${className}.${key}`;
  return function (this: object, ...args: unknown[]) {
    // Private helpers are prototype methods too: a call from the object's own
    // invocation stays in that invocation's budget.
    if (currentInvocation()?.owner === this) return method.apply(this, args);
    return runInvocation(kind, name, this, () => method.apply(this, args));
  };
}

// ── The env ─────────────────────────────────────────────────────────────

const guardedEnvs = new WeakMap<Env, Env>();

/** The env with counted D1 databases and Durable Object namespaces; `env` itself when not enforced. */
export function guardEnv(env: Env): Env {
  if (!limitsEnforced(env)) return env;
  let guarded = guardedEnvs.get(env);
  if (!guarded) {
    guardGlobalFetch();
    const bindings: Record<string, unknown> = { ...env };
    for (const [name, binding] of Object.entries(env)) {
      const kind = (binding as object | null)?.constructor?.name ?? "";
      if (kind === "D1Database") bindings[name] = new CountedD1(binding as D1Database);
      // The vitest pool's namespaces are "LoopbackDurableObjectNamespace".
      else if (kind.endsWith("DurableObjectNamespace"))
        bindings[name] = guardNamespace(binding as DurableObjectNamespace, name);
    }
    guarded = bindings as unknown as Env;
    guardedEnvs.set(env, guarded);
  }
  return guarded;
}

function guardNamespace(ns: DurableObjectNamespace, binding: string): DurableObjectNamespace {
  const methods = new Map<PropertyKey, unknown>();
  return new Proxy(ns, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== "function" || key === "constructor") return value;
      let method = methods.get(key);
      if (!method) {
        const fn = value as (...args: unknown[]) => unknown;
        if (key === "get" || key === "getByName")
          method = (...args: unknown[]) => guardStub(fn.apply(target, args) as DurableObjectStub, binding);
        else if (key === "jurisdiction")
          method = (...args: unknown[]) =>
            guardNamespace(fn.apply(target, args) as DurableObjectNamespace, binding);
        else method = fn.bind(target);
        methods.set(key, method);
      }
      return method;
    },
  });
}

/** Every method called on the stub holds a connection until its promise settles. */
function guardStub(stub: DurableObjectStub, binding: string): DurableObjectStub {
  const methods = new Map<string, unknown>();
  return new Proxy(stub, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== "function" || typeof key !== "string" || key === "then" || key === "constructor")
        return value;
      let method = methods.get(key);
      if (!method) {
        // An RPC method answers any property (even `apply`) with a remote call: Reflect.apply only.
        const fn = value as (...args: unknown[]) => unknown;
        const what = `${binding}.${key}`;
        method =
          key === "connect"
            ? (...args: unknown[]) => countedSocket(what, () => Reflect.apply(fn, target, args) as Socket)
            : (...args: unknown[]) =>
                countedCall(what, () => Reflect.apply(fn, target, args) as Promise<unknown>);
        methods.set(key, method);
      }
      return method;
    },
  });
}

// ── fetch ───────────────────────────────────────────────────────────────

let fetchGuarded = false;

/**
 * Once per isolate: every fetch() in an invocation holds a connection until
 * its response headers arrive. Production has counted it so since April
 * 2026; the body no longer holds a connection.
 */
function guardGlobalFetch(): void {
  if (fetchGuarded) return;
  fetchGuarded = true;
  const original = globalThis.fetch;
  globalThis.fetch = function fetch(input: RequestInfo | URL, init?: RequestInit) {
    if (!currentInvocation()) return original.call(globalThis, input, init);
    return countedCall(`fetch ${urlOf(input)}`, () => original.call(globalThis, input, init));
  } as typeof globalThis.fetch;
}

function urlOf(input: RequestInfo | URL): string {
  const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
  const query = url.indexOf("?");
  return query < 0 ? url : url.slice(0, query);
}

// ── D1 ──────────────────────────────────────────────────────────────────

class CountedStatement {
  constructor(
    readonly inner: D1PreparedStatement,
    readonly params: number,
  ) {}

  bind(...values: unknown[]): CountedStatement {
    return new CountedStatement(this.inner.bind(...values), values.length);
  }

  first(...args: [] | [string]) {
    return this.counted(() => this.inner.first(...(args as [string])));
  }

  run() {
    return this.counted(() => this.inner.run());
  }

  all() {
    return this.counted(() => this.inner.all());
  }

  raw(...args: [] | [{ columnNames?: boolean }]) {
    return this.counted(() => this.inner.raw(...(args as [{ columnNames?: false }])));
  }

  private counted<T>(query: () => Promise<T>): Promise<T> {
    try {
      countQueries(1, "D1 statement");
      checkParams(this.params, "D1 statement");
    } catch (err) {
      return Promise.reject(err);
    }
    return query();
  }
}

/** What D1's batch() needs: the runtime's own statements. */
function unwrapBatch(statements: D1PreparedStatement[]): D1PreparedStatement[] {
  countQueries(statements.length, "D1 batch");
  return statements.map((s) => {
    if (!(s instanceof CountedStatement)) return s;
    checkParams(s.params, "D1 batch");
    return s.inner;
  });
}

class CountedD1 {
  constructor(private readonly db: D1Database | D1DatabaseSession) {}

  prepare(query: string): D1PreparedStatement {
    return new CountedStatement(this.db.prepare(query), 0) as unknown as D1PreparedStatement;
  }

  batch<T = unknown>(statements: D1PreparedStatement[]): Promise<D1Result<T>[]> {
    try {
      return this.db.batch<T>(unwrapBatch(statements));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  exec(query: string): Promise<D1ExecResult> {
    try {
      // D1 runs each line as a statement of its own.
      countQueries(query.split("\n").filter((line) => line.trim()).length, "D1 exec");
    } catch (err) {
      return Promise.reject(err);
    }
    return (this.db as D1Database).exec(query);
  }

  withSession(constraintOrBookmark?: D1SessionBookmark | D1SessionConstraint): D1DatabaseSession {
    return new CountedD1(
      (this.db as D1Database).withSession(constraintOrBookmark),
    ) as unknown as D1DatabaseSession;
  }

  getBookmark(): D1SessionBookmark | null {
    return (this.db as D1DatabaseSession).getBookmark();
  }

  dump(): Promise<ArrayBuffer> {
    return (this.db as D1Database).dump();
  }
}
