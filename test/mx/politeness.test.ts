import { describe, expect, it } from "vitest";
import {
  newHealth,
  onBroken,
  onCleanSession,
  onErrorLimit,
  onRecipientLimit,
  onThrottled,
  onTooManyConnections,
  onUnreachable,
  pausedUntil,
  sessionsAllowed,
} from "../../src/mx/health";
import { hostKey } from "../../src/mx/key";
import { profileFor } from "../../src/mx/profiles";
import { retryDelayMs } from "../../src/mx/retry";

// The host object's politeness, as pure functions: which object owns a
// server, how many sessions it may hold, when it backs off, when it stops
// knocking on a silent server, and how often it asks a greylisting one again.

const reply421 = { code: 421, enhanced: "4.7.0", text: "Error: too many connections from 192.0.2.1" };
const T0 = 1_000_000;

describe("hostKey", () => {
  it("gives two names of one server the same object, whatever order DNS returned", () => {
    const a = hostKey({ host: "mx1.hostco.test", preference: 10, addresses: ["192.0.2.7", "192.0.2.3"] });
    const b = hostKey({ host: "mail.hostco.test", preference: 5, addresses: ["192.0.2.3"] });
    expect(a).toBe("ip:192.0.2.3");
    expect(b).toBe(a);
  });

  it("prefers IPv4, and falls back to the name when there is no address", () => {
    expect(hostKey({ host: "mx.test", preference: 0, addresses: ["2001:db8::1", "192.0.2.9"] })).toBe(
      "ip:192.0.2.9",
    );
    expect(hostKey({ host: "mx.test", preference: 0, addresses: [] })).toBe("name:mx.test");
  });
});

describe("host health", () => {
  it("holds fewer sessions at once after 'too many connections', without backing off", () => {
    const h = onTooManyConnections(newHealth(4, 100), 1, T0, reply421, 60_000);
    expect(h.limit).toBe(1);
    expect(sessionsAllowed(h, T0)).toBe(1);
    expect(pausedUntil(h, T0)).toBeNull();
  });

  it("reads 'too many connections' with no other session open as throttling: a growing back-off", () => {
    const first = onTooManyConnections(newHealth(4, 100), 0, T0, reply421, 60_000);
    expect(sessionsAllowed(first, T0)).toBe(0);
    const firstWait = (pausedUntil(first, T0) ?? T0) - T0;
    expect(firstWait).toBeGreaterThan(0);
    const second = onThrottled(first, T0, reply421, 60_000);
    expect((pausedUntil(second, T0) ?? T0) - T0).toBeGreaterThan(firstWait);
    expect(second.limit).toBe(1);
  });

  it("grows back one session per run of clean sessions, up to the cap", () => {
    let h = { ...newHealth(3, 100), limit: 1 };
    for (let i = 0; i < 5; i++) h = onCleanSession(h);
    expect(h.limit).toBe(2);
    for (let i = 0; i < 50; i++) h = onCleanSession(h);
    expect(h.limit).toBe(3);
  });

  it("opens the breaker on a silent host, allows one trial after the window, and doubles it when the trial fails", () => {
    const open = onUnreachable(newHealth(4, 100), T0, "timeout");
    expect(sessionsAllowed(open, T0 + 1000)).toBe(0);
    expect(sessionsAllowed(open, open.breakerUntil)).toBe(1);
    const again = onUnreachable(open, open.breakerUntil, "timeout");
    expect(again.breakerWindowMs).toBe(open.breakerWindowMs * 2);
    const healed = onCleanSession(again);
    expect(healed.breakerStatus).toBeNull();
    expect(sessionsAllowed(healed, again.breakerUntil)).toBe(4);
  });

  it("counts a host whose sessions keep breaking before any answer as down", () => {
    let h = newHealth(4, 100);
    h = onBroken(h, T0, 0);
    h = onBroken(h, T0, 0);
    expect(h.breakerStatus).toBeNull();
    h = onBroken(h, T0, 0);
    expect(h.breakerStatus).toBe("unreachable");
    expect(onBroken(newHealth(4, 100), T0, 3).broken).toBe(0);
  });

  it("learns how many recipients a session carries from a 452", () => {
    expect(onRecipientLimit(newHealth(4, 100), 50).rcptsPerSession).toBe(50);
    expect(onRecipientLimit(newHealth(4, 20), 50).rcptsPerSession).toBe(20);
  });

  it("keeps sessions one refusal under a host's error limit, without backing off", () => {
    const h = onErrorLimit(newHealth(4, 100), 10);
    expect(h.errorsPerSession).toBe(9);
    expect(pausedUntil(h, T0)).toBeNull();
    expect(sessionsAllowed(h, T0)).toBe(4);
    // Only ever lower, and never below one.
    expect(onErrorLimit(h, 20).errorsPerSession).toBe(9);
    expect(onErrorLimit(h, 0).errorsPerSession).toBe(1);
  });
});

describe("retryDelayMs", () => {
  it("asks a greylisting server again after seconds, then longer, never past the ceiling", () => {
    const waits = Array.from({ length: 12 }, (_, i) => retryDelayMs(i + 1, 60_000));
    expect(waits[0]).toBe(2000);
    for (let i = 1; i < waits.length; i++) expect(waits[i]).toBeGreaterThanOrEqual(waits[i - 1]!);
    expect(Math.max(...waits)).toBe(60_000);
    // A 15 s greylist delay is met by the fourth try, not a minute later.
    const tries = [0, 1, 2, 3].map((n) => waits.slice(0, n).reduce((a, b) => a + b, 0));
    expect(tries[3]).toBeGreaterThan(9_000);
    expect(tries[3]).toBeLessThan(17_000);
  });
});

describe("profiles", () => {
  it("caps Microsoft at 2 sessions of one recipient, and knows Yahoo accepts everyone", () => {
    expect(profileFor(["example-com.mail.protection.outlook.com"])).toMatchObject({
      maxSessions: 2,
      maxRcptsPerSession: 1,
    });
    expect(profileFor(["mta5.am0.yahoodns.net"])?.acceptsAll).toBe(true);
    expect(profileFor(["mx.normal.test"])).toBeNull();
  });
});
