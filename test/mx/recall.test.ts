import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { HostRecipient } from "../../src/mx/protocol";
import { dropAcross } from "../../src/mx/recall";

// Cancel tells every host holding a job's addresses to drop them. With more
// hosts than one invocation may call at once (6), each call passes a share of
// the rest on; every host must still hear it (and no limit may be crossed,
// which the platform-limits setup checks after each test).

// This server greylists every unknown recipient for ever: the recipients stay queued until dropped.
const NEVER = { host: "mx.noprobe.test", preference: 10, addresses: ["127.0.0.23"] };

describe("dropAcross", () => {
  it("reaches every one of 40 hosts, 6 calls at a time from any one invocation", async () => {
    const job = `recall-${Date.now().toString(36)}`;
    const hosts = Array.from({ length: 40 }, (_, i) => `name:recall-${job}-${i}`);
    const recipients = (i: number): HostRecipient[] =>
      Array.from({ length: 3 }, (_, n) => ({
        job,
        position: i * 10 + n,
        address: `ghost${n}@recall-${i}.noprobe.test`,
        domain: `recall-${i}.noprobe.test`,
        mx: NEVER,
        fallback: [],
        probeOnly: false,
        deadlineAt: Date.now() + 60_000,
      }));
    const stub = (host: string) => env.MX.get(env.MX.idFromName(host));
    for (const [i, host] of hosts.entries()) await stub(host).enqueue(recipients(i));

    const queued = async () => Promise.all(hosts.map(async (host) => (await stub(host).status()).queued));
    expect(await queued()).toEqual(hosts.map(() => 3));

    await dropAcross(env, job, hosts);

    expect(await queued()).toEqual(hosts.map(() => 0));
  });
});
