-- The last state the server sent for a record that has local changes not yet accepted, so a
-- change the server refuses can be taken back out of the local data. NULL when the local state
-- is the server's (no pending changes) or the record was created here.
ALTER TABLE records ADD COLUMN server_state TEXT;
