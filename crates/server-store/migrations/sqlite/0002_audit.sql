-- Audit log: every enrolment, revocation, site change and export, hash-chained so that
-- changing or deleting a row is detectable (`outpost-server audit verify`).
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    at_ms      INTEGER NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT NOT NULL,
    detail     TEXT NOT NULL,
    address    TEXT,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
