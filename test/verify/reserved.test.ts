import { describe, expect, it } from "vitest";
import { DnsResolver } from "../../src/verify/dns";
import { checkLists, isFreeDomain } from "../../src/verify/lists";
import { answersAsReserved, parseResolveReserved, reservedNameOf } from "../../src/verify/reserved";
import { checkSyntax } from "../../src/verify/syntax";
import { verdict } from "../../src/verify/verdict";

// RFC 2606 / RFC 6761 names: answered without DNS, never a free provider.

describe("reservedNameOf", () => {
  it.each([
    ["example.com", "example.com"],
    ["Mail.Example.ORG.", "example.org"],
    ["example.net", "example.net"],
    ["shop.example", "example"],
    ["mx.normal.test", "test"],
    ["foo.invalid", "invalid"],
    ["localhost", "localhost"],
    ["app.localhost", "localhost"],
    ["example.co.uk", null],
    ["notexample.com", null],
    ["contest", null],
    ["gmail.com", null],
  ])("%s -> %s", (domain, expected) => {
    expect(reservedNameOf(domain)).toBe(expected);
  });
});

it("RESOLVE_RESERVED lets a test world resolve its own reserved names, and only those", () => {
  const resolved = parseResolveReserved(" .test, Example ");
  expect(resolved).toEqual(["test", "example"]);
  expect(answersAsReserved("normal.test", resolved)).toBe(false);
  expect(answersAsReserved("shop.example", resolved)).toBe(false);
  expect(answersAsReserved("example.com", resolved)).toBe(true);
  expect(answersAsReserved("normal.test", parseResolveReserved(""))).toBe(true);
});

it("answers reserved names without a query, and looks up the ones configured to resolve", async () => {
  const asked: string[] = [];
  const fetcher = (async (input: RequestInfo | URL) => {
    asked.push(String(input));
    throw new Error("offline");
  }) as typeof fetch;
  const resolver = new DnsResolver({ dohUrl: "http://127.0.0.1:9/dns-query", timeoutMs: 200, fetcher });
  for (const domain of [
    "example.com",
    "a.example.org",
    "shop.example",
    "x.invalid",
    "localhost",
    "normal.test",
  ]) {
    expect((await resolver.resolve(domain)).status).toBe("reserved");
  }
  expect(asked).toEqual([]);

  const testWorld = new DnsResolver({
    dohUrl: "http://127.0.0.1:9/dns-query",
    timeoutMs: 200,
    fetcher,
    resolveReserved: ["test"],
  });
  // Looked up, not answered as reserved: the dead resolver makes it "unavailable".
  expect((await testWorld.resolve("normal.test")).status).toBe("unavailable");
  expect(asked.length).toBeGreaterThan(0);
});

it("calls a reserved domain undeliverable with reason reserved_domain", () => {
  const syntax = checkSyntax("someone@example.com");
  const v = verdict({
    syntax,
    flags: checkLists(syntax),
    dns: { status: "reserved", hosts: [], ttl: 86_400 },
    smtp: null,
    smtpDisabled: false,
  });
  expect(v).toMatchObject({ result: "undeliverable", reason: "reserved_domain", score: 0 });
  expect(v.flags.free).toBe(false);
});

it("never flags a reserved name as a free provider, even in broken syntax", () => {
  for (const domain of ["example.com", "example.net", "example.org"])
    expect(isFreeDomain(domain)).toBe(false);
  expect(checkLists(checkSyntax("bad@@example.com")).free).toBe(false);
  expect(isFreeDomain("gmail.com")).toBe(true);
});
