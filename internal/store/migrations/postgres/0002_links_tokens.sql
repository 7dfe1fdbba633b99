CREATE TABLE links (
    token_hash  TEXT   PRIMARY KEY,
    user_name   TEXT   NOT NULL REFERENCES users (name),
    serial      TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    opened_at   BIGINT,
    used_at     BIGINT,
    used_from   TEXT
);
CREATE INDEX links_user ON links (user_name);

CREATE TABLE api_tokens (
    name        TEXT   PRIMARY KEY,
    token_hash  TEXT   NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT,
    last_used   BIGINT
);
