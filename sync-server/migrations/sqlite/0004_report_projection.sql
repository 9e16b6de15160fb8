-- A typed projection of contacts and distribution lines for the dashboard's reports, kept by
-- triggers in the same transaction as every write to `records` (push, seed, import, revert), so
-- reports read columns instead of parsing each record's JSON. Never edit: add a migration.
-- (Inserts insert and updates update: an upsert on `records` would override an INSERT OR
-- REPLACE inside a trigger with its own conflict handling.)
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

CREATE TRIGGER report_contacts_insert AFTER INSERT ON records WHEN NEW.collection = 'contacts'
BEGIN
    INSERT INTO report_contacts VALUES (
        NEW.id, NEW.site_id,
        json_extract(NEW.state, '$.fields.client_id.v'),
        json_extract(NEW.state, '$.fields.setting.v'),
        json_extract(NEW.state, '$.fields.occurred_at.v'),
        COALESCE(json_extract(NEW.state, '$.fields.collecting_for.v'), 0),
        json_extract(NEW.state, '$.fields.services.v'),
        NEW.deleted);
END;
CREATE TRIGGER report_contacts_update AFTER UPDATE ON records WHEN NEW.collection = 'contacts'
BEGIN
    UPDATE report_contacts SET
        site_id = NEW.site_id,
        client_id = json_extract(NEW.state, '$.fields.client_id.v'),
        setting = json_extract(NEW.state, '$.fields.setting.v'),
        occurred_at = json_extract(NEW.state, '$.fields.occurred_at.v'),
        collecting_for = COALESCE(json_extract(NEW.state, '$.fields.collecting_for.v'), 0),
        services = json_extract(NEW.state, '$.fields.services.v'),
        deleted = NEW.deleted
    WHERE id = NEW.id;
END;
CREATE TRIGGER report_lines_insert AFTER INSERT ON records WHEN NEW.collection = 'distribution_lines'
BEGIN
    INSERT INTO report_lines VALUES (
        NEW.id,
        json_extract(NEW.state, '$.fields.contact_id.v'),
        json_extract(NEW.state, '$.fields.commodity.v'),
        CASE WHEN json_extract(NEW.state, '$.fields.reverses.v') IS NULL THEN 1 ELSE -1 END
            * COALESCE(json_extract(NEW.state, '$.fields.quantity.v'), 0),
        NEW.deleted);
END;
CREATE TRIGGER report_lines_update AFTER UPDATE ON records WHEN NEW.collection = 'distribution_lines'
BEGIN
    UPDATE report_lines SET
        contact_id = json_extract(NEW.state, '$.fields.contact_id.v'),
        commodity = json_extract(NEW.state, '$.fields.commodity.v'),
        quantity = CASE WHEN json_extract(NEW.state, '$.fields.reverses.v') IS NULL THEN 1 ELSE -1 END
            * COALESCE(json_extract(NEW.state, '$.fields.quantity.v'), 0),
        deleted = NEW.deleted
    WHERE id = NEW.id;
END;

INSERT INTO report_contacts
SELECT id, site_id, json_extract(state, '$.fields.client_id.v'), json_extract(state, '$.fields.setting.v'),
       json_extract(state, '$.fields.occurred_at.v'), COALESCE(json_extract(state, '$.fields.collecting_for.v'), 0),
       json_extract(state, '$.fields.services.v'), deleted
FROM records WHERE collection = 'contacts';
INSERT INTO report_lines
SELECT id, json_extract(state, '$.fields.contact_id.v'), json_extract(state, '$.fields.commodity.v'),
       CASE WHEN json_extract(state, '$.fields.reverses.v') IS NULL THEN 1 ELSE -1 END
           * COALESCE(json_extract(state, '$.fields.quantity.v'), 0),
       deleted
FROM records WHERE collection = 'distribution_lines';
