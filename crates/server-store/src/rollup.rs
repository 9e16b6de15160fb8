//! Rollups of the typed projection (migration 16) that the reports read instead of every
//! contact of a period: a month of a national programme is tens of thousands of rows to read,
//! not the hundreds of thousands of contacts, lines and child records behind them.
//!
//! * `report_visits`: per client record, site and calendar month, the days with a contact and
//!   what the client was and did there as bit sets over core's enums ([`Visit`]);
//! * `report_items`: per client record, site and month, the commodities received net of
//!   reversals;
//! * `report_site_days`: per site and day, the event counts (contacts by setting, secondary
//!   distribution, sharps returned, tests, referrals, overdoses, commodities given).
//!
//! One rule computes all three from contacts ([`fold`]), used both by the projection's catch-up,
//! which redoes the rollups of the site-days and client-months its changes touched
//! (`report_dirty`, filled from the rows before and after the change, so a contact that moved
//! redoes both places), and by [`Store::period_visits`] for the parts of a period that are not
//! whole calendar months, read from the projection directly. A report over whole months reads
//! only rollups; any other period reads rollups for its whole months and contacts for the days
//! at its edges, with the same result.
//!
//! Bit positions are the enums' declaration order. [`layout`] fingerprints them; when it changes
//! (a value added or moved), the next catch-up rebuilds the rollups from the projection.

use crate::backend::Tx;
use crate::error::DbError;
use crate::sql::{Dialect, Row, RowExt, Sql, Statement};
use crate::{Store, params};
use outpost_core::SiteId;
use outpost_core::records::{ReferralStatus, ReferralTarget, Service, Setting, TestKind, TestOutcome};
use std::collections::{BTreeMap, BTreeSet};

/// Rows written per INSERT statement.
const WRITE_CHUNK: usize = 300;
/// Client records whose contacts are read per statement when redoing their months.
const CLIENT_CHUNK: usize = 500;
/// Site-days read per statement when redoing them.
const DAY_CHUNK: usize = 100;
/// From this many marked contacts on, a catch-up checks whether rebuilding is cheaper.
const REBUILD_FROM: usize = 5_000;

/// Collections hanging off a contact that the rollups count (the partial index
/// `records_by_contact` covers them; its condition is repeated word for word).
const CHILDREN: &str = "x.collection IN ('sharps_returns', 'referrals', 'test_results', 'overdose_reports')";

/// A client record's contacts at one site in one calendar month.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Visit {
    pub client_id: String,
    pub site_id: String,
    /// `YYYY-MM`.
    pub month: String,
    /// Bit `d - 1` for each day `d` of the month with a contact.
    pub days: i64,
    pub settings: i64,
    pub services: i64,
    pub tests: i64,
    pub referrals: i64,
}

fn bit<T: PartialEq>(all: &[T], value: &T) -> Option<i64> {
    all.iter().position(|v| v == value).map(|i| 1i64 << i)
}

fn pair_bit<A: PartialEq, B: PartialEq>(a_all: &[A], b_all: &[B], a: &A, b: &B) -> Option<i64> {
    let (i, j) = (a_all.iter().position(|v| v == a)?, b_all.iter().position(|v| v == b)?);
    Some(1i64 << (i * b_all.len() + j))
}

fn members<T: Copy>(all: &[T], mask: i64) -> impl Iterator<Item = T> + '_ {
    all.iter().enumerate().filter(move |(i, _)| mask & (1i64 << i) != 0).map(|(_, v)| *v)
}

fn pairs<A: Copy, B: Copy>(a_all: &'static [A], b_all: &'static [B], mask: i64) -> impl Iterator<Item = (A, B)> {
    let width = b_all.len();
    (0..a_all.len() * width).filter(move |i| mask & (1i64 << i) != 0).map(move |i| (a_all[i / width], b_all[i % width]))
}

fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(text.to_string())).ok()
}

impl Visit {
    /// The days of the month with a contact.
    pub fn days(&self) -> impl Iterator<Item = u8> + '_ {
        (1..=31u8).filter(|d| self.days & (1i64 << (d - 1)) != 0)
    }
    pub fn settings(&self) -> impl Iterator<Item = Setting> + '_ {
        members(Setting::VARIANTS, self.settings)
    }
    pub fn services(&self) -> impl Iterator<Item = Service> + '_ {
        members(Service::VARIANTS, self.services)
    }
    pub fn tests(&self) -> impl Iterator<Item = (TestKind, TestOutcome)> {
        pairs(TestKind::VARIANTS, TestOutcome::VARIANTS, self.tests)
    }
    pub fn referrals(&self) -> impl Iterator<Item = (ReferralTarget, ReferralStatus)> {
        pairs(ReferralTarget::VARIANTS, ReferralStatus::VARIANTS, self.referrals)
    }

    fn merge(&mut self, other: &Visit) {
        self.days |= other.days;
        self.settings |= other.settings;
        self.services |= other.services;
        self.tests |= other.tests;
        self.referrals |= other.referrals;
    }
}

/// A fingerprint of the bit positions: every value of every enum a [`Visit`] holds, in order
/// (FNV-1a, stable across builds).
pub fn layout() -> i64 {
    let lists: [&[&str]; 6] =
        [Setting::ALL, Service::ALL, TestKind::ALL, TestOutcome::ALL, ReferralTarget::ALL, ReferralStatus::ALL];
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for list in lists {
        for byte in list.join(",").bytes().chain([b';']) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    (hash >> 1) as i64
}

/// One contact with what hangs off it, as the projection holds it.
#[derive(Debug, Default)]
struct Contact {
    client: Option<String>,
    site: String,
    at: String,
    setting: Option<String>,
    collecting_for: i64,
    services: Option<String>,
    lines: Vec<(String, i64)>,
    children: Vec<Child>,
}

#[derive(Debug)]
enum Child {
    Test { test: Option<String>, result: Option<String>, linked: i64 },
    Referral { target: Option<String>, status: Option<String> },
    Return { count: i64 },
    Overdose { outcome: Option<String> },
}

/// What [`fold`] makes of a set of contacts.
#[derive(Debug, Default)]
pub struct Folded {
    /// By (client, site, month).
    pub visits: BTreeMap<(String, String, String), Visit>,
    /// (client, site, month, commodity) → net quantity.
    pub items: BTreeMap<(String, String, String, String), i64>,
    /// (site, day) → (kind, key) → count.
    pub days: BTreeMap<(String, String), BTreeMap<(String, String), i64>>,
}

/// `a|b`, or empty when either is missing (as SQL's `||` over NULL read as text).
fn joined(parts: &[Option<&str>]) -> String {
    if parts.iter().any(Option::is_none) {
        String::new()
    } else {
        parts.iter().flatten().copied().collect::<Vec<_>>().join("|")
    }
}

/// The one rule from contacts to rollups.
fn fold(contacts: &BTreeMap<String, Contact>) -> Folded {
    let mut out = Folded::default();
    for c in contacts.values() {
        let (Some(day), Some(month)) = (c.at.get(0..10), c.at.get(0..7)) else { continue };
        let counts = out.days.entry((c.site.clone(), day.to_string())).or_default();
        let mut add = |kind: &str, key: String, n: i64| *counts.entry((kind.to_string(), key)).or_default() += n;
        add("setting", c.setting.clone().unwrap_or_default(), 1);
        if c.collecting_for > 0 {
            add("secondary_distribution", String::new(), 1);
        }
        for (commodity, quantity) in &c.lines {
            add("item", commodity.clone(), *quantity);
        }
        let mut outcomes = BTreeSet::new();
        for child in &c.children {
            match child {
                Child::Test { test, result, linked } => {
                    let linked = if *linked != 0 { "1" } else { "0" };
                    add("test", joined(&[test.as_deref(), result.as_deref(), Some(linked)]), 1);
                }
                Child::Referral { target, status } => {
                    add("referral", joined(&[target.as_deref(), status.as_deref()]), 1)
                }
                Child::Return { count } => add("syringes_returned", String::new(), *count),
                Child::Overdose { outcome } => {
                    outcomes.insert(outcome.clone().unwrap_or_default());
                }
            }
        }
        // An overdose outcome counts once per contact, however many reports name it.
        for outcome in outcomes {
            add("overdose", outcome, 1);
        }

        let Some(client) = &c.client else { continue };
        let key = (client.clone(), c.site.clone(), month.to_string());
        let visit = out.visits.entry(key.clone()).or_insert_with(|| Visit {
            client_id: client.clone(),
            site_id: c.site.clone(),
            month: month.to_string(),
            ..Visit::default()
        });
        if let Some(d) = c.at.get(8..10).and_then(|d| d.parse::<u32>().ok()).filter(|d| (1..=31).contains(d)) {
            visit.days |= 1i64 << (d - 1);
        }
        if let Some(b) = c.setting.as_deref().and_then(parse::<Setting>).and_then(|s| bit(Setting::VARIANTS, &s)) {
            visit.settings |= b;
        }
        let services: Vec<String> =
            c.services.as_deref().and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default();
        for b in services.iter().filter_map(|s| parse::<Service>(s)).filter_map(|s| bit(Service::VARIANTS, &s)) {
            visit.services |= b;
        }
        for child in &c.children {
            match child {
                Child::Test { test: Some(test), result: Some(result), .. } => {
                    if let (Some(k), Some(o)) = (parse::<TestKind>(test), parse::<TestOutcome>(result)) {
                        visit.tests |= pair_bit(TestKind::VARIANTS, TestOutcome::VARIANTS, &k, &o).unwrap_or(0);
                    }
                }
                Child::Referral { target: Some(target), status: Some(status) } => {
                    if let (Some(t), Some(s)) = (parse::<ReferralTarget>(target), parse::<ReferralStatus>(status)) {
                        visit.referrals |=
                            pair_bit(ReferralTarget::VARIANTS, ReferralStatus::VARIANTS, &t, &s).unwrap_or(0);
                    }
                }
                _ => {}
            }
        }
        let (client, site, month) = key;
        for (commodity, quantity) in &c.lines {
            *out.items.entry((client.clone(), site.clone(), month.clone(), commodity.clone())).or_default() += quantity;
        }
    }
    out
}

/// Reads the contacts matching `scope` (a condition on `rc`, written into a builder) with their
/// lines and children.
async fn load(tx: &mut Tx, scope: &(dyn Fn(&mut Sql) -> String + Sync)) -> Result<BTreeMap<String, Contact>, DbError> {
    let d = tx.dialect();
    let mut q = Sql::new();
    let condition = scope(&mut q);
    let contacts = q.query(&format!(
        "SELECT rc.id, rc.client_id, rc.site_id, rc.occurred_at, rc.setting, rc.collecting_for, {services}
         FROM report_contacts rc WHERE NOT rc.deleted AND rc.site_id IS NOT NULL AND rc.occurred_at IS NOT NULL AND {condition}",
        services = d.json_text("rc.services"),
    ));
    let mut q = Sql::new();
    let condition = scope(&mut q);
    let lines = q.query(&format!(
        "SELECT rc.id, x.commodity, x.quantity FROM report_contacts rc
         JOIN report_lines x ON x.contact_id = rc.id AND NOT x.deleted
         WHERE NOT rc.deleted AND {condition}"
    ));
    let mut q = Sql::new();
    let condition = scope(&mut q);
    let children = q.query(&format!(
        "SELECT rc.id, x.collection, {test}, {result}, {linked}, {target}, {status}, {count}, {outcome}
         FROM report_contacts rc JOIN records x ON {CHILDREN} AND {contact} = {id} AND NOT x.deleted
         WHERE NOT rc.deleted AND {condition}",
        test = d.field("x", "test"),
        result = d.field("x", "result"),
        linked = d.field_int("x", "linked_to_care"),
        target = d.field("x", "target"),
        status = d.field("x", "status"),
        count = d.field_int("x", "count"),
        outcome = d.field("x", "outcome"),
        contact = d.field("x", "contact_id"),
        id = d.bare("rc.id"),
    ));
    let mut out = tx.run(vec![contacts, lines, children]).await?.into_iter().map(|o| o.rows);
    let mut contacts = BTreeMap::new();
    for row in out.next().unwrap_or_default() {
        let contact = Contact {
            client: row.col(1)?,
            site: row.col(2)?,
            at: row.col(3)?,
            setting: row.col(4)?,
            collecting_for: row.col(5)?,
            services: row.col(6)?,
            ..Contact::default()
        };
        contacts.insert(row.col::<String>(0)?, contact);
    }
    for row in out.next().unwrap_or_default() {
        if let Some(c) = contacts.get_mut(&row.col::<String>(0)?) {
            c.lines.push((row.col::<Option<String>>(1)?.unwrap_or_default(), row.col(2)?));
        }
    }
    for row in out.next().unwrap_or_default() {
        let Some(c) = contacts.get_mut(&row.col::<String>(0)?) else { continue };
        let child = match row.col::<String>(1)?.as_str() {
            "test_results" => Child::Test { test: row.col(2)?, result: row.col(3)?, linked: int(&row, 4)? },
            "referrals" => Child::Referral { target: row.col(5)?, status: row.col(6)? },
            "sharps_returns" => Child::Return { count: int(&row, 7)? },
            _ => Child::Overdose { outcome: row.col(8)? },
        };
        c.children.push(child);
    }
    Ok(contacts)
}

fn int(row: &Row, i: usize) -> Result<i64, DbError> {
    Ok(row.col::<Option<i64>>(i)?.unwrap_or(0))
}

/// The first day of the month after `month` (`YYYY-MM`), as `YYYY-MM-01`.
fn next_month(month: &str) -> String {
    let (y, m) =
        (month.get(0..4).and_then(|y| y.parse::<i32>().ok()), month.get(5..7).and_then(|m| m.parse::<u32>().ok()));
    match (y, m) {
        (Some(y), Some(12)) => format!("{:04}-01-01", y + 1),
        (Some(y), Some(m)) => format!("{y:04}-{:02}-01", m + 1),
        _ => format!("{month}~"),
    }
}

/// The day after `day` (`YYYY-MM-DD`).
fn next_day(day: &str) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(day, format)
        .ok()
        .and_then(|d| d.next_day())
        .and_then(|d| d.format(format).ok())
        .unwrap_or_else(|| format!("{day}~"))
}

fn insert_visits(visits: &[&Visit]) -> Vec<Statement> {
    visits
        .chunks(WRITE_CHUNK)
        .map(|chunk| {
            let mut q = Sql::new();
            let rows: Vec<String> = chunk
                .iter()
                .map(|v| {
                    format!(
                        "({}, {}, {}, {}, {}, {}, {}, {})",
                        q.bind(v.site_id.as_str()),
                        q.bind(v.month.as_str()),
                        q.bind(v.client_id.as_str()),
                        q.bind(v.days),
                        q.bind(v.settings),
                        q.bind(v.services),
                        q.bind(v.tests),
                        q.bind(v.referrals)
                    )
                })
                .collect();
            q.exec(&format!(
                "INSERT INTO report_visits (site_id, month, client_id, days, settings, services, tests, referrals) VALUES {}",
                rows.join(", ")
            ))
        })
        .collect()
}

type ItemRow<'a> = (&'a (String, String, String, String), &'a i64);

fn insert_items(items: &[ItemRow]) -> Vec<Statement> {
    items
        .chunks(WRITE_CHUNK)
        .map(|chunk| {
            let mut q = Sql::new();
            let rows: Vec<String> = chunk
                .iter()
                .map(|((client, site, month, commodity), n)| {
                    format!(
                        "({}, {}, {}, {}, {})",
                        q.bind(site.as_str()),
                        q.bind(month.as_str()),
                        q.bind(client.as_str()),
                        q.bind(commodity.as_str()),
                        q.bind(**n)
                    )
                })
                .collect();
            q.exec(&format!(
                "INSERT INTO report_items (site_id, month, client_id, commodity, quantity) VALUES {}",
                rows.join(", ")
            ))
        })
        .collect()
}

fn insert_days(rows: &[(&String, &String, &String, &String, i64)]) -> Vec<Statement> {
    rows.chunks(WRITE_CHUNK)
        .map(|chunk| {
            let mut q = Sql::new();
            let values: Vec<String> = chunk
                .iter()
                .map(|(site, day, kind, key, n)| {
                    format!(
                        "({}, {}, {}, {}, {})",
                        q.bind(site.as_str()),
                        q.bind(day.as_str()),
                        q.bind(kind.as_str()),
                        q.bind(key.as_str()),
                        q.bind(*n)
                    )
                })
                .collect();
            q.exec(&format!("INSERT INTO report_site_days (site_id, day, kind, key, n) VALUES {}", values.join(", ")))
        })
        .collect()
}

/// Statements inserting what `folded` holds for the visit keys `clients` and the site-days
/// `days` (all of it when `None`); what those keys held is deleted beforehand.
fn insert_folded(
    folded: &Folded,
    clients: Option<&BTreeSet<(String, String, String)>>,
    days: Option<&BTreeSet<(String, String)>>,
) -> Vec<Statement> {
    let mut statements = Vec::new();
    let visits: Vec<&Visit> =
        folded.visits.iter().filter(|(k, _)| clients.is_none_or(|keys| keys.contains(*k))).map(|(_, v)| v).collect();
    statements.extend(insert_visits(&visits));
    let items: Vec<ItemRow> = folded
        .items
        .iter()
        .filter(|((client, site, month, _), n)| {
            **n != 0 && clients.is_none_or(|keys| keys.contains(&(client.clone(), site.clone(), month.clone())))
        })
        .collect();
    statements.extend(insert_items(&items));
    let day_rows: Vec<(&String, &String, &String, &String, i64)> = folded
        .days
        .iter()
        .filter(|(k, _)| days.is_none_or(|keys| keys.contains(*k)))
        .flat_map(|((site, day), counts)| counts.iter().map(move |((kind, key), n)| (site, day, kind, key, *n)))
        .collect();
    statements.extend(insert_days(&day_rows));
    statements
}

/// Marks the site-days and client-months of the contacts a change in `(done, top]` touches, as
/// the projection holds them now: run before the projection's upserts (where they were) and
/// after (where they are; `top` is then `None`). The second mark has no upper bound: on
/// PostgreSQL each statement sees the latest commits, and a record the upserts wrote may have
/// been changed again by a push meanwhile, taking a sequence number above `top`; it must still
/// be marked where the upserts put it. Marking a few records more than needed costs only their
/// redoing.
pub(crate) fn mark_changed(d: Dialect, done: i64, top: Option<i64>) -> Statement {
    let id = d.uuid_as_text("r.id");
    let (range, bounds) = match top {
        Some(top) => ("r.seq > ? AND r.seq <= ?", params![done, top]),
        None => ("r.seq > ?", params![done]),
    };
    let params = [bounds.clone(), bounds.clone(), bounds].concat();
    Statement::exec(
        format!(
            "INSERT INTO report_dirty (site_id, day, client_id)
             SELECT DISTINCT rc.site_id, substr(rc.occurred_at, 1, 10), COALESCE(rc.client_id, '') FROM report_contacts rc
             WHERE rc.site_id IS NOT NULL AND rc.occurred_at IS NOT NULL AND rc.id IN (
                 SELECT {id} FROM records r WHERE {range} AND r.collection = 'contacts'
                 UNION SELECT l.contact_id FROM records r JOIN report_lines l ON l.id = {id}
                       WHERE {range} AND r.collection = 'distribution_lines'
                 UNION SELECT k.contact_id FROM records r JOIN report_links k ON k.id = {id}
                       WHERE {range} AND r.collection IN ('sharps_returns', 'referrals', 'test_results', 'overdose_reports'))
             ON CONFLICT DO NOTHING"
        ),
        params,
    )
}

/// Marks the site-day and client-month of contact `id` (before an erasure removes its row).
pub(crate) fn mark_contact(id: &str) -> Statement {
    Statement::exec(
        "INSERT INTO report_dirty (site_id, day, client_id)
         SELECT rc.site_id, substr(rc.occurred_at, 1, 10), COALESCE(rc.client_id, '') FROM report_contacts rc
         WHERE rc.site_id IS NOT NULL AND rc.occurred_at IS NOT NULL
           AND rc.id IN (?, (SELECT l.contact_id FROM report_lines l WHERE l.id = ?), (SELECT k.contact_id FROM report_links k WHERE k.id = ?))
         ON CONFLICT DO NOTHING",
        params![id, id, id],
    )
}

/// Keeps `report_links` (child → contact) up to date for the changes in `(done, top]`.
pub(crate) fn link_statements(d: Dialect, done: i64, top: i64) -> Vec<Statement> {
    let id = d.uuid_as_text("r.id");
    vec![
        Statement::exec(
            format!(
                "INSERT INTO report_links (id, contact_id)
                 SELECT {id}, {contact} FROM records r WHERE r.seq > ? AND r.seq <= ? AND NOT r.deleted
                   AND r.collection IN ('sharps_returns', 'referrals', 'test_results', 'overdose_reports') AND {contact} IS NOT NULL
                 ON CONFLICT (id) DO UPDATE SET contact_id = excluded.contact_id",
                contact = d.field("r", "contact_id"),
            ),
            params![done, top],
        ),
        Statement::exec(
            format!(
                "DELETE FROM report_links WHERE id IN (SELECT {id} FROM records r WHERE r.seq > ? AND r.seq <= ? AND r.deleted
                   AND r.collection IN ('sharps_returns', 'referrals', 'test_results', 'overdose_reports'))"
            ),
            params![done, top],
        ),
    ]
}

/// Redoes the rollups of what `report_dirty` names, then empties it. When it names more than a
/// tenth of all contacts (an import, a first catch-up after an upgrade), everything is rebuilt
/// instead: redoing key by key would cost more.
pub(crate) async fn redo_dirty(tx: &mut Tx) -> Result<(), DbError> {
    let rows = tx.query(Statement::query("SELECT site_id, day, client_id FROM report_dirty", vec![])).await?;
    if rows.is_empty() {
        return Ok(());
    }
    if rows.len() > REBUILD_FROM {
        let total = tx.query(Statement::query("SELECT COUNT(*) FROM report_contacts", vec![])).await?;
        let total: i64 = total.first().map_or(Ok(0), |r| r.col(0))?;
        if rows.len() as i64 > total / 10 {
            return rebuild(tx).await;
        }
    }
    // What the named keys held goes first, in three statements.
    tx.run(vec![
        Statement::exec(
            "DELETE FROM report_visits WHERE (site_id, month, client_id) IN
                 (SELECT site_id, substr(day, 1, 7), client_id FROM report_dirty)",
            vec![],
        ),
        Statement::exec(
            "DELETE FROM report_items WHERE (site_id, month, client_id) IN
                 (SELECT site_id, substr(day, 1, 7), client_id FROM report_dirty)",
            vec![],
        ),
        Statement::exec(
            "DELETE FROM report_site_days WHERE (site_id, day) IN (SELECT site_id, day FROM report_dirty)",
            vec![],
        ),
    ])
    .await?;
    let mut client_months: BTreeSet<(String, String, String)> = BTreeSet::new();
    let mut site_days: BTreeSet<(String, String)> = BTreeSet::new();
    for row in &rows {
        let (site, day, client): (String, String, String) = (row.col(0)?, row.col(1)?, row.col(2)?);
        if !client.is_empty() {
            client_months.insert((client, site.clone(), day.get(0..7).unwrap_or(&day).to_string()));
        }
        site_days.insert((site, day));
    }
    // Every contact of the clients named (a few dozen a year each), kept for the months named.
    let clients: Vec<&String> = client_months.iter().map(|(c, _, _)| c).collect::<BTreeSet<_>>().into_iter().collect();
    for chunk in clients.chunks(CLIENT_CHUNK) {
        let contacts =
            load(tx, &|q: &mut Sql| format!("rc.client_id IN {}", q.list(chunk.iter().map(|c| c.as_str())))).await?;
        let folded = fold(&contacts);
        let keys: BTreeSet<(String, String, String)> =
            client_months.iter().filter(|(c, _, _)| chunk.binary_search(&c).is_ok()).cloned().collect();
        tx.run(insert_folded(&folded, Some(&keys), Some(&BTreeSet::new()))).await?;
    }
    let days: Vec<&(String, String)> = site_days.iter().collect();
    for chunk in days.chunks(DAY_CHUNK) {
        let contacts = load(tx, &|q: &mut Sql| {
            let parts: Vec<String> = chunk
                .iter()
                .map(|(site, day)| {
                    format!(
                        "(rc.site_id = {} AND rc.occurred_at >= {} AND rc.occurred_at < {})",
                        q.bind(site.as_str()),
                        q.bind(day.as_str()),
                        q.bind(next_day(day))
                    )
                })
                .collect();
            format!("({})", parts.join(" OR "))
        })
        .await?;
        let folded = fold(&contacts);
        let keys: BTreeSet<(String, String)> = chunk.iter().map(|k| (*k).clone()).collect();
        tx.run(insert_folded(&folded, Some(&BTreeSet::new()), Some(&keys))).await?;
    }
    tx.run(vec![Statement::exec("DELETE FROM report_dirty", vec![])]).await?;
    Ok(())
}

/// Rebuilds every rollup from the projection, a site and a month at a time.
pub(crate) async fn rebuild(tx: &mut Tx) -> Result<(), DbError> {
    tx.run(
        ["report_visits", "report_items", "report_site_days", "report_dirty"]
            .iter()
            .map(|t| Statement::exec(format!("DELETE FROM {t}"), vec![]))
            .collect(),
    )
    .await?;
    // Which contact each child record belongs to, from scratch: records from before the
    // rollups existed (an upgrade) get their links too, so deleting one later redoes its place.
    let d = tx.dialect();
    tx.run(vec![
        Statement::exec("DELETE FROM report_links", vec![]),
        Statement::exec(
            format!(
                "INSERT INTO report_links (id, contact_id)
                 SELECT {id}, {contact} FROM records r WHERE NOT r.deleted
                   AND r.collection IN ('sharps_returns', 'referrals', 'test_results', 'overdose_reports') AND {contact} IS NOT NULL",
                id = d.uuid_as_text("r.id"),
                contact = d.field("r", "contact_id"),
            ),
            vec![],
        ),
    ])
    .await?;
    // The projection was just filled in this transaction: without statistics the planner may
    // walk every line for each site-month instead of the contacts' lines.
    tx.run(vec![Statement::exec("ANALYZE report_contacts", vec![]), Statement::exec("ANALYZE report_lines", vec![])])
        .await?;
    let spans = tx
        .query(Statement::query(
            "SELECT site_id, MIN(occurred_at), MAX(occurred_at) FROM report_contacts
             WHERE NOT deleted AND site_id IS NOT NULL AND occurred_at IS NOT NULL GROUP BY site_id",
            vec![],
        ))
        .await?;
    for span in &spans {
        let (site, first, last): (String, String, String) = (span.col(0)?, span.col(1)?, span.col(2)?);
        let mut month = first.get(0..7).unwrap_or(&first).to_string();
        let last_month = last.get(0..7).unwrap_or(&last).to_string();
        while month <= last_month {
            let until = next_month(&month);
            let started = std::time::Instant::now();
            let folded = fold_range(tx, std::slice::from_ref(&site), &month, &until).await?;
            let read_ms = started.elapsed().as_millis() as u64;
            tx.run(insert_folded(&folded, None, None)).await?;
            tracing::debug!(%site, %month, read_ms, total_ms = started.elapsed().as_millis() as u64, "rollups rebuilt");
            month = until.get(0..7).unwrap_or(&until).to_string();
            if until.ends_with('~') {
                break;
            }
        }
    }
    Ok(())
}

/// What the people reached in a period were and did, by client record.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PeriodVisits {
    pub visits: Vec<Visit>,
    /// (client record, commodity) → net quantity over the period.
    pub items: BTreeMap<(String, String), i64>,
}

/// The whole calendar months of `[from, until)` (dates), as (first month, last month), and
/// the day ranges at its edges that are not whole months.
/// A span of months or of days: (first, last) months, or [from, until) dates.
type Span = (String, String);

fn split_period(from: &str, until: &str) -> (Option<Span>, Vec<Span>) {
    let first_start =
        if from.get(8..10) == Some("01") { from.to_string() } else { next_month(from.get(0..7).unwrap_or(from)) };
    let last_end = format!("{}-01", until.get(0..7).unwrap_or(until));
    if first_start >= last_end || first_start.ends_with('~') {
        return (None, vec![(from.to_string(), until.to_string())]);
    }
    let mut edges = Vec::new();
    if from < first_start.as_str() {
        edges.push((from.to_string(), first_start.clone()));
    }
    if last_end.as_str() < until {
        edges.push((last_end.clone(), until.to_string()));
    }
    // The last whole month starts a month before `last_end`.
    let last_month = previous_month(&last_end);
    (Some((first_start[0..7].to_string(), last_month)), edges)
}

fn previous_month(first_day: &str) -> String {
    let (y, m) = (
        first_day.get(0..4).and_then(|y| y.parse::<i32>().ok()),
        first_day.get(5..7).and_then(|m| m.parse::<u32>().ok()),
    );
    match (y, m) {
        (Some(y), Some(1)) => format!("{:04}-12", y - 1),
        (Some(y), Some(m)) => format!("{y:04}-{:02}", m - 1),
        _ => first_day.get(0..7).unwrap_or(first_day).to_string(),
    }
}

/// The contacts at `sites` in `[from, until)`, folded.
async fn fold_range(tx: &mut Tx, sites: &[String], from: &str, until: &str) -> Result<Folded, DbError> {
    let contacts = load(tx, &|q: &mut Sql| {
        format!(
            "rc.site_id IN {} AND rc.occurred_at >= {} AND rc.occurred_at < {}",
            q.list(sites.iter().map(String::as_str)),
            q.bind(from),
            q.bind(until)
        )
    })
    .await?;
    Ok(fold(&contacts))
}

/// The statements reading the rollups of the months `first..=last` at `sites`: the visits, and
/// the commodities summed per client record.
fn whole_months(sites: &[String], first: &str, last: &str) -> [Statement; 2] {
    let months = |q: &mut Sql| {
        format!(
            "site_id IN {} AND month >= {} AND month <= {}",
            q.list(sites.iter().map(String::as_str)),
            q.bind(first),
            q.bind(last)
        )
    };
    let mut q = Sql::new();
    let scope = months(&mut q);
    let visits = q.query(&format!(
        "SELECT client_id, site_id, month, days, settings, services, tests, referrals FROM report_visits WHERE {scope}"
    ));
    let mut q = Sql::new();
    let scope = months(&mut q);
    let items = q.query(&format!(
        "SELECT client_id, commodity, CAST(SUM(quantity) AS BIGINT) FROM report_items WHERE {scope} GROUP BY client_id, commodity"
    ));
    [visits, items]
}

fn visits_of(rows: Vec<Row>) -> Result<Vec<Visit>, DbError> {
    let mut out = Vec::with_capacity(rows.len());
    for mut row in rows {
        let mut visit = Visit {
            days: row.col(3)?,
            settings: row.col(4)?,
            services: row.col(5)?,
            tests: row.col(6)?,
            referrals: row.col(7)?,
            ..Visit::default()
        };
        // The texts are moved out of the row, not copied (a year is a quarter of a million rows).
        row.truncate(3);
        let mut texts = row.into_iter().map(|v| match v {
            crate::sql::SqlValue::Text(t) => Ok(t),
            other => Err(DbError::Corrupt(format!("report_visits holds {other:?} where text belongs"))),
        });
        for slot in [&mut visit.client_id, &mut visit.site_id, &mut visit.month] {
            *slot = texts.next().transpose()?.unwrap_or_default();
        }
        out.push(visit);
    }
    Ok(out)
}

fn items_of(rows: &[Row], into: &mut BTreeMap<(String, String), i64>) -> Result<(), DbError> {
    for row in rows {
        *into.entry((row.col(0)?, row.col(1)?)).or_default() += row.col::<i64>(2)?;
    }
    Ok(())
}

/// Adds the contacts of the day ranges `edges` at `sites`, folded, to `out`.
async fn add_edges(
    tx: &mut Tx,
    sites: &[String],
    edges: &[(String, String)],
    out: &mut PeriodVisits,
) -> Result<(), DbError> {
    let mut visits: BTreeMap<(String, String, String), Visit> = std::mem::take(&mut out.visits)
        .into_iter()
        .map(|v| ((v.client_id.clone(), v.site_id.clone(), v.month.clone()), v))
        .collect();
    for (a, b) in edges {
        let folded = fold_range(tx, sites, a, b).await?;
        for (key, v) in folded.visits {
            visits.entry(key).and_modify(|old| old.merge(&v)).or_insert(v);
        }
        for ((client, _, _, commodity), n) in folded.items {
            *out.items.entry((client, commodity)).or_default() += n;
        }
    }
    out.visits = visits.into_values().collect();
    Ok(())
}

impl Store {
    /// The visits and commodities of the client records with a contact in `[from, until)`
    /// (dates) at `sites`: rollups for the whole months (visits and commodities read side by
    /// side, on two connections), the projection for the days at the edges. The projection
    /// must be current ([`Store::refresh_projection`]).
    pub async fn period_visits(&self, sites: &[SiteId], from: &str, until: &str) -> Result<PeriodVisits, DbError> {
        let sites: Vec<String> = sites.iter().map(ToString::to_string).collect();
        let (whole, edges) = split_period(from, until);
        let mut out = PeriodVisits::default();
        if let Some((first, last)) = &whole {
            let [visits, items] = whole_months(&sites, first, last);
            let (visits, items) = tokio::try_join!(self.query(visits), self.query(items))?;
            out.visits = visits_of(visits)?;
            items_of(&items, &mut out.items)?;
        }
        if !edges.is_empty() {
            out = self
                .transaction(crate::backend::TxMode::Read, move |tx| {
                    Box::pin(async move {
                        add_edges(tx, &sites, &edges, &mut out).await?;
                        Ok(out)
                    })
                })
                .await?;
        }
        out.items.retain(|_, n| *n != 0);
        Ok(out)
    }

    /// Event counts at `sites` over the days `[from, until)`: (site, month, kind, key, count),
    /// per month when `by_month` (else the month is empty).
    pub async fn site_day_counts(
        &self,
        sites: &[SiteId],
        from: &str,
        until: &str,
        by_month: bool,
    ) -> Result<Vec<(String, String, String, String, i64)>, DbError> {
        let mut q = Sql::new();
        let list = q.list(sites.iter().map(ToString::to_string));
        let (a, b) = (q.bind(from), q.bind(until));
        // PostgreSQL refuses a constant in GROUP BY: the month is grouped only when asked for.
        let (month, group) = if by_month { ("substr(day, 1, 7)", ", substr(day, 1, 7)") } else { ("''", "") };
        let rows = self
            .query(q.query(&format!(
                "SELECT site_id, {month}, kind, key, CAST(SUM(n) AS BIGINT) FROM report_site_days
                 WHERE site_id IN {list} AND day >= {a} AND day < {b} GROUP BY site_id{group}, kind, key"
            )))
            .await?;
        rows.iter().map(|r| Ok((r.col(0)?, r.col(1)?, r.col(2)?, r.col(3)?, r.col(4)?))).collect()
    }

    /// The visits of `[from, until)` read from the projection only, as if no rollup existed:
    /// for tests, which compare it with [`Store::period_visits`].
    pub async fn period_visits_from_contacts(
        &self,
        sites: &[SiteId],
        from: &str,
        until: &str,
    ) -> Result<PeriodVisits, DbError> {
        let sites: Vec<String> = sites.iter().map(ToString::to_string).collect();
        let edges = vec![(from.to_string(), until.to_string())];
        let mut out = self
            .transaction(crate::backend::TxMode::Read, move |tx| {
                Box::pin(async move {
                    let mut out = PeriodVisits::default();
                    add_edges(tx, &sites, &edges, &mut out).await?;
                    Ok(out)
                })
            })
            .await?;
        out.items.retain(|_, n| *n != 0);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bit_set_fits_in_a_signed_64_bit_integer() {
        assert!(Setting::ALL.len() < 63 && Service::ALL.len() < 63);
        assert!(TestKind::ALL.len() * TestOutcome::ALL.len() < 63);
        assert!(ReferralTarget::ALL.len() * ReferralStatus::ALL.len() < 63);
    }

    #[test]
    fn bits_read_back_as_the_values_written() {
        let mut v = Visit::default();
        v.tests |= pair_bit(TestKind::VARIANTS, TestOutcome::VARIANTS, &TestKind::Syphilis, &TestOutcome::Reactive)
            .unwrap_or(0);
        v.referrals |= pair_bit(
            ReferralTarget::VARIANTS,
            ReferralStatus::VARIANTS,
            &ReferralTarget::SocialServices,
            &ReferralStatus::Lost,
        )
        .unwrap_or(0);
        v.services |= bit(Service::VARIANTS, &Service::CaseManagement).unwrap_or(0);
        v.days = 1 | (1 << 30);
        assert_eq!(v.tests().collect::<Vec<_>>(), vec![(TestKind::Syphilis, TestOutcome::Reactive)]);
        assert_eq!(v.referrals().collect::<Vec<_>>(), vec![(ReferralTarget::SocialServices, ReferralStatus::Lost)]);
        assert_eq!(v.services().collect::<Vec<_>>(), vec![Service::CaseManagement]);
        assert_eq!(v.days().collect::<Vec<_>>(), vec![1, 31]);
    }

    #[test]
    fn a_period_splits_into_whole_months_and_edge_days() {
        assert_eq!(split_period("2026-10-01", "2026-11-01"), (Some(("2026-10".into(), "2026-10".into())), vec![]));
        assert_eq!(split_period("2025-12-01", "2026-12-01"), (Some(("2025-12".into(), "2026-11".into())), vec![]));
        assert_eq!(
            split_period("2026-10-15", "2026-12-10"),
            (
                Some(("2026-11".into(), "2026-11".into())),
                vec![("2026-10-15".into(), "2026-11-01".into()), ("2026-12-01".into(), "2026-12-10".into())]
            )
        );
        assert_eq!(split_period("2026-10-15", "2026-10-20"), (None, vec![("2026-10-15".into(), "2026-10-20".into())]));
        assert_eq!(split_period("2026-10-15", "2026-11-20"), (None, vec![("2026-10-15".into(), "2026-11-20".into())]));
        assert_eq!(next_day("2026-12-31"), "2027-01-01");
        assert_eq!(next_month("2026-12"), "2027-01-01");
    }

    #[test]
    fn the_layout_changes_when_a_value_moves() {
        assert_eq!(layout(), layout());
        assert!(layout() >= 0);
    }
}
