-- Device store, version 1. Never edit: add a new migration instead.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Every synchronised record: its merged state (fields with their stamps, tombstone).
CREATE TABLE records (
    collection  TEXT NOT NULL,
    id          TEXT NOT NULL,
    site_id     TEXT,
    state       TEXT NOT NULL,
    deleted     INTEGER NOT NULL DEFAULT 0,
    server_seq  INTEGER,
    updated_ms  INTEGER NOT NULL,
    -- Copies of fields the screens search by, written with the state (see store::save_record).
    uic         TEXT,
    client_id   TEXT,
    contact_id  TEXT,
    occurred_at TEXT,
    -- A rowid table: states are a few hundred bytes, too large to sit in an index b-tree.
    PRIMARY KEY (collection, id)
);
CREATE INDEX records_uic ON records (uic) WHERE collection = 'clients';
CREATE INDEX records_client ON records (client_id, occurred_at) WHERE collection = 'contacts';
CREATE INDEX records_contact ON records (contact_id) WHERE contact_id IS NOT NULL;
CREATE INDEX records_occurred ON records (collection, occurred_at) WHERE occurred_at IS NOT NULL;

-- Local changes not yet acknowledged by the server, keyed by this device's op_seq.
CREATE TABLE outbox (
    op_seq     INTEGER PRIMARY KEY,
    collection TEXT NOT NULL,
    record_id  TEXT NOT NULL,
    op         TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE INDEX outbox_record ON outbox (collection, record_id);

-- Changes the server refused, kept for people to review.
CREATE TABLE rejected (
    op_seq      INTEGER PRIMARY KEY,
    op          TEXT NOT NULL,
    code        TEXT NOT NULL,
    message     TEXT NOT NULL,
    rejected_ms INTEGER NOT NULL
);
