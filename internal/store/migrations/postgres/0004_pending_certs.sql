-- A certificate is recorded as 'pending' before its key and bundle touch
-- the disk, and becomes 'active' in the transaction that hands it out. A
-- pending row whose process died is revoked (it may sit in a staged bundle),
-- so nothing the CA signed exists outside this table.
ALTER TABLE certificates DROP CONSTRAINT certificates_state_check;
ALTER TABLE certificates ADD CONSTRAINT certificates_state_check
    CHECK (state IN ('pending', 'active', 'revoked', 'superseded'));
CREATE INDEX certificates_pending ON certificates (created_at) WHERE state = 'pending';
