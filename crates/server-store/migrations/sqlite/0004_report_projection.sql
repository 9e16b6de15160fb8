-- A typed projection of contacts and distribution lines for the dashboard's reports, so they
-- read columns instead of parsing each record's JSON. It follows `records` by server sequence
-- number. Never edit: add a migration.
CREATE TABLE report_contacts (
    id              TEXT PRIMARY KEY,
    site_id         TEXT,
    client_id       TEXT,
    setting         TEXT,
    occurred_at     TEXT,
    collecting_for  INTEGER NOT NULL,
    services        TEXT,
    deleted         INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX report_contacts_site_time ON report_contacts (site_id, occurred_at);

-- Quantities are signed: a reversal counts negative.
CREATE TABLE report_lines (
    id          TEXT PRIMARY KEY,
    contact_id  TEXT,
    commodity   TEXT,
    quantity    INTEGER NOT NULL,
    deleted     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX report_lines_contact ON report_lines (contact_id);

-- Records up to this server sequence number are in the projection; reports bring it up to
-- date first (`reports::refresh_projection`), so pushes pay nothing for it.
CREATE TABLE report_progress (
    name      TEXT PRIMARY KEY,
    last_seq  INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO report_progress (name, last_seq) VALUES ('projection', 0);
