// The fingerprint of a create request, for Idempotency-Key: SHA-256 of its
// parsed content as JSON. It is streamed into the digest a slice of entries
// at a time, so a 16 MiB list is never held a second time as one JSON string
// (and a third time as its bytes). The bytes are exactly those of
// JSON.stringify([source, label, startAt, webhookUrl, inputColumns, entries]).

import type { NewJobInput } from "./create";

/** Entries serialised per write into the digest. */
const SLICE = 2000;

export async function requestHash(input: NewJobInput): Promise<string> {
  const digest = new crypto.DigestStream("SHA-256");
  const writer = digest.getWriter();
  const encoder = new TextEncoder();
  const head = JSON.stringify([
    input.source,
    input.label ?? null,
    input.startAt ?? null,
    input.webhookUrl ?? null,
    input.inputColumns ?? null,
  ]);
  // The head without its closing bracket, then the entries as the sixth element.
  await writer.write(encoder.encode(`${head.slice(0, -1)},[`));
  const { entries } = input;
  for (let from = 0; from < entries.length; from += SLICE) {
    const part = entries.slice(from, from + SLICE).map((e) => JSON.stringify(e) ?? "null");
    await writer.write(encoder.encode((from > 0 ? "," : "") + part.join(",")));
  }
  await writer.write(encoder.encode("]]"));
  await writer.close();
  const bytes = new Uint8Array(await digest.digest);
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}
