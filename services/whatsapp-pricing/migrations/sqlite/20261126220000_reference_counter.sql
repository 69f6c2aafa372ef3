-- Payment-reference numbers now come from one counter row instead of one row each: a replica
-- reserves a block of numbers with one UPDATE and hands them out from memory, so a quote writes
-- no row for its references. A block not used up before a restart leaves a gap; a number is
-- still never handed out twice (and `insurance_quote_offers.payment_reference` stays UNIQUE).
CREATE TABLE payment_reference_counter (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    last INTEGER NOT NULL CHECK (last >= 0)
);

-- Continue after every number the old sequence ever gave (AUTOINCREMENT keeps its high-water
-- mark in sqlite_sequence, even past deleted rows).
INSERT INTO payment_reference_counter (id, last)
SELECT 1, MAX(
    COALESCE((SELECT MAX(seq) FROM payment_reference_seq), 0),
    COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'payment_reference_seq'), 0)
);

DROP TABLE payment_reference_seq;
