import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import {
  newHealth,
  onErrorLimit,
  onTooManyConnections,
  pausedUntil,
  sessionsAllowed,
} from "../../src/mx/health";
import { runSession, type SessionEnd, type SessionPlan } from "../../src/verify/smtp-session";
import { connectSocket } from "../../src/verify/smtp-socket";
import type { MailboxStatus, SmtpReply } from "../../src/verify/types";
import { createJob, newAccount, waitForJob } from "../helpers";
import { ACCESS, EXPECTED, LISTENERS, ZONE } from "./world";

// mailvet against real mail software: Postfix (with postgrey, a connection
// cap, a recipient limit, access maps and error limits), NSD behind
// dnsdist's DoH. test/real/global-setup.ts starts them; without the
// packages the suite is skipped, and the set-up says why in one line.

const skip = inject("realSkip");

describe.skipIf(skip)("real mail software", () => {
  it("gives every address of the real world its right verdict through one job", async () => {
    const { auth } = await newAccount();
    const started = Date.now();
    const job = await createJob(
      auth,
      EXPECTED.map((e) => e[0]),
    );
    const done = await waitForJob(auth, job.id, 55_000);
    expect(done.status).toBe("completed");
    const byEmail = new Map(done.results.map((r) => [r.email, r]));
    const wrong = EXPECTED.filter(([email, result, catchAll, reason]) => {
      const r = byEmail.get(email);
      return r?.result !== result || r.catch_all !== catchAll || r.reason !== reason;
    }).map(([email, result, , reason]) => {
      const r = byEmail.get(email);
      return `${email}: want ${result}/${reason}, got ${r?.result}/${r?.reason} ${r?.smtp_code ?? ""} ${r?.smtp_text ?? ""}`;
    });
    const accuracy = (100 * (EXPECTED.length - wrong.length)) / EXPECTED.length;
    console.log(
      `real world: ${EXPECTED.length} addresses, accuracy ${accuracy.toFixed(1)} %, ${Date.now() - started} ms`,
    );
    expect(wrong).toEqual([]);
  });

  it("reads Postfix's access-map replies for full and disabled mailboxes", async () => {
    const plain = [`full@plain.${ZONE}`, `over@plain.${ZONE}`, `gone@plain.${ZONE}`, `ghost@plain.${ZONE}`];
    const { answers, end } = await session("plain", plain);
    expect(end.kind).toBe("done");
    expect(answers.map((a) => [a.status, a.reply.code, a.reply.enhanced])).toEqual([
      ["full", 452, "4.2.2"],
      ["full", 552, "5.2.2"],
      ["disabled", 550, "5.2.1"],
      ["not_found", 550, "5.1.1"],
    ]);
    // The replies are Postfix's own, built from the access map.
    expect(answers[0]?.reply.text).toContain(ACCESS[`full@plain.${ZONE}`]!.slice(10));
  });

  it("reads postgrey's 450 4.2.0 Greylisted as greylisting", async () => {
    // A sender of its own: postgrey greylists by (client, sender, recipient), so this is a first try.
    const { answers } = await session("grey", [`alice@grey.${ZONE}`], `greytest-${Date.now()}@mailvet.test`);
    expect(answers).toHaveLength(1);
    expect(answers[0]?.status).toBe("greylisted");
    expect(answers[0]?.reply).toMatchObject({ code: 450, enhanced: "4.2.0" });
    expect(answers[0]?.reply.text).toMatch(/Greylisted/);
  });

  it("takes a 421 too many connections as fewer sessions at once, with no back-off", async () => {
    // One session holds the capped host's only slot while a second one knocks.
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let asked = false;
    const holdSlot = () =>
      runSession(
        plan("conncap", async () => {
          if (asked) {
            await held;
            return [];
          }
          asked = true;
          return [`alice@conncap.${ZONE}`];
        }),
        config(),
        connectSocket,
      );
    // The slot may still be counted for a session that just ended (Postfix's anvil learns of it late).
    let first = holdSlot();
    for (let tries = 0; tries < 20; tries++) {
      const end = await Promise.race([first, waitUntil(() => asked).then(() => null)]);
      if (asked) break;
      expect(end?.kind).toBe("too_many_connections");
      await new Promise((r) => setTimeout(r, 250));
      first = holdSlot();
    }
    expect(asked).toBe(true);
    const second = await runSession(plan("conncap", once([`bob@conncap.${ZONE}`])), config(), connectSocket);
    release();
    expect((await first).kind).toBe("done");
    expect(second.kind).toBe("too_many_connections");
    if (second.kind !== "too_many_connections") return;
    expect(second.reply.text).toMatch(/too many connections/);
    // Refused at the banner: no recipient was handed over, so none is lost.
    expect(second.answered).toBe(0);

    const now = Date.now();
    const health = onTooManyConnections(newHealth(4, 100), 1, now, second.reply, 60_000);
    expect(health.limit).toBe(1);
    expect(pausedUntil(health, now)).toBeNull();
    expect(sessionsAllowed(health, now)).toBe(1);
  });

  it("starts a fresh session when Postfix delays for errors, and keeps later sessions under that limit", async () => {
    const ghosts = (from: number) => Array.from({ length: 8 }, (_, i) => `ghost${from + i}@errors.${ZONE}`);
    const first = await session("errors", ghosts(0));
    // smtpd_soft_error_limit = 3: the fourth refusal comes a second late.
    expect(first.end).toMatchObject({ kind: "error_limit", reply: null, errors: 3 });
    expect(first.answers).toHaveLength(4);
    expect(first.end.unanswered).toHaveLength(4);

    const learned = onErrorLimit(newHealth(4, 100), first.end.kind === "error_limit" ? first.end.errors : 0);
    expect(learned.errorsPerSession).toBe(2);
    const started = Date.now();
    const second = await session("errors", ghosts(8), undefined, learned.errorsPerSession);
    expect(second.end.kind).toBe("done");
    expect(second.answers.map((a) => a.status)).toEqual(["not_found", "not_found"]);
    expect(second.end.unanswered).toHaveLength(6);
    // None of its replies was delayed, not even the one to QUIT.
    expect(Date.now() - started).toBeLessThan(900);
  });

  it("starts a fresh session after 421 too many errors, and keeps later sessions under that limit", async () => {
    const ghosts = Array.from({ length: 8 }, (_, i) => `ghost${i}@errdrop.${ZONE}`);
    const first = await session("errdrop", ghosts);
    // smtpd_hard_error_limit = 4: four refusals, then the drop.
    expect(first.end).toMatchObject({ kind: "error_limit", errors: 4 });
    if (first.end.kind !== "error_limit") return;
    expect(first.end.reply?.code).toBe(421);
    expect(first.answers).toHaveLength(4);

    const learned = onErrorLimit(newHealth(4, 100), first.end.errors);
    expect(learned.errorsPerSession).toBe(3);
    const second = await session("errdrop", ghosts.slice(4), undefined, learned.errorsPerSession);
    expect(second.end.kind).toBe("done");
    expect(second.answers).toHaveLength(3);
  });
});

// ── Sessions straight to one listener ──────────────────────────────────

function config(mailFrom = "probe@mailvet.test") {
  return {
    port: Number(env.SMTP_PORT),
    heloName: "prober.mailvet.test",
    mailFrom,
    connectTimeoutMs: 1000,
    replyTimeoutMs: 3000,
  };
}

function plan(
  listener: string,
  next: SessionPlan["next"],
  maxErrors?: number | null,
): SessionPlan & {
  answers: { address: string; status: MailboxStatus; reply: SmtpReply }[];
} {
  const ip = LISTENERS.find((l) => l.name === listener)!.ip;
  const answers: { address: string; status: MailboxStatus; reply: SmtpReply }[] = [];
  return {
    targets: [{ host: `mx-${listener}.${ZONE}`, ip }],
    maxRcpts: 100,
    maxErrors,
    next,
    answer: (address, status, reply) => answers.push({ address, status, reply }),
    answers,
  };
}

/** Hands over `addresses` in one transaction, then nothing. */
function once(addresses: string[]): SessionPlan["next"] {
  let given = false;
  return () => {
    if (given) return [];
    given = true;
    return addresses;
  };
}

async function session(
  listener: string,
  addresses: string[],
  mailFrom?: string,
  maxErrors?: number | null,
): Promise<{ answers: ReturnType<typeof plan>["answers"]; end: SessionEnd }> {
  const p = plan(listener, once(addresses), maxErrors);
  const end = await runSession(p, config(mailFrom), connectSocket);
  return { answers: p.answers, end };
}

async function waitUntil(ready: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !ready(); i++) await new Promise((r) => setTimeout(r, 20));
}
