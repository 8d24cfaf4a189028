import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { InfrastructureError } from "../../src/lib/infrastructure";
import { AnswerOutbox } from "../../src/mx/answers";
import { CatchAllBook } from "../../src/mx/catch-all";
import { type HostHealth, newHealth } from "../../src/mx/health";
import { ProberPool } from "../../src/mx/prober-pool";
import type { HostAnswer, HostRecipient } from "../../src/mx/protocol";
import { RecipientQueue } from "../../src/mx/queue";
import { HostScheduler, type InfraState } from "../../src/mx/scheduler";
import { relaySessions } from "../../src/mx/transport";
import { mx, smtpConfig } from "../smtp-helpers";

// A prober that fails (unreachable, 5xx, a timeout) is our failure, not the
// mail server's answer: the host's scheduler tries again with a growing
// pause, and only a recipient past its deadline is answered, saying so.

describe("a failing prober", () => {
  it("throws a typed infrastructure failure for a refused connection and for a 5xx", async () => {
    const plan = {
      targets: [{ host: "mx.normal.test", ip: "127.0.0.10" }],
      maxRcpts: 10,
      next: () => ["alice@normal.test"],
      answer: () => {},
    };
    const refused = relaySessions(
      new ProberPool(["http://127.0.0.1:9"], { downMs: 1000 }),
      "secret",
      smtpConfig,
    );
    await expect(refused(plan, new AbortController().signal)).rejects.toBeInstanceOf(InfrastructureError);
    const wrongPath = relaySessions(
      new ProberPool([`${env.DOH_URL.replace(/\/dns-query$/, "")}/no-such`], { downMs: 1000 }),
      "secret",
      smtpConfig,
    );
    await expect(wrongPath(plan, new AbortController().signal)).rejects.toMatchObject({
      name: "InfrastructureError",
      component: "prober",
    });
  });

  it("defers recipients with back-off and answers prober_unavailable only at their deadline", async () => {
    const host = env.MX.get(env.MX.idFromName(`prober-down-${Date.now().toString(36)}`));
    const { answers, sessions, answeredAt, deadlineAt } = await runInDurableObject(host, async (_, state) => {
      const sql = state.storage.sql;
      const queue = new RecipientQueue(sql);
      const job = "job-prober-down";
      const deadlineAt = Date.now() + 3000;
      const recipients: HostRecipient[] = ["alice", "bob"].map((local, position) => ({
        job,
        position,
        address: `${local}@normal.test`,
        domain: "normal.test",
        mx: mx("mx.normal.test", "127.0.0.10"),
        fallback: [],
        probeOnly: false,
        deadlineAt,
      }));
      queue.add(recipients, Date.now());
      let health: HostHealth = newHealth(2, 100);
      let infra: InfraState = { failuresInRow: 0, pausedUntil: 0 };
      let sessions = 0;
      const answers: HostAnswer[] = [];
      let answeredAt = 0;
      const scheduler = () =>
        new HostScheduler({
          queue,
          catchAll: new CatchAllBook(sql),
          outbox: new AnswerOutbox(sql),
          health: { load: () => health, save: (h) => (health = h) },
          targets: () => [{ host: "mx.normal.test", ip: "127.0.0.10" }],
          profile: null,
          runSession: async (plan) => {
            sessions++;
            await plan.next(plan.maxRcpts);
            throw new InfrastructureError("prober", "prober answered HTTP 503");
          },
          report: async (_job, batch) => {
            answers.push(...batch);
            answeredAt = Date.now();
            return { stop: false };
          },
          forward: async () => {},
          atomically: (fn) => state.storage.transactionSync(fn),
          outbound: (fn) => fn(),
          greylistCeilingMs: 1000,
          backoffCeilingMs: 1000,
          infra: { load: () => infra, save: (s) => (infra = s) },
        });
      // The host object's alarm: a run, then the next one when something falls due.
      const end = Date.now() + 15_000;
      while (answers.length < 2 && Date.now() < end) {
        await scheduler().run(Date.now() + 30_000);
        const next = Math.max(queue.nextDue() ?? Date.now(), infra.pausedUntil);
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - Date.now())));
      }
      return { answers, sessions, answeredAt, deadlineAt };
    });

    expect(answers.map((a) => [a.position, a.smtp.status]).sort()).toEqual([
      [0, "prober_unavailable"],
      [1, "prober_unavailable"],
    ]);
    // Tried again before giving up, and not answered before the deadline.
    expect(sessions).toBeGreaterThanOrEqual(2);
    expect(answeredAt).toBeGreaterThanOrEqual(deadlineAt);
  });
});
