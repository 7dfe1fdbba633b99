-- Issue 14: every server proves it works (self-test).
--
-- selftest_results: the newest result of each self-test check (tunnel,
-- revoked, crl) of each server, as its agent last reported it. alerted
-- records that the admin was mailed about the check failing: claimed by
-- a conditional UPDATE when a failure is stored (so with several serve
-- instances one mails) and cleared, with a recovery mail, when it passes.
CREATE TABLE selftest_results (
    server  TEXT    NOT NULL REFERENCES servers (name) ON DELETE CASCADE,
    name    TEXT    NOT NULL,
    ok      BOOLEAN NOT NULL,
    detail  TEXT    NOT NULL DEFAULT '',
    at      BIGINT  NOT NULL,
    alerted BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (server, name)
);
