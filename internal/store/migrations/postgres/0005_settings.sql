-- Settings given once (company, contact, public URL, lifetimes), kept so
-- that later commands need not repeat them. Flags, environment and the
-- config file win over these.
CREATE TABLE settings (
    key        TEXT   PRIMARY KEY,
    value      TEXT   NOT NULL,
    updated_at BIGINT NOT NULL
);
