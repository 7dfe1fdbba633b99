-- Issue 14: lifetimes are settings, and expiry is listed by date.
--
-- servers.cert_days: the lifetime of the server's own certificate, given
-- at `server add --days N`; 0 takes the configured default.
ALTER TABLE servers ADD COLUMN cert_days INTEGER NOT NULL DEFAULT 0;

-- The expiry scan (`vpnkeys expiring`, GET /api/v1/expiring) reads the
-- active certificates that end before a horizon, soonest first.
CREATE INDEX certificates_expiry ON certificates (not_after) WHERE state = 'active';
