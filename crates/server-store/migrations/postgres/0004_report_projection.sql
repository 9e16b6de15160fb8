-- A typed projection of contacts and distribution lines for the dashboard's reports, so they
-- read columns instead of each record's JSON. It follows `records` by server sequence number.
-- Never edit: add a migration.
CREATE TABLE report_contacts (
    id              text PRIMARY KEY,
    site_id         text,
    client_id       text,
    setting         text,
    occurred_at     text,
    collecting_for  bigint NOT NULL,
    services        jsonb,
    deleted         boolean NOT NULL
);
CREATE INDEX report_contacts_site_time ON report_contacts (site_id, occurred_at);

-- Quantities are signed: a reversal counts negative.
CREATE TABLE report_lines (
    id          text PRIMARY KEY,
    contact_id  text,
    commodity   text,
    quantity    bigint NOT NULL,
    deleted     boolean NOT NULL
);
CREATE INDEX report_lines_contact ON report_lines (contact_id);

-- Records up to this server sequence number are in the projection; reports bring it up to
-- date first (`reports::refresh_projection`), so pushes pay nothing for it.
CREATE TABLE report_progress (
    name      text PRIMARY KEY,
    last_seq  bigint NOT NULL
);
INSERT INTO report_progress (name, last_seq) VALUES ('projection', 0);
