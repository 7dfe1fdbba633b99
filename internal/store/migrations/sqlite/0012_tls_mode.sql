-- Issue 14: the control channel, per server.
--
-- servers.tls_mode: tls-crypt (the company's static key, ta.key; what
-- every server used before), tls-auth (the same key, `tls-auth ta.key`)
-- or tls-crypt-v2 (one client key per user, wrapped by the company's
-- tls-crypt-v2 server key).
ALTER TABLE servers ADD COLUMN tls_mode TEXT NOT NULL DEFAULT 'tls-crypt';

-- ca.tls_crypt_v2: the company's one tls-crypt-v2 server key, sealed as
-- tls_crypt is; made at first need, so NULL until a tls-crypt-v2 server
-- is rendered. One key for every such server, so a user's client key
-- works on all of them.
ALTER TABLE ca ADD COLUMN tls_crypt_v2 BLOB;
