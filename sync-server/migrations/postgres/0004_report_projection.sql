-- A typed projection of contacts and distribution lines for the dashboard's reports, kept by a
-- trigger in the same transaction as every write to `records` (push, seed, import, revert), so
-- reports read columns instead of each record's JSON. Never edit: add a migration.
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

CREATE FUNCTION report_project() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.collection = 'contacts' THEN
        INSERT INTO report_contacts VALUES (
            NEW.id::text, NEW.site_id::text,
            NEW.state->'fields'->'client_id'->>'v',
            NEW.state->'fields'->'setting'->>'v',
            NEW.state->'fields'->'occurred_at'->>'v',
            COALESCE((NEW.state->'fields'->'collecting_for'->>'v')::bigint, 0),
            NEW.state->'fields'->'services'->'v',
            NEW.deleted)
        ON CONFLICT (id) DO UPDATE SET site_id = EXCLUDED.site_id, client_id = EXCLUDED.client_id,
            setting = EXCLUDED.setting, occurred_at = EXCLUDED.occurred_at,
            collecting_for = EXCLUDED.collecting_for, services = EXCLUDED.services, deleted = EXCLUDED.deleted;
    ELSIF NEW.collection = 'distribution_lines' THEN
        INSERT INTO report_lines VALUES (
            NEW.id::text,
            NEW.state->'fields'->'contact_id'->>'v',
            NEW.state->'fields'->'commodity'->>'v',
            (CASE WHEN NEW.state->'fields'->'reverses'->>'v' IS NULL THEN 1 ELSE -1 END)
                * COALESCE((NEW.state->'fields'->'quantity'->>'v')::bigint, 0),
            NEW.deleted)
        ON CONFLICT (id) DO UPDATE SET contact_id = EXCLUDED.contact_id, commodity = EXCLUDED.commodity,
            quantity = EXCLUDED.quantity, deleted = EXCLUDED.deleted;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER records_report_projection AFTER INSERT OR UPDATE ON records FOR EACH ROW
    WHEN (NEW.collection IN ('contacts', 'distribution_lines')) EXECUTE FUNCTION report_project();

INSERT INTO report_contacts
SELECT id::text, site_id::text, state->'fields'->'client_id'->>'v', state->'fields'->'setting'->>'v',
       state->'fields'->'occurred_at'->>'v', COALESCE((state->'fields'->'collecting_for'->>'v')::bigint, 0),
       state->'fields'->'services'->'v', deleted
FROM records WHERE collection = 'contacts';
INSERT INTO report_lines
SELECT id::text, state->'fields'->'contact_id'->>'v', state->'fields'->'commodity'->>'v',
       (CASE WHEN state->'fields'->'reverses'->>'v' IS NULL THEN 1 ELSE -1 END)
           * COALESCE((state->'fields'->'quantity'->>'v')::bigint, 0),
       deleted
FROM records WHERE collection = 'distribution_lines';
