-- Accounts for the web dashboard, their sites and sessions; the worker a device was enrolled
-- for; and the indexes the dashboard's reports need. Never edit: add a new migration instead.
CREATE TABLE users (
    id              uuid PRIMARY KEY,
    org_id          uuid NOT NULL REFERENCES orgs (id),
    username        text NOT NULL UNIQUE,
    password_hash   text NOT NULL,
    role            text NOT NULL,
    totp_secret     text,
    totp_last_step  bigint NOT NULL DEFAULT 0,
    created_ms      bigint NOT NULL,
    disabled_ms     bigint
);

CREATE TABLE user_sites (
    user_id  uuid NOT NULL REFERENCES users (id),
    site_id  uuid NOT NULL REFERENCES sites (id),
    PRIMARY KEY (user_id, site_id)
);

-- Only the hash of a session token is stored; a copy of the database opens no session.
CREATE TABLE sessions (
    token_hash    text PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users (id),
    csrf_token    text NOT NULL,
    created_ms    bigint NOT NULL,
    last_seen_ms  bigint NOT NULL,
    expires_ms    bigint NOT NULL,
    address       text
);
CREATE INDEX sessions_user ON sessions (user_id);

ALTER TABLE enrollment_codes ADD COLUMN user_id uuid REFERENCES users (id);
ALTER TABLE devices ADD COLUMN user_id uuid REFERENCES users (id);

-- Reports: the small collections hanging off a contact, by contact (distribution lines and
-- contacts themselves are read from the typed projection of migration 4); tallies, stock and
-- surveys by collection, site and time.
CREATE INDEX records_by_contact ON records ((state->'fields'->'contact_id'->>'v'), collection)
    WHERE collection IN ('sharps_returns', 'referrals', 'test_results', 'overdose_reports');
CREATE INDEX records_event_time ON records (collection, site_id, (state->'fields'->'occurred_at'->>'v'))
    WHERE collection IN ('group_tallies', 'stock_movements', 'survey_responses');
