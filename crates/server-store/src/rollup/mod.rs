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
//! redoes both places), and by [`crate::Store::period_visits`] for the parts of a period that are not
//! whole calendar months, read from the projection directly. A report over whole months reads
//! only rollups; any other period reads rollups for its whole months and contacts for the days
//! at its edges, with the same result.
//!
//! * this module: [`Visit`] and its bits, [`fold`] and the reading of contacts it folds;
//! * [`keep`]: what the catch-up and an erasure do (marks, redoing, rebuilding);
//! * [`read`]: what the reports read ([`crate::Store::period_visits`], [`crate::Store::site_day_counts`]).
//!
//! Bit positions are the enums' declaration order. [`layout`] fingerprints them; when it changes
//! (a value added or moved), the next catch-up rebuilds the rollups from the projection.

pub mod keep;
pub mod read;

use crate::backend::Tx;
use crate::error::DbError;
use crate::sql::{Row, RowExt, Sql};
use outpost_core::records::{ReferralStatus, ReferralTarget, Service, Setting, TestKind, TestOutcome};
use std::collections::{BTreeMap, BTreeSet};

pub use read::PeriodVisits;

/// Collections hanging off a contact that the rollups count.
const CHILD_COLLECTIONS: &str = "('sharps_returns', 'referrals', 'test_results', 'overdose_reports')";

/// [`CHILD_COLLECTIONS`] for records aliased `x`, word for word the condition of the partial
/// index `records_by_contact`, so that SQLite sees the index applies.
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
pub(crate) struct Contact {
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
    fn the_layout_changes_when_a_value_moves() {
        assert_eq!(layout(), layout());
        assert!(layout() >= 0);
    }
}
