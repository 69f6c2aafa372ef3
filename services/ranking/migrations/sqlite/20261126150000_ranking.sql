-- The projection of vendor signals, fed by vendor, buyer and wallet events (never by reading
-- another service's tables). A row may exist before its vendor.created (a trip or a transfer
-- arrived first): `registered` is false until then, and such rows are never ranked.
CREATE TABLE ranking_vendors (
    vendor_id         TEXT PRIMARY KEY,
    tenant_id         TEXT             NOT NULL,
    registered        INTEGER          NOT NULL DEFAULT 0,
    name              TEXT,
    region            TEXT             NOT NULL DEFAULT '',
    categories        TEXT             NOT NULL DEFAULT '[]',
    profile_rating    REAL,
    feedback_sum      REAL             NOT NULL DEFAULT 0,
    feedback_count    BIGINT           NOT NULL DEFAULT 0,
    fulfilment_rate   REAL,
    avg_response_ms   BIGINT,
    response_count    BIGINT           NOT NULL DEFAULT 0,
    total_trips       BIGINT           NOT NULL DEFAULT 0,
    wallet_account_id TEXT,
    balance_minor     BIGINT,
    updated_at        TEXT      NOT NULL
);
CREATE INDEX ranking_vendors_tenant_region ON ranking_vendors (tenant_id, region, vendor_id);
CREATE INDEX ranking_vendors_wallet ON ranking_vendors (wallet_account_id);

-- Accepted quotes, for recency (counted per vendor with one GROUP BY).
CREATE TABLE ranking_accepted_quotes (
    quote_id    TEXT PRIMARY KEY,
    tenant_id   TEXT        NOT NULL,
    vendor_id   TEXT        NOT NULL,
    buyer_id    TEXT        NOT NULL,
    accepted_at TEXT NOT NULL
);
CREATE INDEX ranking_accepted_quotes_recent ON ranking_accepted_quotes (tenant_id, accepted_at);

CREATE TABLE ranking_experiments (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT        NOT NULL,
    name       TEXT        NOT NULL,
    variants   TEXT        NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX ranking_experiments_tenant ON ranking_experiments (tenant_id);

-- A buyer's first exposure to an experiment, with the variant it was assigned.
CREATE TABLE ranking_exposures (
    experiment_id TEXT        NOT NULL REFERENCES ranking_experiments (id),
    buyer_id      TEXT        NOT NULL,
    tenant_id     TEXT        NOT NULL,
    variant       TEXT        NOT NULL,
    exposed_at    TEXT NOT NULL,
    PRIMARY KEY (experiment_id, buyer_id)
);
CREATE INDEX ranking_exposures_buyer ON ranking_exposures (tenant_id, buyer_id);

-- Outcomes of exposed buyers (kind: quote_accepted, purchase_settled), once per reference.
CREATE TABLE ranking_outcomes (
    experiment_id TEXT        NOT NULL REFERENCES ranking_experiments (id),
    kind          TEXT        NOT NULL,
    ref_id        TEXT        NOT NULL,
    variant       TEXT        NOT NULL,
    occurred_at   TEXT NOT NULL,
    PRIMARY KEY (experiment_id, kind, ref_id)
);
