import { describe, expect, it } from "vitest";
import { assertSafeForSmtp, checkSyntax } from "../../src/verify/syntax";
import { EMAIL_CORPUS } from "../fixtures/email-corpus";

function printable(text: string): string {
  return JSON.stringify(text);
}

describe("checkSyntax against the public corpus", () => {
  it("has enough cases, and a reason for every deliberate difference", () => {
    expect(EMAIL_CORPUS.length).toBeGreaterThanOrEqual(40);
    for (const c of EMAIL_CORPUS) {
      expect(c.valid !== c.sourceValid, `${c.source}: note iff mailvet differs`).toBe(c.note !== undefined);
    }
  });

  it.each(EMAIL_CORPUS.map((c) => [c.source, printable(c.address), c] as const))(
    "%s %s",
    (_source, _shown, c) => {
      const result = checkSyntax(c.address);
      expect(result.valid, result.error).toBe(c.valid);
    },
  );

  it("gives every valid corpus address a wire form the SMTP guard accepts", () => {
    for (const c of EMAIL_CORPUS.filter((c) => c.valid)) {
      const result = checkSyntax(c.address);
      expect(result.address).toBe(`${result.local}@${result.asciiDomain}`);
      expect(() => assertSafeForSmtp(result.address)).not.toThrow();
    }
  });
});

describe("checkSyntax fields", () => {
  it("trims the input and lower-cases only the domain", () => {
    expect(checkSyntax("  Alice.Smith@Example.COM   ")).toEqual({
      valid: true,
      input: "Alice.Smith@Example.COM",
      local: "Alice.Smith",
      domain: "Example.COM",
      asciiDomain: "example.com",
      address: "Alice.Smith@example.com",
      needsSmtpUtf8: false,
      ipLiteral: false,
      quotedLocal: false,
    });
  });

  it("reports an invalid address with an error and no wire form", () => {
    const result = checkSyntax("alice@@example.com");
    expect(result.valid).toBe(false);
    expect(result.error).toBeTruthy();
    expect(result.asciiDomain).toBe("");
    expect(result.address).toBe("");
    expect(result.input).toBe("alice@@example.com");
  });

  it.each([
    ["user@bücher.de", "xn--bcher-kva.de"],
    ["user@BÜCHER.de", "xn--bcher-kva.de"],
    ["user@münchen.de", "xn--mnchen-3ya.de"],
    ["user@faß.de", "xn--fa-hia.de"],
    ["user@黒川.日本", "xn--5rtw95l.xn--wgv71a"],
    ["user@с-балалайкой.рф", "xn----8sbaac5cahfb0b0a.xn--p1ai"],
    ["user@παράδειγμα.δοκιμή", "xn--hxajbheg2az3al.xn--jxalpdlp"],
    ["user@ｅｘａｍｐｌｅ.com", "example.com"],
    ["user@XN--BCHER-KVA.de", "xn--bcher-kva.de"],
  ])("converts the IDN domain of %s to %s", (input, ascii) => {
    const result = checkSyntax(input);
    expect(result.valid, result.error).toBe(true);
    expect(result.asciiDomain).toBe(ascii);
    expect(result.address).toBe(`user@${ascii}`);
    expect(result.needsSmtpUtf8).toBe(false);
  });

  it.each(["josé@example.com", "二ノ宮@黒川.日本", "δοκιμή@παράδειγμα.δοκιμή", "медведь@с-балалайкой.рф"])(
    "accepts the UTF-8 local part of %s and asks for SMTPUTF8",
    (input) => {
      const result = checkSyntax(input);
      expect(result.valid, result.error).toBe(true);
      expect(result.needsSmtpUtf8).toBe(true);
      expect(result.asciiDomain).toMatch(/^[a-z0-9.-]+$/);
      expect(result.address).toBe(`${result.local}@${result.asciiDomain}`);
    },
  );

  it.each([
    ['"john doe"@example.com', '"john doe"'],
    ['"john\\"doe"@example.com', '"john\\"doe"'],
    ['"a@b"@example.com', '"a@b"'],
    ['"<script>"@example.com', '"<script>"'],
    ['"josé"@example.com', '"josé"'],
  ])("accepts the quoted local part %s", (input, local) => {
    const result = checkSyntax(input);
    expect(result.valid, result.error).toBe(true);
    expect(result.quotedLocal).toBe(true);
    expect(result.local).toBe(local);
    expect(result.address).toBe(`${local}@example.com`);
  });

  it.each([
    ["user@[192.0.2.1]", "[192.0.2.1]"],
    ["user@[IPv6:2001:db8::1]", "[ipv6:2001:db8::1]"],
    ["user@[IPv6:2001:DB8::1]", "[ipv6:2001:db8::1]"],
    ["user@[IPv6:::ffff:192.0.2.1]", "[ipv6:::ffff:192.0.2.1]"],
  ])("recognises the address literal %s", (input, ascii) => {
    const result = checkSyntax(input);
    expect(result.valid, result.error).toBe(true);
    expect(result.ipLiteral).toBe(true);
    expect(result.asciiDomain).toBe(ascii);
  });

  it.each([
    "user@[192.0.2.01]",
    "user@[192.0.2]",
    "user@[ipv4:192.0.2.1]",
    "user@[IPv6:2001:db8::g]",
    "user@[]",
  ])("rejects the malformed address literal %s", (input) => {
    expect(checkSyntax(input).valid).toBe(false);
  });
});

describe("checkSyntax rejections", () => {
  const controls: [string, string][] = [
    ["NUL", "\u0000"],
    ["CR", "\r"],
    ["LF", "\n"],
    ["CRLF", "\r\n"],
    ["TAB", "\t"],
    ["ESC", "\u001b"],
    ["DEL", "\u007f"],
    ["NEL (C1)", "\u0085"],
  ];
  const placements: [string, (c: string) => string][] = [
    ["in the local part", (c) => `ali${c}ce@example.com`],
    ["inside quotes", (c) => `"ali${c}ce"@example.com`],
    ["escaped inside quotes", (c) => `"ali\\${c}ce"@example.com`],
    ["in the domain", (c) => `alice@exam${c}ple.com`],
    ["at the end", (c) => `alice@example.com${c}`],
    ["at the start", (c) => `${c}alice@example.com`],
  ];
  const cases = controls.flatMap(([name, c]) =>
    placements.map(([where, make]) => [name, where, make(c)] as const),
  );

  it.each(cases)("rejects %s %s", (_name, _where, input) => {
    const result = checkSyntax(input);
    expect(result.valid).toBe(false);
    expect(result.address).toBe("");
  });

  it("rejects an SMTP command smuggled into the address", () => {
    expect(checkSyntax("alice@example.com>\r\nRCPT TO:<bob@example.com").valid).toBe(false);
    expect(checkSyntax('"alice\r\nDATA"@example.com').valid).toBe(false);
  });

  it.each([
    ["angle brackets around the address", "<alice@example.com>"],
    ["< in the local part", "a<b@example.com"],
    ["> in the local part", "a>b@example.com"],
    ["> in the domain", "alice@exam>ple.com"],
    ["space in the local part", "alice smith@example.com"],
    ["no-break space in the local part", "alice\u00a0smith@example.com"],
    ["space in the domain", "alice@exam ple.com"],
    ["ideographic space in the domain", "alice@exam\u3000ple.com"],
    ["two @", "alice@@example.com"],
    ["no local part", "@example.com"],
    ["no domain", "alice@"],
    ["no @", "alice.example.com"],
    ["leading dot", ".alice@example.com"],
    ["trailing dot", "alice.@example.com"],
    ["double dot", "al..ice@example.com"],
    ["domain with a trailing dot", "alice@example.com."],
    ["label starting with a hyphen", "alice@-example.com"],
    ["label ending with a hyphen", "alice@example-.com"],
    ["underscore in the domain", "alice@ex_ample.com"],
    ["percent escape in the domain", "alice@ex%41mple.com"],
    ["slash in the domain", "alice@exa/mple.com"],
    ["port in the domain", "alice@example.com:25"],
    ["backslash in the domain", "alice@exa\\mple.com"],
    ["numeric TLD", "alice@example.123"],
    ["dotted quad without brackets", "alice@192.0.2.1"],
    ["hex TLD", "alice@example.0x7f"],
    ["lone surrogate", "ali\ud800ce@example.com"],
    ["comment", "alice(comment)@example.com"],
    ["quoted string after atoms", 'alice."smith"@example.com'],
    ["escape of a non-ASCII character in quotes", '"ali\\éce"@example.com'],
  ])("rejects %s", (_why, input) => {
    const result = checkSyntax(input);
    expect(result.valid).toBe(false);
    expect(result.error).toBeTruthy();
  });

  it("counts the local part in octets, not characters", () => {
    // é is two octets in UTF-8: 32 of them fill the 64-octet limit exactly.
    expect(checkSyntax(`${"é".repeat(32)}@example.com`).valid).toBe(true);
    expect(checkSyntax(`${"é".repeat(33)}@example.com`).valid).toBe(false);
  });

  it("limits each label to 63 octets after IDNA conversion", () => {
    expect(checkSyntax(`alice@${"a".repeat(63)}.com`).valid).toBe(true);
    expect(checkSyntax(`alice@${"a".repeat(64)}.com`).valid).toBe(false);
    // 60 ü's become far more than 63 ASCII characters once encoded.
    expect(checkSyntax(`alice@${"ü".repeat(60)}.com`).valid).toBe(false);
  });

  it("limits the whole wire address to 254 octets", () => {
    const domain = `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(55)}.com`;
    const local254 = "x".repeat(254 - 1 - domain.length);
    expect(checkSyntax(`${local254}@${domain}`).valid).toBe(true);
    expect(checkSyntax(`${local254}x@${domain}`).valid).toBe(false);
  });

  it("refuses very long input without parsing it", () => {
    expect(checkSyntax(`${"a".repeat(100_000)}@example.com`).valid).toBe(false);
  });
});

describe("assertSafeForSmtp", () => {
  it.each([
    "alice@example.com",
    '"john doe"@example.com',
    "josé@example.com",
    `${"x".repeat(240)}@example.com`,
  ])("accepts %s", (address) => {
    expect(() => assertSafeForSmtp(address)).not.toThrow();
  });

  it.each([
    ["CRLF", "alice@example.com\r\nRCPT TO:<bob@example.com>"],
    ["LF", "alice@example.com\nDATA"],
    ["CR", "alice@example.com\r"],
    ["NUL", "alice\u0000@example.com"],
    ["TAB", "alice\t@example.com"],
    ["DEL", "alice\u007f@example.com"],
    ["C1", "alice\u0085@example.com"],
    ["empty", ""],
    ["255 characters", `${"x".repeat(243)}@example.com`],
    ["256 octets in 134 characters", `${"é".repeat(122)}@example.com`],
  ])("throws on %s", (_why, address) => {
    expect(() => assertSafeForSmtp(address)).toThrow();
  });
});
