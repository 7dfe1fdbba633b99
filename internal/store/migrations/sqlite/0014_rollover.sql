-- Issue 14: servers and the CA never expire by surprise.
--
-- ca.next_cert_pem: during `vpnkeys ca rollover`, the CA's renewed
-- certificate (same key, same subject, new validity); every rendered
-- ca.crt holds both until `ca rollover finish` makes it the CA
-- certificate. '' when no rollover is under way. rollover_started_at:
-- unix seconds of `ca rollover start`, 0 when none.
ALTER TABLE ca ADD COLUMN next_cert_pem TEXT NOT NULL DEFAULT '';
ALTER TABLE ca ADD COLUMN rollover_started_at BIGINT NOT NULL DEFAULT 0;

-- agent_status.restart_pending: unix seconds since the agent holds back
-- an OpenVPN restart until its restart window opens, 0 when none.
ALTER TABLE agent_status ADD COLUMN restart_pending BIGINT NOT NULL DEFAULT 0;
