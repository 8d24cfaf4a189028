-- Idempotent job creation: one row per (account, Idempotency-Key), kept 24 h.
CREATE TABLE idempotency_keys (
  account_id TEXT NOT NULL,
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  job_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_job ON idempotency_keys (job_id);

-- Webhook endpoints an account registers, each with its own signing secret.
CREATE TABLE webhook_endpoints (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL,
  url TEXT NOT NULL,
  secret TEXT NOT NULL,
  events TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  disabled_at INTEGER,
  disabled_reason TEXT
);
CREATE INDEX webhook_endpoints_account ON webhook_endpoints (account_id);

-- The secret that signs deliveries to a job's own webhook_url.
CREATE TABLE account_webhook_secrets (
  account_id TEXT PRIMARY KEY,
  secret TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
