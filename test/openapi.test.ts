import { Validator } from "@cfworker/json-schema";
import oas31Schema from "@seriousme/openapi-schema-validator/schemas/v3.1/schema.json";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createSchema } from "../src/api/email-validations";
import { validateNowBody } from "../src/api/validate-now";
import { app } from "../src/app";
import { emailValidationSchema, errorsSchema } from "./fixtures/contract";
import { api, createJob, json, newAccount, waitForJob } from "./helpers";

// /openapi.json is generated from the routes and their zod schemas. These
// tests hold it to three things: it is a valid OpenAPI 3.1 document, it
// describes every route the app serves (and nothing else), and what it says
// about requests and responses is what the code does.

type Json = Record<string, unknown>;
type Doc = Json & { paths: Record<string, Record<string, Json>>; components: Json };

let doc: Doc;

beforeAll(async () => {
  const res = await api("/openapi.json");
  expect(res.status).toBe(200);
  doc = (await res.json()) as Doc;
});

/** Validates against the official OAS 3.1 schema (draft 2020-12), with every error listed. */
function oasErrors(document: unknown) {
  const validator = new Validator(oas31Schema as never, "2020-12", false);
  return validator.validate(document).errors;
}

/** The value at a local JSON pointer (`#/components/...`) of the document. */
function at(pointer: string): unknown {
  return pointer
    .slice(2)
    .split("/")
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce<unknown>((node, key) => (node as Json | undefined)?.[key], doc);
}

/** The operation documented for `method path`; fails the test when there is none. */
function operation(path: string, method: string): Json {
  const op = doc.paths[path]?.[method];
  if (!op) throw new Error(`${method} ${path} is not documented`);
  return op;
}

/** The schema with every local $ref replaced by its target (the document's schemas have no cycles). */
function inline(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(inline);
  if (!node || typeof node !== "object") return node;
  const ref = (node as Json).$ref;
  if (typeof ref === "string") {
    const target = at(ref);
    if (target === undefined) throw new Error(`unresolved $ref ${ref}`);
    return inline(target);
  }
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, inline(v)]));
}

/** The schema without annotations (description, examples), to compare shapes. */
function shape(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(shape);
  if (!node || typeof node !== "object") return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([k]) => k !== "description" && k !== "examples")
      .map(([k, v]) => [k, shape(v)]),
  );
}

function jsonSchemaOf(schema: z.ZodType): Json {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: "input" }) as Json;
  return rest;
}

describe("the document", () => {
  it("is served without a key, as OpenAPI 3.1.0", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info).toMatchObject({ title: "mailvet" });
  });

  it("is valid against the official OpenAPI 3.1 schema", () => {
    const errors = oasErrors(doc);
    expect(errors, JSON.stringify(errors.slice(0, 5), null, 1)).toEqual([]);
  });

  it("is checked by a validator that does reject broken documents", () => {
    // A negative control: each of these must fail, or the test above proves nothing.
    const broken: Json[] = [
      { ...doc, info: undefined },
      { ...doc, openapi: "3.0.3" },
      { ...doc, unknownTopLevel: true },
      { ...doc, paths: { "/x": { get: { responses: { "200": { content: {} } } } } } },
      { ...doc, paths: { "/x": { get: { parameters: [{ name: "p", in: "body" }], responses: {} } } } },
    ];
    for (const document of broken) expect(oasErrors(JSON.parse(JSON.stringify(document)))).not.toEqual([]);
  });

  it("resolves every $ref", () => {
    const refs: string[] = [];
    JSON.stringify(doc, (key, value) => {
      if (key === "$ref") refs.push(value as string);
      return value;
    });
    expect(refs.length).toBeGreaterThan(50);
    expect(refs.filter((ref) => at(ref) === undefined)).toEqual([]);
  });

  it("declares the bearer and apiKey-query schemes, and the Idempotency-Key, Retry-After and RateLimit-* headers", () => {
    expect(at("#/components/securitySchemes/bearerAuth")).toMatchObject({ type: "http", scheme: "bearer" });
    expect(at("#/components/securitySchemes/apiKeyQuery")).toMatchObject({
      type: "apiKey",
      in: "query",
      name: "apiKey",
    });
    expect(doc.security).toEqual([{ bearerAuth: [] }, { apiKeyQuery: [] }]);
    expect(at("#/components/parameters/IdempotencyKey")).toMatchObject({
      name: "Idempotency-Key",
      in: "header",
    });
    const create = operation("/email-validations", "post");
    expect(create.parameters).toContainEqual({ $ref: "#/components/parameters/IdempotencyKey" });
    const created = (create.responses as Json)["202"] as { headers: Json };
    expect(Object.keys(created.headers)).toEqual(
      expect.arrayContaining(["Location", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"]),
    );
    const limited = at("#/components/responses/RateLimited") as { headers: Json };
    expect(Object.keys(limited.headers)).toContain("Retry-After");
    for (const path of ["/health", "/openapi.json"]) {
      expect(operation(path, "get").security, path).toEqual([]);
    }
  });
});

describe("routes", () => {
  /** Every method+path the app answers, in OpenAPI path syntax (middlewares are ALL). */
  function servedRoutes(): string[] {
    const routes = app.routes
      .filter((r) => r.method !== "ALL")
      .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, "{$1}")}`);
    return [...new Set(routes)].sort();
  }

  function documentedRoutes(): string[] {
    return Object.entries(doc.paths)
      .flatMap(([path, item]) => Object.keys(item).map((method) => `${method} ${path}`))
      .sort();
  }

  it("documents every route the app serves, and only those", () => {
    const served = servedRoutes();
    expect(served.length).toBeGreaterThan(25);
    expect(documentedRoutes()).toEqual(served);
  });

  it("gives every operation an id, a tag and at least one success response", () => {
    const ids = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const where = `${method} ${path}`;
        expect(op.operationId, where).toMatch(/^[a-z][A-Za-z]+$/);
        expect(ids.has(op.operationId as string), `${where}: duplicate operationId`).toBe(false);
        ids.add(op.operationId as string);
        expect((op.tags as string[]).length, where).toBe(1);
        expect(
          Object.keys(op.responses as Json).some((s) => s.startsWith("2")),
          where,
        ).toBe(true);
      }
    }
  });

  it("uses each family's own error envelope", () => {
    const canonical = (operation("/email-validations/{id}", "get").responses as Json)["404"];
    const compat = (operation("/v1/email/validate/job/{id}", "get").responses as Json)["404"];
    expect(canonical).toEqual({ $ref: "#/components/responses/NotFound" });
    expect(compat).toEqual({ $ref: "#/components/responses/CompatNotFound" });
    expect(inline(at("#/components/responses/CompatNotFound"))).toMatchObject({
      content: { "application/json": { schema: { required: ["error"] } } },
    });
  });
});

describe("schemas", () => {
  it("describes the canonical job exactly as the contract does", () => {
    const job = inline(at("#/components/schemas/response_email_validation_object"));
    expect(shape(job)).toEqual(emailValidationSchema);
  });

  it("describes the canonical error envelope exactly as the contract does", () => {
    const errors = inline(at("#/components/schemas/response_errors_object"));
    expect(shape(errors)).toEqual(errorsSchema);
  });

  it("takes request bodies from the schemas the handlers validate with", () => {
    const body = (path: string, method: string, media = "application/json") =>
      ((operation(path, method).requestBody as Json).content as Record<string, Json>)[media]?.schema;
    expect(body("/email-validations", "post")).toEqual(jsonSchemaOf(createSchema));
    expect(body("/v1/email/validate", "post")).toEqual(jsonSchemaOf(validateNowBody));
    const patch = body("/email-validations/{id}", "patch") as Json;
    expect(patch).toMatchObject({
      required: ["status"],
      properties: { status: { enum: ["canceled", "paused", "processing"] } },
    });
    // The multipart upload's job options are the JSON body's.
    const upload = body("/email-validations", "post", "multipart/form-data") as Json;
    const options = (jsonSchemaOf(createSchema).properties ?? {}) as Json;
    expect((upload.properties as Json).start_at).toEqual(options.start_at);
    expect((upload.properties as Json).webhook_url).toEqual(options.webhook_url);
  });
});

describe("live answers match the documented responses", () => {
  /** The inlined schema the document gives for an operation's answer. */
  function responseSchema(path: string, method: string, status: number): Json {
    const response = inline((operation(path, method).responses as Json)[String(status)]) as Json | undefined;
    if (!response) throw new Error(`${method} ${path} documents no ${status}`);
    return ((response.content as Record<string, Json>)["application/json"] as Json).schema as Json;
  }

  async function expectDocumented(res: Response, path: string, method: string) {
    const schema = responseSchema(path, method, res.status);
    const body = await res.json();
    const errors = new Validator(schema as never, "2020-12", false).validate(body).errors;
    expect(errors, `${method} ${path} ${res.status}: ${JSON.stringify(errors.slice(0, 3))}`).toEqual([]);
    return body;
  }

  it("for the canonical family, plain and with details, and its errors", async () => {
    const { auth } = await newAccount("openapi");
    const created = await api(
      "/email-validations?include=details",
      json({ emails: ["alice@normal.test", "nobody@normal.test", "x@catchall.test"], label: "docs" }, auth),
    );
    expect(created.status).toBe(202);
    expect(created.headers.get("RateLimit-Limit")).toMatch(/^\d+$/);
    const job = (await expectDocumented(created, "/email-validations", "post")) as { id: string };
    await waitForJob(auth, job.id);
    const one = `/email-validations/${job.id}`;
    await expectDocumented(await api(one, { headers: auth }), "/email-validations/{id}", "get");
    await expectDocumented(
      await api(`${one}?include=details&page[size]=2`, { headers: auth }),
      "/email-validations/{id}",
      "get",
    );
    await expectDocumented(
      await api("/email-validations?include=details", { headers: auth }),
      "/email-validations",
      "get",
    );
    await expectDocumented(await api("/email-validations", { headers: auth }), "/email-validations", "get");
    const patched = await api(one, { ...json({ status: "canceled" }, auth), method: "PATCH" });
    expect(patched.status).toBe(400); // already completed
    await expectDocumented(patched, "/email-validations/{id}", "patch");
    for (const part of ["results?reason=mailbox_not_found&page[size]=1", "breakdown", "story"]) {
      const res = await api(`${one}/${part}`, { headers: auth });
      expect(res.status, part).toBe(200);
      await expectDocumented(res, `/email-validations/{id}/${part.split("?")[0]}`, "get");
    }
    await expectDocumented(
      await api(`${one}/webhook-deliveries`, { headers: auth }),
      "/email-validations/{id}/webhook-deliveries",
      "get",
    );
    await expectDocumented(
      await api("/email-validations/00000000-0000-7000-8000-000000000000", { headers: auth }),
      "/email-validations/{id}",
      "get",
    );
    await expectDocumented(await api("/email-validations"), "/email-validations", "get"); // 401
  });

  it("for the compatible family, webhook endpoints and the admin route", async () => {
    const { auth } = await newAccount("openapi-compat");
    const job = await createJob(auth, ["bob@normal.test", "carol@normal.test"]);
    await waitForJob(auth, job.id);
    const base = "/v1/email/validate/job";
    await expectDocumented(await api(base, { headers: auth }), base, "get");
    await expectDocumented(await api(`${base}/${job.id}`, { headers: auth }), `${base}/{id}`, "get");
    await expectDocumented(
      await api(`${base}/${job.id}/result`, { headers: auth }),
      `${base}/{id}/result`,
      "get",
    );
    await expectDocumented(await api(`${base}/nope`, { headers: auth }), `${base}/{id}`, "get"); // 404
    await expectDocumented(
      await api("/v1/email/validate", json({ email: "alice@normal.test" }, auth)),
      "/v1/email/validate",
      "post",
    );
    // Loopback webhook URLs are allowed in tests (WEBHOOK_ALLOW_LOOPBACK).
    const endpoint = await api(
      "/webhook-endpoints",
      json({ url: "http://127.0.0.1:9/mailvet", events: ["email_validation.completed"] }, auth),
    );
    expect(endpoint.status).toBe(201);
    await expectDocumented(endpoint, "/webhook-endpoints", "post");
    const refused = await api("/webhook-endpoints", json({ url: "not a url" }, auth));
    expect(refused.status).toBe(400);
    await expectDocumented(refused, "/webhook-endpoints", "post");
    await expectDocumented(await api("/webhook-endpoints", { headers: auth }), "/webhook-endpoints", "get");
    await expectDocumented(
      await api("/admin/accounts/openapi-admin/keys", { method: "POST", headers: auth }), // 401: not the admin token
      "/admin/accounts/{account}/keys",
      "post",
    );
  });
});
