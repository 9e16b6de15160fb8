-- One person, several client records. Never edit: add a migration.

-- For the reports: every client record a merge in force names, with its person (the record
-- kept) and the person's first visit (the earliest of its records'). Rebuilt from the
-- `client_merges` records by the projection's catch-up whenever they change.
CREATE TABLE report_people (
    client_id      text PRIMARY KEY,
    person_id      text NOT NULL,
    first_seen_at  text
);
CREATE INDEX report_contacts_client ON report_contacts (client_id);

-- Pairs of client records a coordinator judged to be two people: the duplicate review does
-- not offer them again. `client_a` is the smaller id.
CREATE TABLE duplicate_dismissals (
    org_id        uuid NOT NULL REFERENCES orgs (id),
    client_a      uuid NOT NULL,
    client_b      uuid NOT NULL,
    dismissed_by  text NOT NULL,
    dismissed_ms  bigint NOT NULL,
    PRIMARY KEY (client_a, client_b)
);

-- Whether tablets receive every site's clients (code, gender and year of birth only), so a
-- code typed at one site finds a person first seen at another. Off unless an administrator
-- turns it on (docs/security.md).
ALTER TABLE orgs ADD COLUMN client_index boolean NOT NULL DEFAULT false;
