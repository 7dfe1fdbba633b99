-- What each server pushes to its clients: routes (CIDRs), DNS servers and
-- a search domain, space-separated; empty pushes nothing.
ALTER TABLE servers ADD COLUMN push_routes TEXT NOT NULL DEFAULT '';
ALTER TABLE servers ADD COLUMN dns TEXT NOT NULL DEFAULT '';
ALTER TABLE servers ADD COLUMN domain TEXT NOT NULL DEFAULT '';
