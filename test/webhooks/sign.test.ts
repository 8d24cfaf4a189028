import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { newMessageId, newWebhookSecret, signWebhook } from "../../src/webhooks/sign";

// Signatures are made with WebCrypto and checked with the Standard Webhooks
// reference library, which is what integrators will run.

const nowSec = () => Math.floor(Date.now() / 1000);

async function signedHeaders(secret: string, msgId: string, timestamp: number, body: string) {
  return {
    "webhook-id": msgId,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": await signWebhook(secret, msgId, timestamp, body),
  };
}

describe("signWebhook", () => {
  it("produces a signature the reference library accepts", async () => {
    const secret = newWebhookSecret();
    const body = JSON.stringify({ type: "email_validation.completed", data: { id: "job_1" } });
    const headers = await signedHeaders(secret, newMessageId(), nowSec(), body);
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it("matches the published Standard Webhooks test vector", async () => {
    const signature = await signWebhook(
      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      "msg_p5jXN8AQM9LWM0D4loKWxJek",
      1614265330,
      '{"test": 2432232314}',
    );
    expect(signature).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  });

  it("agrees with the library's own signer, body bytes as UTF-8", async () => {
    const secret = newWebhookSecret();
    const msgId = newMessageId();
    const timestamp = nowSec();
    const body = JSON.stringify({ email: "josé@bücher.test", note: "✓ done" });
    const ours = await signWebhook(secret, msgId, timestamp, body);
    expect(ours).toBe(new Webhook(secret).sign(msgId, new Date(timestamp * 1000), body));
  });

  it("fails verification with a wrong secret", async () => {
    const body = '{"type":"email_validation.completed"}';
    const headers = await signedHeaders(newWebhookSecret(), newMessageId(), nowSec(), body);
    expect(() => new Webhook(newWebhookSecret()).verify(body, headers)).toThrow(/signature/i);
  });

  it("fails verification when the body was tampered with", async () => {
    const secret = newWebhookSecret();
    const body = '{"type":"email_validation.completed","data":{"counts":{"processed":10}}}';
    const headers = await signedHeaders(secret, newMessageId(), nowSec(), body);
    const tampered = body.replace('"processed":10', '"processed":11');
    expect(() => new Webhook(secret).verify(tampered, headers)).toThrow(/signature/i);
  });

  it("signs the message id and the timestamp too", async () => {
    const secret = newWebhookSecret();
    const body = "{}";
    const headers = await signedHeaders(secret, newMessageId(), nowSec(), body);
    const wh = new Webhook(secret);
    expect(() => wh.verify(body, { ...headers, "webhook-id": newMessageId() })).toThrow(/signature/i);
    expect(() =>
      wh.verify(body, { ...headers, "webhook-timestamp": String(Number(headers["webhook-timestamp"]) - 1) }),
    ).toThrow(/signature/i);
  });

  it("rejects a secret that is not base64", async () => {
    await expect(signWebhook("whsec_not base64!", "msg_1", nowSec(), "{}")).rejects.toThrow(/base64/);
    await expect(signWebhook("whsec_", "msg_1", nowSec(), "{}")).rejects.toThrow(/empty/);
  });
});

describe("newWebhookSecret and newMessageId", () => {
  it("makes whsec_ secrets of 32 random bytes in standard base64", () => {
    const secrets = new Set(Array.from({ length: 50 }, newWebhookSecret));
    expect(secrets.size).toBe(50);
    for (const secret of secrets) {
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
      expect(atob(secret.slice("whsec_".length))).toHaveLength(32);
    }
  });

  it("makes distinct msg_ ids with no '.' (the separator of the signed content)", () => {
    const ids = new Set(Array.from({ length: 50 }, newMessageId));
    expect(ids.size).toBe(50);
    for (const id of ids) expect(id).toMatch(/^msg_[A-Za-z0-9_-]{16,}$/);
  });
});
