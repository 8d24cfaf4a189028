// Special-use and reserved domain names (RFC 2606, RFC 6761): no mailbox can
// exist under them, so they are answered without a DNS query, as undeliverable
// with reason `reserved_domain`, and are never called free providers.
//
// A local test world may give its fixture domains one of these names (RFC 6761
// sets .test aside for exactly that); RESOLVE_RESERVED lists the reserved names
// such a world resolves like any other, e.g. "test".

const RESERVED_NAMES = [
  "example.com", // RFC 2606 §3
  "example.net",
  "example.org",
  "example", // RFC 2606 §2, RFC 6761 §6.5
  "test", // RFC 6761 §6.2
  "invalid", // RFC 6761 §6.4
  "localhost", // RFC 6761 §6.3
] as const;

/** The reserved name `domain` falls under (itself or a parent), or null. */
export function reservedNameOf(domain: string): string | null {
  const name = domain.trim().toLowerCase().replace(/\.$/, "");
  for (const reserved of RESERVED_NAMES) {
    if (name === reserved || name.endsWith(`.${reserved}`)) return reserved;
  }
  return null;
}

/** Parses RESOLVE_RESERVED: comma- or space-separated names, lower case, no dots around them. */
export function parseResolveReserved(value: string | undefined): string[] {
  return (value ?? "")
    .split(/[\s,]+/)
    .map((name) =>
      name
        .trim()
        .toLowerCase()
        .replace(/^\.+|\.+$/g, ""),
    )
    .filter(Boolean);
}

/**
 * Whether `domain` is answered as reserved, without DNS: it falls under a
 * reserved name, and that name is not one the configuration resolves.
 */
export function answersAsReserved(domain: string, resolved: readonly string[]): boolean {
  const reserved = reservedNameOf(domain);
  return reserved !== null && !resolved.includes(reserved);
}
