-- A deleted record keeps nothing but its tombstone's stamp (core's merge rule since this
-- migration): empty the records deleted before, and drop their rows from the reports'
-- projection. Never edit: add a migration.
UPDATE records SET state = json_set(state, '$.fields', json('{}')) WHERE deleted;
DELETE FROM report_contacts WHERE deleted;
DELETE FROM report_lines WHERE deleted;
