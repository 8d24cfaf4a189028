// Standard Webhooks signing (https://www.standardwebhooks.com): the receiver
// recomputes HMAC-SHA256 over `${id}.${timestamp}.${body}` with the shared
// secret and compares it with the `webhook-signature` header.

import { randomToken } from "../lib/crypto";

const SECRET_PREFIX = "whsec_";
/** 256-bit keys, the block-size-friendly maximum the spec suggests (24–64 bytes). */
const SECRET_BYTES = 32;

const encoder = new TextEncoder();

/** A new endpoint secret: `whsec_` + standard base64 of random bytes, as the reference libraries expect. */
export function newWebhookSecret(): string {
  return SECRET_PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
}

/** A message id; it is signed and stays the same across every retry of one message. */
export function newMessageId(): string {
  // base64url has no ".", which separates the parts of the signed content.
  return `msg_${randomToken(16)}`;
}

/** The `webhook-signature` header value for one attempt: `v1,<base64 HMAC-SHA256>`. */
export async function signWebhook(
  secret: string,
  msgId: string,
  timestampSec: number,
  body: string,
): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    secretBytes(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const content = encoder.encode(`${msgId}.${Math.floor(timestampSec)}.${body}`);
  const mac = await crypto.subtle.sign("HMAC", key, content);
  return `v1,${toBase64(new Uint8Array(mac))}`;
}

/** The key is the base64-decoded part after `whsec_` (the prefix is optional, as in the libraries). */
function secretBytes(secret: string): Uint8Array<ArrayBuffer> {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  let raw: string;
  try {
    raw = atob(encoded);
  } catch {
    throw new Error("webhook secret is not valid base64");
  }
  if (raw.length === 0) throw new Error("webhook secret is empty");
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

function toBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}
