import { Webhook } from "standardwebhooks";
import { describe, expect, inject, it } from "vitest";
import { attemptDelivery, WEBHOOK_USER_AGENT } from "../../src/webhooks/deliver";
import { eventPayload, terminalEventType } from "../../src/webhooks/payload";
import { nextAttemptDelayMs } from "../../src/webhooks/schedule";
import { newMessageId, newWebhookSecret } from "../../src/webhooks/sign";
import type { RecordedRequest } from "../fixtures/webhook-receiver";

// Real HTTP to the scripted receiver that global-setup starts on loopback
// (test/fixtures/webhook-receiver.ts). Each test uses its own path, so tests
// never see each other's requests.

const receiver = () => `http://127.0.0.1:${inject("webhookPort")}`;
const secret = newWebhookSecret();
const counts = { processed: 3, deliverable: 2, undeliverable: 1, risky: 0, unknown: 0 };

let paths = 0;
/** A path under a receiver script that no other test uses. */
function uniquePath(script: string): string {
  return `/${script}/t${Date.now().toString(36)}-${++paths}`;
}

async function received(path: string): Promise<RecordedRequest[]> {
  const res = await fetch(`${receiver()}/_requests?path=${encodeURIComponent(path)}`);
  return (await res.json()) as RecordedRequest[];
}

function deliver(path: string, extra: Partial<Parameters<typeof attemptDelivery>[0]> = {}) {
  const body = JSON.stringify(
    eventPayload("email_validation.completed", { id: "job_1", status: "completed", counts }, Date.now()),
  );
  return attemptDelivery({
    url: receiver() + path,
    secret,
    msgId: newMessageId(),
    body,
    timeoutMs: 5_000,
    ...extra,
  });
}

describe("attemptDelivery", () => {
  it("delivers a signed POST that the reference library verifies on the receiver", async () => {
    const path = uniquePath("ok");
    const msgId = newMessageId();
    const payload = eventPayload(
      "email_validation.completed",
      { id: "job_42", status: "completed", counts },
      Date.now(),
    );
    const body = JSON.stringify(payload);

    const outcome = await attemptDelivery({ url: receiver() + path, secret, msgId, body, timeoutMs: 5_000 });
    expect(outcome).toMatchObject({ status: 204, ok: true, disable: false, retryAfter: null, error: null });
    expect(outcome.durationMs).toBeGreaterThanOrEqual(0);

    const [request, ...more] = await received(path);
    expect(more).toEqual([]);
    expect(request).toMatchObject({ method: "POST", body });
    const headers = request!.headers;
    expect(headers["content-type"]).toBe("application/json");
    expect(headers["user-agent"]).toBe(WEBHOOK_USER_AGENT);
    expect(headers["webhook-id"]).toBe(msgId);
    expect(Math.abs(Number(headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(30);
    expect(new Webhook(secret).verify(request!.body, headers)).toEqual(payload);
    expect(() => new Webhook(newWebhookSecret()).verify(request!.body, headers)).toThrow();
  });

  it("sends the same message id with a fresh timestamp on each attempt", async () => {
    const path = uniquePath("fail/1");
    const msgId = newMessageId();
    const body = '{"type":"email_validation.canceled"}';
    const first = await attemptDelivery({
      url: receiver() + path,
      secret,
      msgId,
      body,
      timeoutMs: 5_000,
      now: () => Date.now() - 60_000,
    });
    expect(first).toMatchObject({
      status: 500,
      ok: false,
      disable: false,
      error: "receiver answered HTTP 500",
    });
    const second = await attemptDelivery({ url: receiver() + path, secret, msgId, body, timeoutMs: 5_000 });
    expect(second).toMatchObject({ status: 204, ok: true });

    const requests = await received(path);
    expect(requests.map((r) => r.headers["webhook-id"])).toEqual([msgId, msgId]);
    const [t1, t2] = requests.map((r) => Number(r.headers["webhook-timestamp"]));
    expect(t2! - t1!).toBeGreaterThanOrEqual(59);
    for (const r of requests) expect(() => new Webhook(secret).verify(r.body, r.headers)).not.toThrow();
  });

  it("reports a 500 as a failure to retry", async () => {
    const outcome = await deliver(uniquePath("fail/5"));
    expect(outcome).toMatchObject({ status: 500, ok: false, disable: false, retryAfter: null });
  });

  it("does not follow a redirect", async () => {
    const path = uniquePath("redirect");
    const outcome = await deliver(path);
    expect(outcome).toMatchObject({
      status: 302,
      ok: false,
      disable: false,
      error: "receiver answered HTTP 302",
    });
    expect(await received(path)).toHaveLength(1);
    expect(await received(path.replace("/redirect/", "/ok/"))).toEqual([]);
  });

  it("disables the endpoint on 410 Gone", async () => {
    expect(await deliver(uniquePath("gone"))).toMatchObject({ status: 410, ok: false, disable: true });
  });

  it("passes Retry-After on 429 through to the schedule", async () => {
    const path = uniquePath("retry-after/7");
    const outcome = await deliver(path);
    expect(outcome).toMatchObject({ status: 429, ok: false, disable: false, retryAfter: "7" });
    expect(nextAttemptDelayMs(1, () => 0.5, outcome.retryAfter)).toBe(7_000);
    expect(await deliver(path)).toMatchObject({ status: 204, ok: true, retryAfter: null });
  });

  it("gives up on a slow receiver at the timeout", async () => {
    const started = Date.now();
    const outcome = await deliver(uniquePath("slow/5000"), { timeoutMs: 300 });
    expect(outcome).toMatchObject({
      status: null,
      ok: false,
      disable: false,
      error: "no answer within 300 ms",
    });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(outcome.durationMs).toBeGreaterThanOrEqual(250);
  });

  it("reports a refused connection without throwing", async () => {
    const outcome = await attemptDelivery({
      url: "http://127.0.0.1:1/hook",
      secret,
      msgId: newMessageId(),
      body: "{}",
      timeoutMs: 2_000,
    });
    expect(outcome).toMatchObject({ status: null, ok: false, disable: false });
    expect(outcome.error).toMatch(/^request failed: /);
  });

  it("reports an unusable secret without throwing or sending", async () => {
    const path = uniquePath("ok");
    const outcome = await deliver(path, { secret: "whsec_!!" });
    expect(outcome).toMatchObject({ status: null, ok: false, error: expect.stringMatching(/^cannot sign/) });
    expect(await received(path)).toEqual([]);
  });
});

describe("eventPayload", () => {
  it("builds the thin payload with an ISO timestamp and a self link", () => {
    const now = Date.UTC(2026, 0, 2, 3, 4, 5);
    expect(eventPayload("email_validation.failed", { id: "job_9", status: "error", counts }, now)).toEqual({
      type: "email_validation.failed",
      timestamp: "2026-01-02T03:04:05.000Z",
      data: { id: "job_9", status: "error", counts, links: { self: "/email-validations/job_9" } },
    });
  });

  it("reports a paused job as processing, as the API does", () => {
    const payload = eventPayload("email_validation.progress", { id: "j", status: "paused", counts }, 0);
    expect(payload.data.status).toBe("processing");
  });

  it("names the event of each terminal status", () => {
    expect(terminalEventType("completed")).toBe("email_validation.completed");
    expect(terminalEventType("canceled")).toBe("email_validation.canceled");
    expect(terminalEventType("error")).toBe("email_validation.failed");
    expect(terminalEventType("processing")).toBeNull();
  });
});
