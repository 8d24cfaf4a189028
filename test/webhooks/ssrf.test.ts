import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { checkWebhookUrl, dohAddressResolver, isForbiddenAddress } from "../../src/webhooks/ssrf";

const PUBLIC_V4 = "93.184.215.14";
const PUBLIC_V6 = "2606:4700:4700::1111";

/** A tiny stand-in for DNS: what each test name resolves to. Unknown names fail to resolve. */
const RECORDS: Record<string, string[]> = {
  "hooks.example.com": [PUBLIC_V4],
  "v6.example.com": [PUBLIC_V6],
  "dual.example.com": [PUBLIC_V4, PUBLIC_V6],
  // DNS rebinding: public-looking names that point inside.
  "rebind-loopback.example.com": ["127.0.0.1"],
  "rebind-metadata.example.com": ["169.254.169.254"],
  "rebind-private.example.com": ["10.0.0.7"],
  "rebind-v6.example.com": ["fd00:ec2::254"],
  "rebind-mapped.example.com": ["::ffff:127.0.0.1"],
  "one-bad-apple.example.com": [PUBLIC_V4, "192.168.1.20"],
  "empty.example.com": [],
};
async function resolve(host: string): Promise<string[]> {
  const addresses = RECORDS[host];
  if (!addresses) throw new Error(`SERVFAIL for ${host}`);
  return addresses;
}

const ALLOWED = [
  `https://${PUBLIC_V4}/hook`,
  `https://[${PUBLIC_V6}]/hook`,
  "https://hooks.example.com/mailvet",
  "https://HOOKS.example.com.:8443/mailvet?x=1",
  "https://v6.example.com/",
  "https://dual.example.com/",
  `https://[::ffff:${PUBLIC_V4}]/`,
];

/** [url, a fragment of the reason] */
const REFUSED: [string, string][] = [
  // scheme and shape
  ["http://hooks.example.com/", "scheme"],
  ["ftp://hooks.example.com/", "scheme"],
  ["not a url", "valid"],
  ["https://user:secret@hooks.example.com/", "credentials"],
  // loopback, in every spelling the URL parser accepts
  ["https://127.0.0.1/", "loopback"],
  ["https://127.8.9.10:8443/", "loopback"],
  ["https://2130706433/", "loopback"],
  ["https://0x7f000001/", "loopback"],
  ["https://0177.0.0.1/", "loopback"],
  ["https://127.1/", "loopback"],
  ["https://[::1]/", "loopback"],
  ["https://[::ffff:127.0.0.1]/", "loopback"],
  ["https://[0:0:0:0:0:ffff:7f00:1]/", "loopback"],
  ["https://localhost/", "loopback"],
  ["https://LOCALHOST./", "loopback"],
  ["https://api.localhost/", "loopback"],
  // private, CGNAT, this-network
  ["https://10.0.0.1/", "private"],
  ["https://172.16.0.1/", "private"],
  ["https://172.31.255.254/", "private"],
  ["https://192.168.1.1/", "private"],
  ["https://100.64.0.1/", "carrier-grade NAT"],
  ["https://100.127.255.254/", "carrier-grade NAT"],
  ["https://0.0.0.0/", "this network"],
  ["https://0/", "this network"],
  // link-local, unique-local, metadata
  ["https://169.254.1.1/", "link-local"],
  ["https://169.254.169.254/latest/meta-data/", "metadata"],
  ["https://[::ffff:169.254.169.254]/", "metadata"],
  ["https://[::ffff:a9fe:a9fe]/", "metadata"],
  ["https://[fe80::1]/", "link-local"],
  ["https://[fc00::1]/", "unique-local"],
  ["https://[fd12:3456:789a::1]/", "unique-local"],
  ["https://[fd00:ec2::254]/", "metadata"],
  ["https://metadata.google.internal/computeMetadata/v1/", "metadata"],
  ["https://metadata.goog/", "metadata"],
  ["https://billing.internal/", "internal"],
  ["https://printer.local/", "internal"],
  ["https://metadata/", "fully qualified"],
  // multicast, broadcast, reserved, IPv6 forms that embed IPv4
  ["https://224.0.0.1/", "multicast"],
  ["https://239.255.255.250/", "multicast"],
  ["https://255.255.255.255/", "broadcast"],
  ["https://240.0.0.1/", "reserved"],
  ["https://[ff02::1]/", "multicast"],
  ["https://[::]/", "unspecified"],
  ["https://[2002:7f00:1::]/", "loopback"],
  ["https://[64:ff9b::a9fe:a9fe]/", "metadata"],
  ["https://[::7f00:1]/", "IPv4-compatible"],
  // names whose DNS points inside, or that cannot be checked
  ["https://rebind-loopback.example.com/", "resolves to 127.0.0.1"],
  ["https://rebind-metadata.example.com/", "resolves to 169.254.169.254"],
  ["https://rebind-private.example.com/", "private"],
  ["https://rebind-v6.example.com/", "metadata"],
  ["https://rebind-mapped.example.com/", "loopback"],
  ["https://one-bad-apple.example.com/", "192.168.1.20"],
  ["https://empty.example.com/", "no A or AAAA"],
  ["https://unknown.example.com/", "could not resolve"],
];

describe("checkWebhookUrl in production (https only, no loopback)", () => {
  const opts = { allowLoopback: false, resolve };

  it.each(ALLOWED)("allows %s", async (url) => {
    const result = await checkWebhookUrl(url, opts);
    expect(result).toMatchObject({ ok: true });
    if (result.ok) expect(result.url.href).toBe(new URL(url).href);
  });

  it.each(REFUSED)("refuses %s", async (url, why) => {
    const result = await checkWebhookUrl(url, opts);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(why);
  });

  it("refuses host names when it has no resolver to check them, but not IP literals", async () => {
    expect(await checkWebhookUrl("https://hooks.example.com/", { allowLoopback: false })).toMatchObject({
      ok: false,
      reason: expect.stringContaining("no resolver"),
    });
    expect(await checkWebhookUrl(`https://${PUBLIC_V4}/`, { allowLoopback: false })).toMatchObject({
      ok: true,
    });
  });
});

describe("checkWebhookUrl with WEBHOOK_ALLOW_LOOPBACK (dev and tests)", () => {
  const opts = { allowLoopback: true, resolve };

  it.each([
    "http://127.0.0.1:8787/hook",
    "http://127.0.0.1/",
    "http://localhost:3000/hook",
    "http://[::1]:9000/",
    "https://[::ffff:127.0.0.1]/",
    "http://rebind-loopback.example.com/",
    "http://hooks.example.com/",
  ])("allows %s", async (url) => {
    expect(await checkWebhookUrl(url, opts)).toMatchObject({ ok: true });
  });

  it.each([
    ["http://10.0.0.1/", "private"],
    ["http://192.168.0.10/", "private"],
    ["http://169.254.169.254/latest/meta-data/", "metadata"],
    ["http://[fd00:ec2::254]/", "metadata"],
    ["http://[fe80::1]/", "link-local"],
    ["http://metadata.google.internal/", "metadata"],
    ["http://rebind-metadata.example.com/", "metadata"],
    ["http://0.0.0.0/", "this network"],
    ["ftp://127.0.0.1/", "scheme"],
  ])("still refuses %s", async (url, why) => {
    const result = await checkWebhookUrl(url, opts);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(why);
  });
});

describe("isForbiddenAddress", () => {
  it.each([
    ["8.8.8.8", false],
    [PUBLIC_V6, false],
    [`[${PUBLIC_V6}]`, false],
    ["172.15.255.255", false],
    ["172.32.0.0", false],
    ["100.63.255.255", false],
    ["100.128.0.0", false],
    ["169.253.255.255", false],
    ["223.255.255.255", false],
    ["fe7f::1", false],
    ["127.0.0.1", true],
    ["10.255.255.255", true],
    ["::1", true],
    ["fec0::1", true],
    ["2001:db8::1", true],
    ["2001:0:4136:e378:8000:63bf:3fff:fdd2", true], // Teredo
  ] as const)("%s → %s", (ip, forbidden) => {
    expect(isForbiddenAddress(ip, false)).toBe(forbidden);
  });

  it("refuses anything it cannot read as a canonical address", () => {
    for (const junk of [
      "",
      "example.com",
      "1.2.3",
      "1.2.3.256",
      "01.2.3.4",
      "0x7f.0.0.1",
      "1:2:3:4:5:6:7:8:9",
      "1::2::3",
      "::ffff:1.2.3",
    ]) {
      expect(isForbiddenAddress(junk, true), junk).toBe(true);
    }
  });

  it("lets loopback through only when asked, and nothing else with it", () => {
    expect(isForbiddenAddress("127.0.0.1", true)).toBe(false);
    expect(isForbiddenAddress("::1", true)).toBe(false);
    expect(isForbiddenAddress("::ffff:127.0.0.1", true)).toBe(false);
    for (const ip of ["10.0.0.1", "169.254.169.254", "fd00:ec2::254", "192.168.1.1", "::"]) {
      expect(isForbiddenAddress(ip, true), ip).toBe(true);
    }
  });
});

describe("dohAddressResolver over the fixture DoH server", () => {
  // The fixture zone (test/fixtures/world.ts) points its mail hosts at 127.0.0.x:
  // exactly the shape of a rebinding attack on a public-looking name.
  const timeoutMs = Number(env.DNS_TIMEOUT_MS);
  const resolveDoh = dohAddressResolver(env.DOH_URL, timeoutMs);

  it("resolves A records", async () => {
    expect(await resolveDoh("mx.normal.test")).toEqual(["127.0.0.10"]);
    expect(await resolveDoh("MX.Normal.Test.")).toEqual(["127.0.0.10"]);
  });

  it("answers nothing for a name that does not exist", async () => {
    expect(await resolveDoh("gone.lame.test")).toEqual([]);
  });

  it("throws when the resolver fails", async () => {
    await expect(resolveDoh("servfail.test")).rejects.toThrow(/SERVFAIL/);
    const stalled = dohAddressResolver(new URL("/stall/dns-query", env.DOH_URL).toString(), 300);
    await expect(stalled("mx.normal.test")).rejects.toThrow(/timed out/);
  });

  it("makes checkWebhookUrl refuse a name that resolves to loopback", async () => {
    const refused = await checkWebhookUrl("https://mx.normal.test/hook", {
      allowLoopback: false,
      resolve: resolveDoh,
    });
    expect(refused).toEqual({
      ok: false,
      reason: "mx.normal.test resolves to 127.0.0.10, a loopback address",
    });
    const allowed = await checkWebhookUrl("http://mx.normal.test/hook", {
      allowLoopback: true,
      resolve: resolveDoh,
    });
    expect(allowed.ok).toBe(true);
  });

  it("makes checkWebhookUrl refuse names it cannot resolve", async () => {
    for (const host of ["servfail.test", "gone.lame.test"]) {
      const result = await checkWebhookUrl(`https://${host}/`, { allowLoopback: true, resolve: resolveDoh });
      expect(result.ok, host).toBe(false);
    }
  });
});
