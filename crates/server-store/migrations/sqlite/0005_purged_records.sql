-- Tombstones removed by the clean-up (`purge::purge_tombstones`): only the record's key stays,
-- so a change to it is refused by name, and `seq` (its tombstone's sequence number) tells which
-- devices pulled too long ago to have seen the deletion: they must resync in full.
-- Never edit: add a migration.
CREATE TABLE purged_records (
    collection  TEXT NOT NULL,
    id          TEXT NOT NULL,
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    seq         INTEGER NOT NULL,
    purged_ms   INTEGER NOT NULL,
    PRIMARY KEY (collection, id)
) WITHOUT ROWID;
CREATE INDEX purged_records_org_seq ON purged_records (org_id, seq);
