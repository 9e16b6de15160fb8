-- Rollups the reports read instead of every contact of a period (see `rollup/`), kept by the
-- projection's catch-up. Never edit: add a migration.

-- One row per client record, site and calendar month with a contact: the days of the month
-- (bit d-1 for day d), and what the client was and did that month at that site as bit sets
-- over core's enums (the bit of a value is its position in the enum; `rollup_layout` in
-- report_progress fingerprints the positions, and a change rebuilds the rollups).
CREATE TABLE report_visits (
    site_id    text NOT NULL,
    month      text NOT NULL,
    client_id  text NOT NULL,
    days       bigint NOT NULL,
    settings   bigint NOT NULL,
    services   bigint NOT NULL,
    tests      bigint NOT NULL,
    referrals  bigint NOT NULL,
    PRIMARY KEY (site_id, month, client_id)
);

-- Commodities a client record received, net of reversals, per site and month.
CREATE TABLE report_items (
    site_id    text NOT NULL,
    month      text NOT NULL,
    client_id  text NOT NULL,
    commodity  text NOT NULL,
    quantity   bigint NOT NULL,
    PRIMARY KEY (site_id, month, client_id, commodity)
);

-- Event counts per site and day (contacts by setting, tests, referrals, returns, overdoses,
-- commodities given): what the reports add up over any period, to the day.
CREATE TABLE report_site_days (
    site_id  text NOT NULL,
    day      text NOT NULL,
    kind     text NOT NULL,
    key      text NOT NULL,
    n        bigint NOT NULL,
    PRIMARY KEY (site_id, day, kind, key)
);

-- Which contact a test result, referral, sharps return or overdose report belongs to, so a
-- deleted or erased one (its tombstone holds no fields) still names the rollups to redo.
CREATE TABLE report_links (
    id          text PRIMARY KEY,
    contact_id  text NOT NULL
);

-- Site, day and client record (empty for none) of contacts whose rollups must be redone.
CREATE TABLE report_dirty (
    site_id    text NOT NULL,
    day        text NOT NULL,
    client_id  text NOT NULL,
    PRIMARY KEY (site_id, day, client_id)
);
