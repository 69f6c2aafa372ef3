-- Tariff versions: append-only (no UPDATE or DELETE is ever issued), one row per version.
CREATE TABLE tariffs (
    version        TEXT PRIMARY KEY,
    insurer        TEXT NOT NULL,
    effective_from TEXT NOT NULL,
    document       TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    -- "which version applies on a day" must never be ambiguous.
    UNIQUE (insurer, effective_from)
);

-- The audit log of tariff changes: who added which version, when.
CREATE TABLE tariff_changes (
    id      TEXT PRIMARY KEY,
    version TEXT NOT NULL REFERENCES tariffs (version),
    insurer TEXT NOT NULL,
    action  TEXT NOT NULL,
    actor   TEXT NOT NULL,
    at      TEXT NOT NULL
);

-- Quotes are immutable once written: the input as priced and the day whose tariffs applied.
CREATE TABLE insurance_quotes (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    priced_on  TEXT NOT NULL,
    input      TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- The source of payment-reference numbers: one row per reference handed out, never reused
-- (AUTOINCREMENT: SQLite never hands out a number twice, even after a delete).
CREATE TABLE payment_reference_seq (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL
);

-- One insurer's answer to a quote (quoted or declined), with what it was priced from.
CREATE TABLE insurance_quote_offers (
    quote_id          TEXT    NOT NULL REFERENCES insurance_quotes (id),
    position          INTEGER NOT NULL,
    insurer           TEXT    NOT NULL,
    status            TEXT    NOT NULL,
    tariff_version    TEXT    REFERENCES tariffs (version),
    total             INTEGER,
    payment_reference TEXT    UNIQUE,
    offer             TEXT    NOT NULL,
    PRIMARY KEY (quote_id, insurer)
);

-- Append-only by construction, not only by convention: any UPDATE or DELETE is refused.
CREATE TRIGGER tariffs_no_update BEFORE UPDATE ON tariffs
BEGIN
    SELECT RAISE(ABORT, 'tariffs is append-only');
END;
CREATE TRIGGER tariffs_no_delete BEFORE DELETE ON tariffs
BEGIN
    SELECT RAISE(ABORT, 'tariffs is append-only');
END;
CREATE TRIGGER tariff_changes_no_update BEFORE UPDATE ON tariff_changes
BEGIN
    SELECT RAISE(ABORT, 'tariff_changes is append-only');
END;
CREATE TRIGGER tariff_changes_no_delete BEFORE DELETE ON tariff_changes
BEGIN
    SELECT RAISE(ABORT, 'tariff_changes is append-only');
END;
CREATE TRIGGER insurance_quotes_no_update BEFORE UPDATE ON insurance_quotes
BEGIN
    SELECT RAISE(ABORT, 'insurance_quotes is append-only');
END;
CREATE TRIGGER insurance_quotes_no_delete BEFORE DELETE ON insurance_quotes
BEGIN
    SELECT RAISE(ABORT, 'insurance_quotes is append-only');
END;
CREATE TRIGGER insurance_quote_offers_no_update BEFORE UPDATE ON insurance_quote_offers
BEGIN
    SELECT RAISE(ABORT, 'insurance_quote_offers is append-only');
END;
CREATE TRIGGER insurance_quote_offers_no_delete BEFORE DELETE ON insurance_quote_offers
BEGIN
    SELECT RAISE(ABORT, 'insurance_quote_offers is append-only');
END;
