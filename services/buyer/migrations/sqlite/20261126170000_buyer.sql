-- Buyers, linked to a profile (identity-gap decision): `profile_user_id` and/or `whatsapp_e164`.
CREATE TABLE buyer_buyers (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL,
    name            TEXT NOT NULL,
    segment         TEXT,
    profile_user_id TEXT,
    whatsapp_e164   TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX buyer_buyers_tenant ON buyer_buyers (tenant_id, id);
CREATE UNIQUE INDEX buyer_buyers_profile ON buyer_buyers (tenant_id, profile_user_id)
    WHERE profile_user_id IS NOT NULL;

-- Wallet accounts opened for a buyer, one per asset (the wallet's own key is owner + asset).
CREATE TABLE buyer_wallet_accounts (
    buyer_id   TEXT NOT NULL REFERENCES buyer_buyers (id),
    asset      TEXT NOT NULL,
    account_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (buyer_id, asset)
);

CREATE TABLE buyer_intents (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL,
    buyer_id         TEXT NOT NULL REFERENCES buyer_buyers (id),
    channel          TEXT NOT NULL,
    payload          TEXT NOT NULL,
    region           TEXT,
    categories       TEXT NOT NULL DEFAULT '[]',
    status           TEXT NOT NULL,
    expires_at       TEXT,
    matched_quote_id TEXT,
    quote_count      BIGINT NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX buyer_intents_tenant ON buyer_intents (tenant_id, id);
CREATE INDEX buyer_intents_buyer ON buyer_intents (buyer_id, id);

-- Purchases of a vendor's quote. status: pending -> reserved -> accepted -> settled, or
-- cancelled | failed. A live purchase (not cancelled or failed) is unique per quote and per intent.
CREATE TABLE buyer_purchases (
    id                 TEXT PRIMARY KEY,
    tenant_id          TEXT NOT NULL,
    buyer_id           TEXT NOT NULL REFERENCES buyer_buyers (id),
    intent_id          TEXT NOT NULL REFERENCES buyer_intents (id),
    quote_id           TEXT NOT NULL,
    vendor_id          TEXT NOT NULL,
    amount_minor       BIGINT NOT NULL,
    currency           TEXT NOT NULL,
    status             TEXT NOT NULL,
    reason             TEXT,
    transfer_id        TEXT,
    voided             INTEGER NOT NULL DEFAULT 0,
    vendor_confirmed_at TEXT,
    buyer_confirmed_at TEXT,
    accepted_at        TEXT,
    settled_at         TEXT,
    cancelled_at       TEXT,
    deadline_at        TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE UNIQUE INDEX buyer_purchases_live_quote ON buyer_purchases (quote_id)
    WHERE status NOT IN ('cancelled', 'failed');
CREATE UNIQUE INDEX buyer_purchases_live_intent ON buyer_purchases (intent_id)
    WHERE status NOT IN ('cancelled', 'failed');
CREATE INDEX buyer_purchases_tenant ON buyer_purchases (tenant_id, id);
CREATE INDEX buyer_purchases_buyer ON buyer_purchases (buyer_id, id);
