import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

// Mirrors migrations/*.sql, which are the source of truth for D1;
// test/db/schema.test.ts fails when the two differ.

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id").notNull(),
    keyHash: text("key_hash").notNull().unique(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("api_keys_account").on(t.accountId)],
);

export const jobs = sqliteTable(
  "jobs",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id").notNull(),
    label: text("label"),
    source: text("source").notNull(),
    status: text("status").notNull(),
    total: integer("total").notNull(),
    processed: integer("processed").notNull().default(0),
    deliverable: integer("deliverable").notNull().default(0),
    undeliverable: integer("undeliverable").notNull().default(0),
    risky: integer("risky").notNull().default(0),
    unknown: integer("unknown").notNull().default(0),
    inputColumns: text("input_columns"),
    createdAt: integer("created_at").notNull(),
    finishedAt: integer("finished_at"),
  },
  (t) => [index("jobs_account_id").on(t.accountId, t.id)],
);

export const results = sqliteTable(
  "results",
  {
    jobId: text("job_id").notNull(),
    position: integer("position").notNull(),
    email: text("email").notNull(),
    result: text("result").notNull(),
    catchAll: integer("catch_all", { mode: "boolean" }).notNull(),
    reason: text("reason").notNull(),
    score: integer("score").notNull(),
    detail: text("detail").notNull(),
    extra: text("extra"),
  },
  (t) => [
    primaryKey({ columns: [t.jobId, t.position] }),
    uniqueIndex("results_job_email").on(t.jobId, t.email),
    index("results_job_result").on(t.jobId, t.result, t.position),
  ],
);

export type ResultRow = typeof results.$inferSelect;
export type JobRow = typeof jobs.$inferSelect;

export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    accountId: text("account_id").notNull(),
    key: text("key").notNull(),
    requestHash: text("request_hash").notNull(),
    jobId: text("job_id").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.key] }), index("idempotency_keys_job").on(t.jobId)],
);

export const webhookEndpoints = sqliteTable(
  "webhook_endpoints",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id").notNull(),
    url: text("url").notNull(),
    secret: text("secret").notNull(),
    events: text("events").notNull(),
    createdAt: integer("created_at").notNull(),
    disabledAt: integer("disabled_at"),
    disabledReason: text("disabled_reason"),
  },
  (t) => [index("webhook_endpoints_account").on(t.accountId)],
);

export const accountWebhookSecrets = sqliteTable("account_webhook_secrets", {
  accountId: text("account_id").primaryKey(),
  secret: text("secret").notNull(),
  createdAt: integer("created_at").notNull(),
});

export type WebhookEndpointRow = typeof webhookEndpoints.$inferSelect;
