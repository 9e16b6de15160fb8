-- Server schema for SQLite, version 1. Never edit: add a new migration instead.
CREATE TABLE orgs (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    uic_scheme  TEXT NOT NULL,
    created_ms  INTEGER NOT NULL
);

CREATE TABLE sites (
    id      TEXT PRIMARY KEY,
    org_id  TEXT NOT NULL REFERENCES orgs (id),
    name    TEXT NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE enrollment_codes (
    code_hash   TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    site_id     TEXT NOT NULL REFERENCES sites (id),
    created_ms  INTEGER NOT NULL,
    expires_ms  INTEGER NOT NULL,
    used_ms     INTEGER,
    device_id   TEXT
);

CREATE TABLE devices (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL REFERENCES orgs (id),
    name              TEXT NOT NULL,
    app_version       TEXT NOT NULL,
    token_hash        TEXT NOT NULL UNIQUE,
    enrolled_ms       INTEGER NOT NULL,
    last_seen_ms      INTEGER NOT NULL,
    token_expires_ms  INTEGER NOT NULL,
    revoked_ms        INTEGER,
    clock_skew_ms     INTEGER NOT NULL DEFAULT 0,
    clamped_count     INTEGER NOT NULL DEFAULT 0,
    -- Highest op_seq committed for this device. A device pushes its operations in increasing
    -- op_seq order, so any op_seq at or below this mark is a replay: acknowledged, not applied.
    max_op_seq        INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE device_sites (
    device_id  TEXT NOT NULL REFERENCES devices (id),
    site_id    TEXT NOT NULL REFERENCES sites (id),
    PRIMARY KEY (device_id, site_id)
) WITHOUT ROWID;

-- Merged state of every record; seq is the server sequence number of its latest change.
CREATE TABLE records (
    collection  TEXT NOT NULL,
    id          TEXT NOT NULL,
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    site_id     TEXT REFERENCES sites (id),
    state       TEXT NOT NULL,
    deleted     INTEGER NOT NULL DEFAULT 0,
    seq         INTEGER NOT NULL,
    created_ms  INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL,
    PRIMARY KEY (collection, id)
);
CREATE INDEX records_org_seq ON records (org_id, seq);

-- Counters such as the last server sequence number, advanced inside the writing transaction.
CREATE TABLE counters (
    name   TEXT PRIMARY KEY,
    value  INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO counters (name, value) VALUES ('seq', 0);

-- Values that lost to a concurrent edit, for coordinators to review.
CREATE TABLE conflicts (
    id             INTEGER PRIMARY KEY,
    collection     TEXT NOT NULL,
    record_id      TEXT NOT NULL,
    org_id         TEXT NOT NULL,
    site_id        TEXT,
    field          TEXT NOT NULL,
    winner         TEXT NOT NULL,
    loser          TEXT NOT NULL,
    detected_ms    INTEGER NOT NULL,
    resolved_ms    INTEGER,
    resolution     TEXT
);
CREATE INDEX conflicts_open ON conflicts (org_id, resolved_ms);
