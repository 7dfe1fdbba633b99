CREATE TABLE admins (
    name          TEXT   PRIMARY KEY,
    password_hash TEXT   NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash  TEXT   PRIMARY KEY,
    admin       TEXT   NOT NULL REFERENCES admins (name) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    source      TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX sessions_admin ON sessions (admin);
