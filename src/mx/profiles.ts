// What is known of big providers before we ever talk to them, in one table.
// A profile caps what adaptive politeness would otherwise have to learn the
// hard way (by being refused), or says what a verifier cannot learn at all.

export interface HostProfile {
  name: string;
  /** Matches any of the names the host is known under. */
  match: RegExp;
  /** Sessions at once, at most. */
  maxSessions?: number;
  /** RCPTs one session may carry, at most. */
  maxRcptsPerSession?: number;
  /** Accepts every RCPT and rejects after DATA: a verifier sees a catch-all. */
  acceptsAll?: boolean;
}

export const PROFILES: readonly HostProfile[] = [
  // Outlook.com answers a second RCPT in one session with 452 4.5.3, and
  // operators report being refused above about two connections.
  {
    name: "microsoft",
    match: /(^|\.)(protection\.outlook\.com|outlook\.com|hotmail\.com|olc\.protection\.outlook\.com)$/i,
    maxSessions: 2,
    maxRcptsPerSession: 1,
  },
  // Yahoo takes every recipient at RCPT time and bounces after DATA.
  { name: "yahoo", match: /(^|\.)(yahoodns\.net|yahoo\.com|aol\.com)$/i, acceptsAll: true },
  { name: "google", match: /(^|\.)(google\.com|googlemail\.com)$/i, maxSessions: 3 },
];

export function profileFor(names: readonly string[]): HostProfile | null {
  return PROFILES.find((p) => names.some((name) => p.match.test(name))) ?? null;
}
