-- One quote conversation per contact and tenant: its stage, its state (JSON) and an optimistic
-- version (each write says which version it read; a lost race writes nothing and retries).
CREATE TABLE pricing_conversations (
    tenant_id         TEXT    NOT NULL,
    contact_kind      TEXT    NOT NULL,
    contact_id        TEXT    NOT NULL,
    stage             TEXT    NOT NULL,
    state             TEXT    NOT NULL,
    -- The reference a collection must carry to pay it (set once an insurer is selected).
    payment_reference TEXT,
    version           INTEGER NOT NULL,
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, contact_kind, contact_id)
);
CREATE INDEX pricing_conversations_reference
    ON pricing_conversations (tenant_id, payment_reference);
CREATE INDEX pricing_conversations_stage ON pricing_conversations (stage, updated_at);

-- Every collection received, matched or not (for reconciliation); one row per provider transaction.
CREATE TABLE pricing_payments (
    provider                TEXT    NOT NULL,
    provider_transaction_id TEXT    NOT NULL,
    tenant_id               TEXT    NOT NULL,
    reference               TEXT    NOT NULL,
    amount                  INTEGER NOT NULL,
    currency                TEXT    NOT NULL,
    outcome                 TEXT    NOT NULL,
    contact_id              TEXT,
    collected_at            TEXT    NOT NULL,
    received_at             TEXT    NOT NULL,
    PRIMARY KEY (provider, provider_transaction_id)
);
