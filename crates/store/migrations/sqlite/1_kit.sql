-- Kit tables every service has: idempotency keys, the transactional outbox, the inbox.
CREATE TABLE kit_idempotency (
    scope        TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    request_hash TEXT    NOT NULL,
    status       INTEGER,
    body         TEXT,
    locked_until TEXT,
    created_at   TEXT    NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX kit_idempotency_created ON kit_idempotency (created_at);

CREATE TABLE kit_outbox (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    envelope     TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    published_at TEXT
);
CREATE INDEX kit_outbox_pending ON kit_outbox (id) WHERE published_at IS NULL;

CREATE TABLE kit_inbox (
    consumer   TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (consumer, event_id)
);
