-- Accounts for the web dashboard, their sites and sessions; the worker a device was enrolled
-- for; and the indexes the dashboard's reports need. Never edit: add a new migration instead.
CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES orgs (id),
    username        TEXT NOT NULL UNIQUE,
    password_hash   TEXT NOT NULL,
    role            TEXT NOT NULL,
    totp_secret     TEXT,
    totp_last_step  INTEGER NOT NULL DEFAULT 0,
    created_ms      INTEGER NOT NULL,
    disabled_ms     INTEGER
);

CREATE TABLE user_sites (
    user_id  TEXT NOT NULL REFERENCES users (id),
    site_id  TEXT NOT NULL REFERENCES sites (id),
    PRIMARY KEY (user_id, site_id)
) WITHOUT ROWID;

-- Only the hash of a session token is stored; a copy of the database opens no session.
CREATE TABLE sessions (
    token_hash    TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id),
    csrf_token    TEXT NOT NULL,
    created_ms    INTEGER NOT NULL,
    last_seen_ms  INTEGER NOT NULL,
    expires_ms    INTEGER NOT NULL,
    address       TEXT
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions (user_id);

ALTER TABLE enrollment_codes ADD COLUMN user_id TEXT REFERENCES users (id);
ALTER TABLE devices ADD COLUMN user_id TEXT REFERENCES users (id);

-- Reports: the small collections hanging off a contact, by contact (distribution lines and
-- contacts themselves are read from the typed projection of migration 4). Partial on exactly
-- the collection list that queries repeat word for word: SQLite uses a partial index only when
-- the query contains its condition. Tallies, stock and surveys by collection, site and time.
CREATE INDEX records_by_contact ON records (json_extract(state, '$.fields.contact_id.v'), collection)
    WHERE collection IN ('sharps_returns', 'referrals', 'test_results', 'overdose_reports');
CREATE INDEX records_event_time ON records (collection, site_id, json_extract(state, '$.fields.occurred_at.v'))
    WHERE collection IN ('group_tallies', 'stock_movements', 'survey_responses');
