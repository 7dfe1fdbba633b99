-- Issue 14: expiry warnings.
--
-- links.purpose: what a one-time link does. 'download' hands out the
-- user's current profile; 'renew' (sent in an expiry warning) renews the
-- user's certificate and hands out the new profile.
ALTER TABLE links ADD COLUMN purpose TEXT NOT NULL DEFAULT 'download';

-- expiry_warnings records each warning mail, one row per (serial, days):
-- the certificate warned about and the threshold (30, 7, 1 days left). A
-- row is claimed (claimed_at, claimed_by) before the mail is sent, and
-- sent_at is set once it went out, so several serve instances send each
-- warning once: only the one whose INSERT added the row sends. A claim
-- whose sender died (sent_at NULL, claimed long ago) may be taken over.
-- passed = 1 marks a threshold recorded without a mail of its own (a
-- catch-up sent the nearer one instead). The admin digest is recorded
-- here too, as serial 'digest:YYYY-MM-DD' with days 0.
CREATE TABLE expiry_warnings (
    serial      TEXT    NOT NULL,
    days        INTEGER NOT NULL,
    user_name   TEXT    NOT NULL DEFAULT '',
    claimed_at  BIGINT  NOT NULL,
    claimed_by  TEXT    NOT NULL,
    sent_at     BIGINT,
    passed      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (serial, days)
);
