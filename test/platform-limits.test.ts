import { connect } from "cloudflare:sockets";
import { createExecutionContext, env, runInDurableObject } from "cloudflare:test";
import { DurableObject } from "cloudflare:workers";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { openDb } from "../src/db/client";
import { apiKeys } from "../src/db/schema";
import { JobObject } from "../src/index";
import { guardDurableObject, guardEnv, guardFetchHandler } from "../src/platform/guard";
import {
  countedSocket,
  currentInvocation,
  LIMITS,
  PlatformLimitError,
  runInvocation,
  takeViolations,
  type Violation,
} from "../src/platform/limits";
import type { RecordedRequest } from "./fixtures/webhook-receiver";

// The guard of production's per-invocation limits (PLATFORM_LIMITS=enforce,
// the tests' setting). A Durable Object class of the test's own, guarded as
// src/index.ts guards the real ones, makes the outgoing calls and queries;
// its calls reach real Durable Objects, the real local D1 and the scripted
// webhook receiver. The violations these tests provoke on purpose are taken
// from the record, so test/platform-limits-setup.ts does not fail them.

const receiver = `http://127.0.0.1:${inject("webhookPort")}`;
let paths = 0;
function uniquePath(script: string): string {
  return `/${script}/limits-${Date.now().toString(36)}-${++paths}`;
}

async function received(path: string): Promise<RecordedRequest[]> {
  const res = await fetch(`${receiver}/_requests?path=${encodeURIComponent(path)}`);
  return (await res.json()) as RecordedRequest[];
}

class Prober extends DurableObject<Env> {
  /** Fetches every URL at once and reads each body to its end. */
  async fetchAll(urls: string[]) {
    return Promise.allSettled(urls.map((url) => fetch(url).then((r) => r.text())));
  }

  /** Calls `n` Durable Objects at once. */
  async callAll(n: number) {
    const ns = this.env.ACCOUNT;
    return Promise.allSettled(
      Array.from({ length: n }, (_, i) => ns.get(ns.idFromName(`limits-${i}`)).runningJobs()),
    );
  }

  /** The same fan-out through a helper method: it must stay in the caller's budget. */
  async callAllViaHelper(n: number) {
    return Promise.allSettled(Array.from({ length: n }, (_, i) => this.callOne(i)));
  }

  async callOne(i: number) {
    const ns = this.env.ACCOUNT;
    return ns.get(ns.idFromName(`limits-${i}`)).runningJobs();
  }

  /** `batched` statements in one D1 batch, then `single` queries one by one, half through drizzle. */
  async query(batched: number, single: number) {
    const db = this.env.DB;
    if (batched) await db.batch(Array.from({ length: batched }, () => db.prepare("SELECT 1")));
    const orm = openDb(db);
    for (let i = 0; i < single; i++) {
      if (i % 2) await orm.select().from(apiKeys).limit(1);
      else await db.prepare("SELECT ?").bind(i).first();
    }
  }

  /** One statement with `n` bound parameters, alone or inside a batch. */
  async bindMany(n: number, inBatch: boolean) {
    const stmt = this.env.DB.prepare(`SELECT ${Array(n).fill("?").join(", ")}`).bind(
      ...Array.from({ length: n }, (_, i) => i),
    );
    if (inBatch) return (await this.env.DB.batch([stmt]))[0]?.results;
    return stmt.raw();
  }

  whoAmI() {
    return currentInvocation();
  }
}

const GuardedProber = guardDurableObject(Prober);
// The class uses no storage: any object's state does for its constructor.
let state: DurableObjectState;
const prober = (e: Env = env) => new GuardedProber(state, e);

beforeAll(async () => {
  state = await runInDurableObject(env.ACCOUNT.get(env.ACCOUNT.idFromName("limits-host")), (_, s) => s);
});

function expectViolations(expected: Partial<Violation>[]) {
  expect(takeViolations()).toEqual(expected.map((v) => expect.objectContaining(v)));
}

describe("the invocation budget", () => {
  it("follows awaits, timers, fetches and Durable Object calls, and ends with the invocation", async () => {
    const seen = await runInvocation("rpc", "Test.follow", null, async () => {
      const names: (string | undefined)[] = [];
      await Promise.resolve();
      names.push(currentInvocation()?.name);
      await new Promise<void>((resolve) =>
        setTimeout(() => {
          names.push(currentInvocation()?.name);
          resolve();
        }, 1),
      );
      names.push(currentInvocation()?.name);
      await (await fetch(`${receiver}${uniquePath("ok")}`)).text();
      names.push(currentInvocation()?.name);
      await env.ACCOUNT.get(env.ACCOUNT.idFromName("limits-follow")).runningJobs();
      names.push(currentInvocation()?.name);
      return names;
    });
    expect(seen).toEqual(Array(5).fill("Test.follow"));
    expect(currentInvocation()).toBeUndefined();
  });

  it("gives each method call of a guarded Durable Object a budget of its own", async () => {
    const p = prober();
    expect(p.whoAmI()).toMatchObject({ kind: "rpc", name: "Prober.whoAmI", open: 0, queries: 0 });
    // Six at once in each of two invocations that run at the same time: twelve open, all fine.
    const urls = () => Array.from({ length: 6 }, () => `${receiver}${uniquePath("slow/100")}`);
    const [a, b] = await Promise.all([p.fetchAll(urls()), p.fetchAll(urls())]);
    expect([...a, ...b].map((r) => r.status)).toEqual(Array(12).fill("fulfilled"));
    // Two invocations of 1,000 queries each.
    await Promise.all([p.query(999, 1), p.query(999, 1)]);
    expect(takeViolations()).toEqual([]);
  });

  it("is the record the pool's Durable Objects write to: same isolate, same module instance", async () => {
    // The pool builds Durable Objects from the exported (guarded) classes of
    // the module instance the tests import, and their env is the guarded one.
    const stub = env.JOB.get(env.JOB.idFromName("limits-identity"));
    const seen = await runInDurableObject(stub, async (instance) => {
      const own = (instance as unknown as { env: Env }).env;
      const query = own.DB.prepare(`SELECT ${Array(101).fill("?").join(",")}`).bind(...Array(101).fill(0));
      const refused = await runInvocation("rpc", "JobObject.test", instance, () => query.raw().catch(String));
      return {
        guardedClass: instance instanceof JobObject,
        name: instance.constructor.name,
        vars: own.SMTP_PORT === env.SMTP_PORT,
        refused,
      };
    });
    expect(seen).toEqual({
      guardedClass: true,
      name: "JobObject",
      vars: true,
      refused: expect.stringMatching(/^PlatformLimitError/),
    });
    expectViolations([{ limit: "d1Params", value: 101, name: "JobObject.test" }]);
  });
});

describe("outgoing connections", () => {
  it("fails the 7th of 7 concurrent slow fetches, which never leaves, and records it", async () => {
    const path = uniquePath("slow/200");
    const results = await prober().fetchAll(Array(7).fill(`${receiver}${path}`));
    expect(results.map((r) => r.status)).toEqual([...Array(6).fill("fulfilled"), "rejected"]);
    const failure = (results[6] as PromiseRejectedResult).reason;
    expect(failure).toBeInstanceOf(PlatformLimitError);
    expect(String(failure)).toMatch(/^PlatformLimitError: platform limit exceeded: connections 7 > 6/);
    expect(await received(path)).toHaveLength(6);
    expectViolations([
      {
        limit: "connections",
        value: 7,
        max: 6,
        invocation: "rpc",
        name: "Prober.fetchAll",
        what: `fetch ${receiver}${path}`,
      },
    ]);
  });

  it("lets 6 concurrent fetches through", async () => {
    const path = uniquePath("slow/200");
    const results = await prober().fetchAll(Array(6).fill(`${receiver}${path}`));
    expect(results.map((r) => r.status)).toEqual(Array(6).fill("fulfilled"));
    expect(await received(path)).toHaveLength(6);
    expectViolations([]);
  });

  it("holds a fetch's connection until its response headers arrive, not while its body is unread", async () => {
    // The receiver's request log: a 200 with a JSON body.
    const withBody = `${receiver}/_requests?path=/limits-bodies`;
    await runInvocation("rpc", "Test.bodies", null, async () => {
      guardEnv(env); // the global fetch is guarded from the first enforced env on
      const pending = Array.from({ length: 6 }, () => fetch(withBody));
      expect(currentInvocation()?.open).toBe(6);
      await expect(fetch(withBody)).rejects.toThrow(PlatformLimitError);
      const unread = await Promise.all(pending);
      expect(currentInvocation()?.open).toBe(0);
      const more = await Promise.all(Array.from({ length: 6 }, () => fetch(withBody)));
      expect(await Promise.all([...unread, ...more].map((r) => r.json()))).toEqual(Array(12).fill([]));
    });
    expectViolations([{ limit: "connections", value: 7, name: "Test.bodies" }]);
  });

  it("fails the 7th of 7 concurrent Durable Object calls; 6 pass", async () => {
    const p = prober();
    const seven = await p.callAll(7);
    expect(seven.map((r) => r.status)).toEqual([...Array(6).fill("fulfilled"), "rejected"]);
    expect((seven[6] as PromiseRejectedResult).reason).toBeInstanceOf(PlatformLimitError);
    expectViolations([
      { limit: "connections", value: 7, name: "Prober.callAll", what: "ACCOUNT.runningJobs" },
    ]);

    expect((await p.callAll(6)).map((r) => r.status)).toEqual(Array(6).fill("fulfilled"));
    expectViolations([]);
  });

  it("keeps a helper method's calls in its caller's budget", async () => {
    const results = await prober().callAllViaHelper(7);
    expect(results.map((r) => r.status)).toEqual([...Array(6).fill("fulfilled"), "rejected"]);
    expectViolations([{ limit: "connections", value: 7, name: "Prober.callAllViaHelper" }]);
  });

  it("counts a TCP socket from connect until close, in the same budget as fetch and calls", async () => {
    const address = { hostname: "127.0.0.1", port: inject("webhookPort") };
    await runInvocation("rpc", "Test.sockets", null, async () => {
      const sockets = Array.from({ length: 3 }, (_, i) =>
        countedSocket(`socket ${i}`, () => connect(address)),
      );
      await Promise.all(sockets.map((s) => s.opened));
      const ns = guardEnv(env).ACCOUNT;
      const calls = [1, 2, 3].map((i) => ns.get(ns.idFromName(`limits-${i}`)).runningJobs());
      expect(() => countedSocket("socket 4", () => connect(address))).toThrow(PlatformLimitError);
      await Promise.all(calls);
      const fourth = countedSocket("socket 4", () => connect(address));
      await fourth.opened;
      for (const s of [...sockets, fourth]) {
        await s.close();
        await s.closed;
      }
      expect(currentInvocation()?.open).toBe(0);
    });
    expectViolations([{ limit: "connections", value: 7, name: "Test.sockets", what: "socket 4" }]);
  });
});

describe("D1", () => {
  it(`passes ${LIMITS.d1Queries} queries in one invocation, batched and single, through drizzle too`, async () => {
    await prober().query(990, 10);
    expectViolations([]);
  });

  it("fails the 1,001st query of an invocation", async () => {
    await expect(prober().query(990, 11)).rejects.toThrow(PlatformLimitError);
    expectViolations([{ limit: "d1Queries", value: 1001, max: 1000, name: "Prober.query" }]);
  });

  it("counts each statement of a batch, and fails a batch that crosses the limit", async () => {
    await expect(prober().query(1001, 0)).rejects.toThrow(PlatformLimitError);
    expectViolations([{ limit: "d1Queries", value: 1001, what: "D1 batch" }]);
  });

  it("fails a statement with 101 bound parameters, alone or in a batch; 100 pass", async () => {
    const p = prober();
    expect(await p.bindMany(100, false)).toEqual([Array.from({ length: 100 }, (_, i) => i)]);
    expect(await p.bindMany(100, true)).toHaveLength(1);
    await expect(p.bindMany(101, false)).rejects.toThrow(PlatformLimitError);
    await expect(p.bindMany(101, true)).rejects.toThrow(PlatformLimitError);
    expectViolations([
      { limit: "d1Params", value: 101, max: 100, what: "D1 statement" },
      { limit: "d1Params", value: 101, max: 100, what: "D1 batch" },
    ]);
  });
});

describe("the worker's fetch handler", () => {
  it("runs each request as an invocation with the guarded env, named without its query string", async () => {
    let seen: { invocation: unknown; guarded: boolean } | null = null;
    const handler = guardFetchHandler((_request, e) => {
      seen = { invocation: { ...currentInvocation() }, guarded: e.DB !== env.DB };
      return new Response("ok");
    });
    await handler(new Request("http://mailvet.test/jobs/1?apiKey=secret"), env, createExecutionContext());
    expect(seen).toEqual({
      invocation: { kind: "fetch", name: "GET /jobs/1", owner: null, open: 0, queries: 0 },
      guarded: true,
    });
  });
});

describe("PLATFORM_LIMITS=off", () => {
  const off = { ...env, PLATFORM_LIMITS: "off" } as Env;

  it("wraps nothing: the env, the Durable Object and the handler are the plain ones", async () => {
    expect(guardEnv(off)).toBe(off);

    const plain = prober(off);
    expect(plain.constructor).toBe(Prober);
    expect(Object.getPrototypeOf(plain)).toBe(Prober.prototype);
    expect((plain as unknown as { env: Env }).env).toBe(off);
    expect(plain.whoAmI()).toBeUndefined();

    const fetchBefore = globalThis.fetch;
    let seen: unknown[] = [];
    const handler = guardFetchHandler((_request, e) => {
      seen = [e, currentInvocation()];
      return new Response("ok");
    });
    await handler(new Request("http://mailvet.test/"), off, createExecutionContext());
    expect(seen).toEqual([off, undefined]);
    expect(globalThis.fetch).toBe(fetchBefore);
  });

  it("counts nothing", async () => {
    const plain = prober(off);
    const results = await plain.fetchAll(Array(7).fill(`${receiver}${uniquePath("ok")}`));
    expect(results.map((r) => r.status)).toEqual(Array(7).fill("fulfilled"));
    expect((await plain.callAll(7)).map((r) => r.status)).toEqual(Array(7).fill("fulfilled"));
    // Local D1 refuses the statement by itself, but nothing is recorded.
    const refused = await plain.bindMany(101, false).catch((err: unknown) => err);
    expect(String(refused)).toMatch(/too many SQL variables/);
    expect(refused).not.toBeInstanceOf(PlatformLimitError);
    expectViolations([]);
  });
});
