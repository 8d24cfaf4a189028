// Which host object owns an exchanger. Objects are keyed by the server's
// address, not its name: shared hosting gives one server many names, and two
// names of one server must share one politeness cap.

import type { MxHost } from "../verify/types";

/** The key of the host object for an exchanger: its lowest address, or its name when it has none. */
export function hostKey(mx: MxHost): string {
  const ips = [...mx.addresses].sort(compareIps);
  return ips[0] ? ipHostKey(ips[0]) : `name:${mx.host}`;
}

/** The key of the host object for a server known by its address. */
export const ipHostKey = (ip: string): string => `ip:${ip}`;

/** IPv4 before IPv6, then in text order: a stable choice whatever order DNS returned. */
export function compareIps(a: string, b: string): number {
  const v6 = Number(a.includes(":")) - Number(b.includes(":"));
  return v6 !== 0 ? v6 : a < b ? -1 : a > b ? 1 : 0;
}
