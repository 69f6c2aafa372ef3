-- Postings by transfer: the double-entry check (PostgreSQL trigger) and transfer reads need it.
CREATE INDEX postings_transfer ON postings (transfer_id);
