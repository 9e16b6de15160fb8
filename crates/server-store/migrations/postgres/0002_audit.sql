-- Audit log: every enrolment, revocation, site change and export, hash-chained so that
-- changing or deleting a row is detectable (`outpost-server audit verify`).
CREATE TABLE audit_log (
    id         bigint PRIMARY KEY,
    at_ms      bigint NOT NULL,
    actor      text NOT NULL,
    action     text NOT NULL,
    target     text NOT NULL,
    detail     text NOT NULL,
    address    text,
    prev_hash  text NOT NULL,
    hash       text NOT NULL
);
