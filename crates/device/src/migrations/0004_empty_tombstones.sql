-- A deleted record keeps nothing but its tombstone's stamp (core's merge rule since this
-- migration): empty the records deleted before, and the copies of their fields.
UPDATE records
SET state = json_set(state, '$.fields', json('{}')),
    server_state = CASE WHEN server_state IS NULL THEN NULL ELSE json_set(server_state, '$.fields', json('{}')) END,
    uic = NULL, client_id = NULL, contact_id = NULL, occurred_at = NULL
WHERE deleted = 1;
