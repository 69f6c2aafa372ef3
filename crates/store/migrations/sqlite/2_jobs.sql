-- The durable job queue: work claimed with a lease, retried with backoff, dead after N attempts.
CREATE TABLE kit_jobs (
    id           TEXT    PRIMARY KEY,
    queue        TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    dedupe_key   TEXT,
    status       TEXT    NOT NULL CHECK (status IN ('pending', 'running', 'dead')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at       TEXT    NOT NULL,
    lease_token  TEXT,
    locked_until TEXT,
    last_error   TEXT,
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL
);
CREATE INDEX kit_jobs_due ON kit_jobs (queue, status, run_at);
CREATE UNIQUE INDEX kit_jobs_dedupe ON kit_jobs (queue, dedupe_key) WHERE dedupe_key IS NOT NULL;
