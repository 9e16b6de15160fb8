-- Records seen during a full resync (after the server cleaned up deletions this device had not
-- pulled yet). When the resync's last page is applied, local records neither seen nor waiting
-- in the outbox are gone from the server and are removed here too. Never edit: add a migration.
CREATE TABLE resync_seen (
    collection  TEXT NOT NULL,
    id          TEXT NOT NULL,
    PRIMARY KEY (collection, id)
) WITHOUT ROWID;
