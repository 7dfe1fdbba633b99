-- The agents beside the OpenVPN servers (wave 2).
--
-- agent_joins: one-time join tokens of `vpnkeys server enroll`. Only the
-- SHA-256 of the secret is kept; a token is spent (used_at) by the join
-- that issues the agent's certificate, in the same transaction.
CREATE TABLE agent_joins (
    token_hash  TEXT   PRIMARY KEY,
    server      TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT NOT NULL DEFAULT 0,
    used_serial TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX agent_joins_server ON agent_joins (server);

-- agent_status: what each server's agent last reported: the version it
-- applied, its CRL, file hashes, its last error, and the live sessions
-- (a JSON list). One row per server, replaced by each report.
CREATE TABLE agent_status (
    server          TEXT   PRIMARY KEY,
    serial          TEXT   NOT NULL,
    last_seen       BIGINT NOT NULL,
    version         BIGINT NOT NULL DEFAULT 0,
    applied_at      BIGINT NOT NULL DEFAULT 0,
    crl_number      BIGINT NOT NULL DEFAULT 0,
    crl_next_update BIGINT NOT NULL DEFAULT 0,
    hashes          TEXT   NOT NULL DEFAULT '',
    error           TEXT   NOT NULL DEFAULT '',
    management      BOOLEAN NOT NULL DEFAULT FALSE,
    kills           BIGINT NOT NULL DEFAULT 0,
    agent_version   TEXT   NOT NULL DEFAULT '',
    sessions        TEXT   NOT NULL DEFAULT '[]'
);

-- session_ends: `vpnkeys disconnect USER`: end the user's sessions that
-- began at or before before_at, on every server, without revoking.
CREATE TABLE session_ends (
    id         BIGINT PRIMARY KEY,
    username   TEXT   NOT NULL,
    before_at  BIGINT NOT NULL,
    reason     TEXT   NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
