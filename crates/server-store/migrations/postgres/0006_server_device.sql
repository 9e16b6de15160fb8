-- The server's own device (it writes reverts and forms) is marked by a column, never by anything
-- a client sends: an enrolment may name its app version "server". Its token hash starts with
-- "server:", which no hashed token does (they are hex), so the mark is set for an existing one.
-- Never edit: add a migration.
ALTER TABLE devices ADD COLUMN is_server BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE devices SET is_server = TRUE WHERE token_hash LIKE 'server:%';
