import { describe, expect, it } from "vitest";
import { requestHash } from "../../src/job/request-hash";
import { sha256Hex } from "../../src/lib/crypto";

// The idempotency fingerprint is streamed, slice by slice, yet it is the
// same as hashing the whole request as one JSON string: keys stored before
// keep matching their replays.

describe("requestHash", () => {
  it("equals the SHA-256 of the whole request's JSON, across many slices", async () => {
    const entries = Array.from({ length: 4500 }, (_, i) =>
      i % 3 === 0
        ? { email: `u${i}@example.com`, extra: { name: `N"${i}`, city: "Zürich" } }
        : { email: `u${i}@example.com` },
    );
    const input = {
      accountId: "acct",
      source: "upload",
      label: "list \u2603",
      startAt: 1_700_000_000_000,
      webhookUrl: null,
      inputColumns: ["name", "city"],
      entries,
    };
    const whole = await sha256Hex(
      JSON.stringify([
        input.source,
        input.label,
        input.startAt,
        input.webhookUrl,
        input.inputColumns,
        entries,
      ]),
    );
    expect(await requestHash(input)).toBe(whole);
  });

  it("hashes an empty list and a list of one the same way as the whole JSON", async () => {
    for (const entries of [[], [{ email: "a@example.com" }]]) {
      const input = { accountId: "acct", source: "json", entries };
      const whole = await sha256Hex(JSON.stringify([input.source, null, null, null, null, entries]));
      expect(await requestHash(input)).toBe(whole);
    }
  });
});
