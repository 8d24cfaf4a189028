import { describe, expect, it } from "vitest";
import { api, expectConforms, json, newAccount } from "./helpers";

// Every error outside the compatible family, whatever produced it (auth, the
// router, a validator, a handler, a middleware), answers in one envelope:
// {"_errors": [...], "object": "error", "_links": {"self": {"href": <path>}}}.
// A 404 alone has no self link: the path names nothing.

async function expectEnvelope(res: Response, status: number, code: string, path: string | null) {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { _errors: { code: string }[]; _links: unknown };
  expectConforms(body, "error");
  expect(body._errors[0]?.code).toBe(code);
  expect(body._links).toEqual(path === null ? undefined : { self: { href: path } });
  return body;
}

describe("the error envelope", () => {
  it("is the same for auth, routing, validation, content type and size errors", async () => {
    const { auth } = await newAccount("envelope");
    const ev = "/email-validations";
    await expectEnvelope(await api(ev), 401, "unauthorized", ev);
    await expectEnvelope(await api("/nowhere", { headers: auth }), 404, "not_found", null);
    const missing = `${ev}/00000000-0000-7000-8000-000000000000`;
    await expectEnvelope(await api(missing, { headers: auth }), 404, "not_found", null);
    await expectEnvelope(await api(ev, json({ emails: [] }, auth)), 400, "invalid_value", ev);
    await expectEnvelope(await api(ev, json({ label: "x" }, auth)), 400, "missing_field", ev);
    await expectEnvelope(await api(`${ev}?page[size]=0`, { headers: auth }), 400, "invalid_parameter", ev);
    await expectEnvelope(
      await api(ev, { method: "POST", headers: { ...auth, "content-type": "text/plain" }, body: "a@b.c" }),
      415,
      "unsupported_media_type",
      ev,
    );
    const huge = JSON.stringify({ emails: ["a@b.c"], label: "x".repeat(5 * 1024 * 1024) });
    await expectEnvelope(
      await api(ev, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: huge }),
      413,
      "body_too_large",
      ev,
    );
    await expectEnvelope(
      await api("/webhook-endpoints", json({ url: "not a url" }, auth)),
      400,
      "invalid_value",
      "/webhook-endpoints",
    );
  });

  it("is the same over the rate limit, with Retry-After", async () => {
    const { auth } = await newAccount("envelope-429");
    let res: Response | undefined;
    // The RATE_LIMITER binding allows 600 requests per 60-second period per key;
    // a period may roll over during the loop, so go up to two periods' worth.
    for (let i = 0; i < 1205; i++) {
      res = await api("/webhook-endpoints", { headers: auth });
      if (res.status === 429) break;
      await res.arrayBuffer();
    }
    await expectEnvelope(res as Response, 429, "rate_limited", "/webhook-endpoints");
    expect((res as Response).headers.get("Retry-After")).toMatch(/^\d+$/);
  });
});
