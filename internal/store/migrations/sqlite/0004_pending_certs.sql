-- A certificate is recorded as 'pending' before its key and bundle touch
-- the disk, and becomes 'active' in the transaction that hands it out. A
-- pending row whose process died is revoked (it may sit in a staged bundle),
-- so nothing the CA signed exists outside this table. SQLite cannot alter a
-- CHECK constraint: the table is rebuilt.
CREATE TABLE certificates_new (
    serial        TEXT    PRIMARY KEY,
    kind          TEXT    NOT NULL CHECK (kind IN ('client', 'server')),
    subject       TEXT    NOT NULL,
    cert_pem      TEXT    NOT NULL,
    key_sealed    BLOB,
    not_before    BIGINT  NOT NULL,
    not_after     BIGINT  NOT NULL,
    state         TEXT    NOT NULL CHECK (state IN ('pending', 'active', 'revoked', 'superseded')),
    revoked_at    BIGINT,
    reason        TEXT,
    created_at    BIGINT  NOT NULL
);
INSERT INTO certificates_new SELECT serial, kind, subject, cert_pem, key_sealed, not_before, not_after, state, revoked_at, reason, created_at FROM certificates;
DROP TABLE certificates;
ALTER TABLE certificates_new RENAME TO certificates;
CREATE UNIQUE INDEX certificates_one_active ON certificates (kind, subject) WHERE state = 'active';
CREATE INDEX certificates_subject ON certificates (subject);
CREATE INDEX certificates_revoked ON certificates (state) WHERE state = 'revoked';
CREATE INDEX certificates_pending ON certificates (created_at) WHERE state = 'pending';
