CREATE TABLE ca (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    algo          TEXT    NOT NULL,
    cert_pem      TEXT    NOT NULL,
    key_pem       TEXT    NOT NULL,
    encrypted     BOOLEAN NOT NULL,
    tls_crypt     BYTEA    NOT NULL,
    created_at    BIGINT  NOT NULL
);

CREATE TABLE users (
    name           TEXT   PRIMARY KEY,
    email          TEXT   NOT NULL DEFAULT '',
    full_name      TEXT   NOT NULL DEFAULT '',
    os             TEXT   NOT NULL,
    lang           TEXT   NOT NULL,
    current_serial TEXT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);

CREATE TABLE certificates (
    serial        TEXT    PRIMARY KEY,
    kind          TEXT    NOT NULL CHECK (kind IN ('client', 'server')),
    subject       TEXT    NOT NULL,
    cert_pem      TEXT    NOT NULL,
    key_sealed    BYTEA,
    not_before    BIGINT  NOT NULL,
    not_after     BIGINT  NOT NULL,
    state         TEXT    NOT NULL CHECK (state IN ('active', 'revoked', 'superseded')),
    revoked_at    BIGINT,
    reason        TEXT,
    created_at    BIGINT  NOT NULL
);
CREATE UNIQUE INDEX certificates_one_active ON certificates (kind, subject) WHERE state = 'active';
CREATE INDEX certificates_subject ON certificates (subject);
CREATE INDEX certificates_revoked ON certificates (state) WHERE state = 'revoked';

CREATE TABLE servers (
    name        TEXT    PRIMARY KEY,
    host        TEXT    NOT NULL,
    port        INTEGER NOT NULL,
    proto       TEXT    NOT NULL,
    subnet      TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);

CREATE TABLE server_outputs (
    server_name TEXT   NOT NULL REFERENCES servers (name),
    host        TEXT   NOT NULL,
    dir         TEXT   NOT NULL,
    written_at  BIGINT NOT NULL,
    PRIMARY KEY (server_name, host, dir)
);

CREATE TABLE crl (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    number       BIGINT  NOT NULL,
    der          BYTEA,
    this_update  BIGINT  NOT NULL,
    next_update  BIGINT  NOT NULL
);

CREATE TABLE audit (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      BIGINT NOT NULL,
    actor   TEXT   NOT NULL,
    source  TEXT   NOT NULL,
    action  TEXT   NOT NULL,
    target  TEXT   NOT NULL,
    detail  TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX audit_target ON audit (target);

-- The CRL row exists from the start; its number only grows.
INSERT INTO crl (id, number, this_update, next_update) VALUES (1, 0, 0, 0);
