-- Payment-reference numbers now come from one counter row instead of one row each: a replica
-- reserves a block of numbers with one UPDATE and hands them out from memory, so a quote writes
-- no row for its references. A block not used up before a restart leaves a gap; a number is
-- still never handed out twice (and `insurance_quote_offers.payment_reference` stays UNIQUE).
CREATE TABLE payment_reference_counter (
    id   SMALLINT PRIMARY KEY CHECK (id = 1),
    last BIGINT   NOT NULL CHECK (last >= 0)
);

-- Continue after every number the old sequence gave (a rolled-back insert's number was never
-- given to a stored quote, so the sequence's own position is not needed).
INSERT INTO payment_reference_counter (id, last)
SELECT 1, COALESCE(MAX(seq), 0) FROM payment_reference_seq;

DROP TABLE payment_reference_seq;
