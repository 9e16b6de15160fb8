-- Server schema for PostgreSQL, version 1. Never edit: add a new migration instead.
CREATE TABLE orgs (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    uic_scheme  jsonb NOT NULL,
    created_ms  bigint NOT NULL
);

CREATE TABLE sites (
    id      uuid PRIMARY KEY,
    org_id  uuid NOT NULL REFERENCES orgs (id),
    name    text NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE enrollment_codes (
    code_hash   text PRIMARY KEY,
    org_id      uuid NOT NULL REFERENCES orgs (id),
    site_id     uuid NOT NULL REFERENCES sites (id),
    created_ms  bigint NOT NULL,
    expires_ms  bigint NOT NULL,
    used_ms     bigint,
    device_id   uuid
);

CREATE TABLE devices (
    id                uuid PRIMARY KEY,
    org_id            uuid NOT NULL REFERENCES orgs (id),
    name              text NOT NULL,
    app_version       text NOT NULL,
    token_hash        text NOT NULL UNIQUE,
    enrolled_ms       bigint NOT NULL,
    last_seen_ms      bigint NOT NULL,
    token_expires_ms  bigint NOT NULL,
    revoked_ms        bigint,
    clock_skew_ms     bigint NOT NULL DEFAULT 0,
    clamped_count     bigint NOT NULL DEFAULT 0,
    -- Highest op_seq committed for this device; at or below it an operation is a replay.
    max_op_seq        bigint NOT NULL DEFAULT 0
);

CREATE TABLE device_sites (
    device_id  uuid NOT NULL REFERENCES devices (id),
    site_id    uuid NOT NULL REFERENCES sites (id),
    PRIMARY KEY (device_id, site_id)
);

-- Merged state of every record; seq is the server sequence number of its latest change.
CREATE TABLE records (
    collection  text NOT NULL,
    id          uuid NOT NULL,
    org_id      uuid NOT NULL REFERENCES orgs (id),
    site_id     uuid REFERENCES sites (id),
    state       jsonb NOT NULL,
    deleted     boolean NOT NULL DEFAULT false,
    seq         bigint NOT NULL,
    created_ms  bigint NOT NULL,
    updated_ms  bigint NOT NULL,
    PRIMARY KEY (collection, id)
);
CREATE INDEX records_org_seq ON records (org_id, seq);

-- The last server sequence number. Writers take it with UPDATE ... RETURNING, which holds the
-- row lock until commit: sequence numbers become visible in the order they were handed out, so
-- a reader never sees a higher number while a lower one is still uncommitted.
CREATE TABLE counters (
    name   text PRIMARY KEY,
    value  bigint NOT NULL
);
INSERT INTO counters (name, value) VALUES ('seq', 0);

CREATE TABLE conflicts (
    id           bigserial PRIMARY KEY,
    collection   text NOT NULL,
    record_id    uuid NOT NULL,
    org_id       uuid NOT NULL,
    site_id      uuid,
    field        text NOT NULL,
    winner       jsonb NOT NULL,
    loser        jsonb NOT NULL,
    detected_ms  bigint NOT NULL,
    resolved_ms  bigint,
    resolution   text
);
CREATE INDEX conflicts_open ON conflicts (org_id, resolved_ms);
