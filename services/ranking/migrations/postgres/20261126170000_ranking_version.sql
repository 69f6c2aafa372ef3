-- One counter the projection bumps in every transaction that changes it: ranking snapshots are
-- reused until it moves, so replicas notice each other's changes with a one-row read.
CREATE TABLE ranking_version (
    id      INTEGER PRIMARY KEY,
    version BIGINT  NOT NULL
);
INSERT INTO ranking_version (id, version) VALUES (1, 0);
