-- API keys: only the SHA-256 of a key is stored; the key itself is shown once.
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
);
CREATE INDEX api_keys_account ON api_keys (account_id);

-- One row per job, mirrored from the job's Durable Object (which is the
-- authority) so that an account's jobs can be listed.
CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL,
  label TEXT,
  source TEXT NOT NULL,
  status TEXT NOT NULL,
  total INTEGER NOT NULL,
  processed INTEGER NOT NULL DEFAULT 0,
  deliverable INTEGER NOT NULL DEFAULT 0,
  undeliverable INTEGER NOT NULL DEFAULT 0,
  risky INTEGER NOT NULL DEFAULT 0,
  unknown INTEGER NOT NULL DEFAULT 0,
  input_columns TEXT,
  created_at INTEGER NOT NULL,
  finished_at INTEGER
);
CREATE INDEX jobs_account_id ON jobs (account_id, id DESC);

-- One row per distinct input address, keyed by its first-seen input position.
-- The primary key makes every write idempotent (alarms are at least once).
CREATE TABLE results (
  job_id TEXT NOT NULL,
  position INTEGER NOT NULL,
  email TEXT NOT NULL,
  result TEXT NOT NULL,
  catch_all INTEGER NOT NULL,
  reason TEXT NOT NULL,
  score INTEGER NOT NULL,
  detail TEXT NOT NULL,
  extra TEXT,
  PRIMARY KEY (job_id, position)
) WITHOUT ROWID;
-- Cursors are email addresses (page[after]=foo@example.com): find their position.
CREATE UNIQUE INDEX results_job_email ON results (job_id, email);
-- Filtered downloads walk one class in position order.
CREATE INDEX results_job_result ON results (job_id, result, position);
