-- Issue 13: groups of users with the destinations they may reach, and a
-- fixed VPN address per user on each server.
--
-- groups: a named set of rules; group_rules: one canonical rule each
-- (access.Rule.String()); group_members: who is in a group. Removing a
-- group removes its rules and memberships.
CREATE TABLE groups (
    name        TEXT   PRIMARY KEY,
    description TEXT   NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);

CREATE TABLE group_rules (
    grp  TEXT NOT NULL REFERENCES groups (name) ON DELETE CASCADE,
    rule TEXT NOT NULL,
    PRIMARY KEY (grp, rule)
);

CREATE TABLE group_members (
    grp      TEXT NOT NULL REFERENCES groups (name) ON DELETE CASCADE,
    username TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    PRIMARY KEY (grp, username)
);
CREATE INDEX group_members_user ON group_members (username);

-- addresses: each user's fixed address in each server's subnet, allocated
-- in the transaction that adds the user or the server, unique per server.
CREATE TABLE addresses (
    server   TEXT NOT NULL REFERENCES servers (name) ON DELETE CASCADE,
    username TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    address  TEXT NOT NULL,
    PRIMARY KEY (server, username),
    UNIQUE (server, address)
);
CREATE INDEX addresses_user ON addresses (username);
