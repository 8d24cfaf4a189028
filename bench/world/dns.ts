// The world's DNS: one zone, two doors. mailvet asks over DNS-over-HTTPS (the
// test fixture's DoH server); the baseline asks over plain UDP, as Node's
// resolver does. The UDP door forwards each datagram to the DoH server, so
// both tools always get byte-for-byte the same answers.

import { Buffer } from "node:buffer";
import { createSocket } from "node:dgram";
import { startDohServer } from "../../test/fixtures/doh-server";
import type { RecordSet } from "../../test/fixtures/world";

export interface WorldDns {
  dohUrl: string;
  udpPort: number;
  /** Queries answered since the last reset (either door). */
  queries(): number;
  resetCount(): void;
  close(): Promise<void>;
}

const FORWARD_TIMEOUT_MS = 5000;

export async function startWorldDns(zone: Record<string, RecordSet[]>): Promise<WorldDns> {
  const doh = await startDohServer({ zone, servfail: [] });
  const dohUrl = `http://127.0.0.1:${doh.port}/dns-query`;
  let base = 0;

  const udp = createSocket("udp4");
  udp.on("message", (query, peer) => {
    fetch(dohUrl, {
      method: "POST",
      headers: { "content-type": "application/dns-message" },
      body: query,
      signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS),
    })
      .then(async (res) => {
        if (!res.ok) return; // the client times out, as with a dead server
        udp.send(Buffer.from(await res.arrayBuffer()), peer.port, peer.address);
      })
      .catch(() => {});
  });
  await new Promise<void>((resolve, reject) => {
    udp.once("error", reject);
    udp.bind(0, "127.0.0.1", () => resolve());
  });

  return {
    dohUrl,
    udpPort: udp.address().port,
    queries: () => doh.queries() - base,
    resetCount: () => {
      base = doh.queries();
    },
    close: async () => {
      udp.close();
      await doh.close();
    },
  };
}
