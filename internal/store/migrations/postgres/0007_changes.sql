-- The outbox of changes that machines beside the OpenVPN servers (agents)
-- must learn of: revocations, CRLs, server settings. A row is written in
-- the transaction that makes the change. Its version comes from one counter
-- row incremented under its write lock, so versions commit in order: who
-- has seen version N has seen every change up to N, and "what changed since
-- N" is one query.
CREATE TABLE changes (
    version  BIGINT PRIMARY KEY,
    at       BIGINT NOT NULL,
    kind     TEXT   NOT NULL,
    subject  TEXT   NOT NULL,
    detail   TEXT   NOT NULL DEFAULT ''
);
CREATE TABLE change_version (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    n   BIGINT  NOT NULL
);
INSERT INTO change_version (id, n) VALUES (1, 0);
