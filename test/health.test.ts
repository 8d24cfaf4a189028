import { expect, it } from "vitest";
import { api } from "./helpers";

it("answers /health without a key", async () => {
  const res = await api("/health");
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ ok: true });
});

it("answers an unknown route with 404 in the error envelope", async () => {
  const res = await api("/nope");
  expect(res.status).toBe(404);
  expect(await res.json()).toMatchObject({ object: "error", _errors: [{ code: "not_found" }] });
});
