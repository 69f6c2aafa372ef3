-- Vendors, quotes, the tenant's paywall settings, paid subscription periods, catalogue images,
-- and a projection of buyer intents (from buyer.intent.* events; never read from buyer's tables).
CREATE TABLE vendor_vendors (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT             NOT NULL,
    name              TEXT             NOT NULL,
    region            TEXT             NOT NULL,
    categories        JSONB            NOT NULL,
    rating            DOUBLE PRECISION,
    fulfilment_rate   DOUBLE PRECISION,
    profile_user_id   TEXT,
    whatsapp_e164     TEXT,
    wallet_account_id TEXT,
    -- Bumped under the row lock of every quote: serialises a vendor's paywall checks.
    quote_seq         BIGINT           NOT NULL DEFAULT 0,
    created_at        TIMESTAMPTZ      NOT NULL,
    updated_at        TIMESTAMPTZ      NOT NULL
);
CREATE INDEX vendor_vendors_tenant ON vendor_vendors (tenant_id, id);
CREATE INDEX vendor_vendors_region ON vendor_vendors (tenant_id, region, id);
CREATE UNIQUE INDEX vendor_vendors_profile ON vendor_vendors (tenant_id, profile_user_id)
    WHERE profile_user_id IS NOT NULL;

CREATE TABLE vendor_intents (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT        NOT NULL,
    buyer_id         TEXT        NOT NULL,
    status           TEXT        NOT NULL,
    expires_at       TIMESTAMPTZ,
    matched_quote_id TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    changed_at       TIMESTAMPTZ NOT NULL
);

CREATE TABLE vendor_quotes (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT        NOT NULL,
    intent_id     TEXT        NOT NULL,
    vendor_id     TEXT        NOT NULL REFERENCES vendor_vendors (id),
    amount_minor  BIGINT      NOT NULL CHECK (amount_minor > 0),
    currency      TEXT        NOT NULL,
    eta_minutes   INTEGER,
    status        TEXT        NOT NULL,
    -- Counted against the free quota (false when made under a subscription).
    free          BOOLEAN     NOT NULL,
    buyer_id      TEXT,
    purchase_id   TEXT,
    reject_reason TEXT,
    expires_at    TIMESTAMPTZ NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    accepted_at   TIMESTAMPTZ,
    CONSTRAINT vendor_quotes_intent_vendor UNIQUE (intent_id, vendor_id)
);
CREATE INDEX vendor_quotes_free ON vendor_quotes (vendor_id, free, created_at);
CREATE INDEX vendor_quotes_pending ON vendor_quotes (status, expires_at);

CREATE TABLE vendor_settings (
    tenant_id     TEXT PRIMARY KEY,
    free_contacts INTEGER     NOT NULL,
    window_days   INTEGER     NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

-- Paid periods, from wallet.subscription.charged (one row per charging transfer).
CREATE TABLE vendor_subscriptions (
    transfer_id  TEXT PRIMARY KEY,
    tenant_id    TEXT        NOT NULL,
    vendor_id    TEXT        NOT NULL,
    period_start TIMESTAMPTZ NOT NULL,
    period_end   TIMESTAMPTZ NOT NULL
);
CREATE INDEX vendor_subscriptions_vendor ON vendor_subscriptions (vendor_id, period_end);

CREATE TABLE vendor_images (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT        NOT NULL,
    vendor_id    TEXT        NOT NULL REFERENCES vendor_vendors (id),
    width        INTEGER     NOT NULL,
    height       INTEGER     NOT NULL,
    display_key  TEXT        NOT NULL,
    thumb_key    TEXT        NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX vendor_images_vendor ON vendor_images (vendor_id, id);
