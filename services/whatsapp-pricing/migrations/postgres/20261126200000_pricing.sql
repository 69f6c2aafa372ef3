-- Tariff versions: append-only (no UPDATE or DELETE is ever issued), one row per version.
CREATE TABLE tariffs (
    version        TEXT PRIMARY KEY,
    insurer        TEXT        NOT NULL,
    effective_from DATE        NOT NULL,
    document       JSONB       NOT NULL,
    created_by     TEXT        NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    -- "which version applies on a day" must never be ambiguous.
    UNIQUE (insurer, effective_from)
);

-- The audit log of tariff changes: who added which version, when.
CREATE TABLE tariff_changes (
    id      TEXT PRIMARY KEY,
    version TEXT        NOT NULL REFERENCES tariffs (version),
    insurer TEXT        NOT NULL,
    action  TEXT        NOT NULL,
    actor   TEXT        NOT NULL,
    at      TIMESTAMPTZ NOT NULL
);

-- Quotes are immutable once written: the input as priced and the day whose tariffs applied.
CREATE TABLE insurance_quotes (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT        NOT NULL,
    priced_on  DATE        NOT NULL,
    input      JSONB       NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- The source of payment-reference numbers: one row per reference handed out, never reused.
CREATE TABLE payment_reference_seq (
    seq        BIGSERIAL PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL
);

-- One insurer's answer to a quote (quoted or declined), with what it was priced from.
CREATE TABLE insurance_quote_offers (
    quote_id          TEXT   NOT NULL REFERENCES insurance_quotes (id),
    position          INTEGER NOT NULL,
    insurer           TEXT   NOT NULL,
    status            TEXT   NOT NULL,
    tariff_version    TEXT   REFERENCES tariffs (version),
    total             BIGINT,
    payment_reference TEXT   UNIQUE,
    offer             JSONB  NOT NULL,
    PRIMARY KEY (quote_id, insurer)
);

-- Append-only by construction, not only by convention: any UPDATE or DELETE is refused.
CREATE FUNCTION whatsapp_pricing_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER tariffs_append_only BEFORE UPDATE OR DELETE ON tariffs
    FOR EACH ROW EXECUTE FUNCTION whatsapp_pricing_append_only();
CREATE TRIGGER tariff_changes_append_only BEFORE UPDATE OR DELETE ON tariff_changes
    FOR EACH ROW EXECUTE FUNCTION whatsapp_pricing_append_only();
CREATE TRIGGER insurance_quotes_append_only BEFORE UPDATE OR DELETE ON insurance_quotes
    FOR EACH ROW EXECUTE FUNCTION whatsapp_pricing_append_only();
CREATE TRIGGER insurance_quote_offers_append_only BEFORE UPDATE OR DELETE ON insurance_quote_offers
    FOR EACH ROW EXECUTE FUNCTION whatsapp_pricing_append_only();
