CREATE TABLE assets (
    tenant_id TEXT    NOT NULL,
    code      TEXT    NOT NULL,
    scale     INTEGER NOT NULL CHECK (scale BETWEEN 0 AND 8),
    PRIMARY KEY (tenant_id, code)
);

CREATE TABLE accounts (
    id              TEXT    PRIMARY KEY,
    tenant_id       TEXT    NOT NULL,
    owner_type      TEXT    NOT NULL,
    owner_id        TEXT    NOT NULL,
    asset           TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'active',
    allow_negative  INTEGER NOT NULL DEFAULT 0,
    posted          INTEGER NOT NULL DEFAULT 0,
    pending_debits  INTEGER NOT NULL DEFAULT 0 CHECK (pending_debits >= 0),
    pending_credits INTEGER NOT NULL DEFAULT 0 CHECK (pending_credits >= 0),
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL,
    -- The ledger's last line of defence: only issuance accounts may be spent below zero.
    CHECK (allow_negative = 1 OR posted - pending_debits >= 0),
    UNIQUE (tenant_id, owner_type, owner_id, asset)
);
CREATE UNIQUE INDEX accounts_one_platform ON accounts (tenant_id, asset) WHERE owner_type = 'platform';

CREATE TABLE transfers (
    id          TEXT    PRIMARY KEY,
    tenant_id   TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    asset       TEXT    NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('posted', 'pending', 'voided')),
    reference   TEXT,
    metadata    TEXT    NOT NULL,
    reverses_id TEXT    UNIQUE REFERENCES transfers (id),
    timeout_at  TEXT,
    actor       TEXT    NOT NULL,
    request_id  TEXT,
    created_at  TEXT    NOT NULL
);
CREATE INDEX transfers_pending_timeout ON transfers (timeout_at) WHERE state = 'pending';

-- What a transfer moves (for a pending one, what it reserves). Never updated.
CREATE TABLE legs (
    transfer_id TEXT    NOT NULL REFERENCES transfers (id),
    account_id  TEXT    NOT NULL REFERENCES accounts (id),
    amount      INTEGER NOT NULL CHECK (amount <> 0),
    PRIMARY KEY (transfer_id, account_id)
);

-- Posted movements: append-only, signed, summing to zero per transfer.
CREATE TABLE postings (
    id          TEXT    PRIMARY KEY,
    transfer_id TEXT    NOT NULL REFERENCES transfers (id),
    account_id  TEXT    NOT NULL REFERENCES accounts (id),
    amount      INTEGER NOT NULL CHECK (amount <> 0),
    created_at  TEXT    NOT NULL
);
CREATE INDEX postings_account ON postings (account_id, id);
CREATE TRIGGER postings_append_only_update BEFORE UPDATE ON postings
BEGIN SELECT RAISE(ABORT, 'postings are append-only'); END;
CREATE TRIGGER postings_append_only_delete BEFORE DELETE ON postings
BEGIN SELECT RAISE(ABORT, 'postings are append-only'); END;

CREATE TABLE audit_log (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    action     TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    actor      TEXT NOT NULL,
    request_id TEXT,
    details    TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX audit_log_subject ON audit_log (subject_id, id);
CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE TABLE subscription_plans (
    tenant_id   TEXT    PRIMARY KEY,
    asset       TEXT    NOT NULL,
    price_minor INTEGER NOT NULL CHECK (price_minor > 0),
    period_days INTEGER NOT NULL CHECK (period_days > 0),
    updated_at  TEXT    NOT NULL
);

-- One charge per vendor and period: the n-th period of a vendor can be charged once.
CREATE TABLE subscription_charges (
    tenant_id    TEXT    NOT NULL,
    owner_id     TEXT    NOT NULL,
    seq          INTEGER NOT NULL,
    period_start TEXT    NOT NULL,
    period_end   TEXT    NOT NULL,
    transfer_id  TEXT    NOT NULL REFERENCES transfers (id),
    PRIMARY KEY (tenant_id, owner_id, seq)
);

CREATE TABLE fx_quotes (
    id           TEXT    PRIMARY KEY,
    amount       TEXT    NOT NULL,
    currency     TEXT    NOT NULL,
    rate         TEXT    NOT NULL,
    rate_source  TEXT    NOT NULL,
    tokens_minor INTEGER NOT NULL,
    created_at   TEXT    NOT NULL
);

CREATE TABLE reconciliation_runs (
    id               TEXT    PRIMARY KEY,
    tenant_id        TEXT,
    accounts_checked INTEGER NOT NULL,
    discrepancies    TEXT    NOT NULL,
    ledger_sum       INTEGER NOT NULL,
    created_at       TEXT    NOT NULL
);
