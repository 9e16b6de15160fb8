-- Sending reports to DHIS2: the server's address, the personal access token (sealed with the
-- server key, never stored in the clear) and, per indicator set, the mapping an admin imported
-- (the CSV as uploaded, with who and when, as JSON: {"set": {"csv", "saved_by", "saved_ms"}}).
-- Never edit: add a migration.
ALTER TABLE orgs ADD COLUMN dhis2_url TEXT;
ALTER TABLE orgs ADD COLUMN dhis2_token TEXT;
ALTER TABLE orgs ADD COLUMN dhis2_mappings TEXT;
