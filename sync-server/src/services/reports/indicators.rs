//! The indicators of `domain.md` and monthly trends, assembled from the counts
//! of [`super::queries`]: arithmetic, coverage bands and small-cell suppression.
//!
//! Person counts (people reached and everything counted in people, tests and referrals) below
//! [`SMALL_CELL`] are suppressed unless the coordinator switches suppression off. Complementary
//! suppression keeps a hidden cell from being worked out from the others: when a breakdown has
//! exactly one suppressed cell, the next smallest is suppressed too (the total gives the lone
//! one back otherwise); the same holds for indicators that add up to another
//! ([`protect_parts`]: new + returning clients = people reached); and a number shown twice
//! (OST referrals, also a cell of referrals by service) is hidden in both places when hidden in
//! one. The periods a report may cover while suppression is on are restricted too (see
//! [`super::filters`]).

use super::filters::Filter;
use super::queries::{self, Catalogue, Counts};
use outpost_server_store::{DbError, Store};
use serde::Serialize;
use std::collections::BTreeMap;

/// Cells counting fewer people than this are suppressed.
pub const SMALL_CELL: i64 = 5;

#[derive(Clone, Debug, Serialize, PartialEq, utoipa::ToSchema, ts_rs::TS)]
pub struct Cell {
    pub key: String,
    pub value: Option<f64>,
    pub suppressed: bool,
}

#[derive(Clone, Debug, Serialize, PartialEq, utoipa::ToSchema, ts_rs::TS)]
pub struct Breakdown {
    pub dimension: String,
    pub rows: Vec<Cell>,
}

/// What an indicator counts, so the dashboard knows how to show its number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Distinct people (small cells are suppressed).
    People,
    Contacts,
    Items,
    Percent,
    /// Items per person who injects drugs per year.
    PerPwidYear,
    Tests,
    Referrals,
    /// Survey responses.
    Responses,
}

impl Unit {
    /// Every unit, in the order the API documents them.
    pub const ALL: [Unit; 8] = [
        Unit::People,
        Unit::Contacts,
        Unit::Items,
        Unit::Percent,
        Unit::PerPwidYear,
        Unit::Tests,
        Unit::Referrals,
        Unit::Responses,
    ];
}

/// The coverage bands of the WHO/UNODC/UNAIDS technical guide for syringes per PWID per year.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    Low,
    Medium,
    High,
}

impl Coverage {
    pub const ALL: [Coverage; 3] = [Coverage::Low, Coverage::Medium, Coverage::High];
}

/// Needle-syringes per PWID per year from which coverage is medium (the guide's bands).
pub const COVERAGE_MEDIUM_FROM: f64 = 100.0;
/// Needle-syringes per PWID per year above which coverage is high (the guide's band; the
/// programme's target is separate, see `Indicator::target`).
pub const COVERAGE_HIGH_ABOVE: f64 = 200.0;

#[derive(Clone, Debug, Serialize, PartialEq, utoipa::ToSchema, ts_rs::TS)]
pub struct Indicator {
    pub key: String,
    /// Null when suppressed, or when it cannot be computed (no PWID estimate).
    pub value: Option<f64>,
    pub suppressed: bool,
    pub unit: Unit,
    /// How it is computed, in English (the dashboard translates the key).
    pub formula: &'static str,
    /// For syringes per PWID per year: the guide's coverage band.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub coverage: Option<Coverage>,
    /// For syringes per PWID per year: the programme's target (its own, or WHO's 300).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub target: Option<f64>,
    pub breakdowns: Vec<Breakdown>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct Suppression {
    pub enabled: bool,
    pub threshold: i64,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct IndicatorReport {
    pub from: String,
    pub to: String,
    #[schema(value_type = Vec<String>)]
    pub sites: Vec<outpost_core::SiteId>,
    pub suppression: Suppression,
    pub indicators: Vec<Indicator>,
}

impl IndicatorReport {
    pub fn get(&self, key: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.key == key)
    }
}

/// Applies small-cell suppression to a person count.
pub(super) fn person_cell(key: &str, value: i64, suppress: bool) -> Cell {
    let hidden = suppress && value > 0 && value < SMALL_CELL;
    Cell { key: key.to_string(), value: if hidden { None } else { Some(value as f64) }, suppressed: hidden }
}

fn plain_cell(key: &str, value: f64) -> Cell {
    Cell { key: key.to_string(), value: Some(value), suppressed: false }
}

/// Secondary suppression: a lone suppressed cell could be worked out from the total, so the
/// smallest other non-zero cell is hidden too.
pub(super) fn protect(rows: &mut [Cell], raw: &[i64]) {
    if rows.iter().filter(|c| c.suppressed).count() != 1 {
        return;
    }
    let candidate = rows
        .iter()
        .enumerate()
        .filter(|(i, c)| !c.suppressed && raw[*i] > 0)
        .min_by_key(|(i, _)| raw[*i])
        .map(|(i, _)| i);
    if let Some(i) = candidate {
        rows[i].value = None;
        rows[i].suppressed = true;
    }
}

/// Complementary suppression between indicators that add up to one shown beside them: the parts
/// are protected like a breakdown's cells.
fn protect_parts(out: &mut [Indicator], parts: &[(&str, i64)]) {
    let mut cells: Vec<Cell> = parts
        .iter()
        .filter_map(|(key, _)| out.iter().find(|i| i.key == *key))
        .map(|i| Cell { key: i.key.clone(), value: i.value, suppressed: i.suppressed })
        .collect();
    if cells.len() != parts.len() {
        return;
    }
    let raw: Vec<i64> = parts.iter().map(|(_, v)| *v).collect();
    protect(&mut cells, &raw);
    for cell in cells.into_iter().filter(|c| c.suppressed) {
        if let Some(indicator) = out.iter_mut().find(|i| i.key == cell.key) {
            indicator.value = None;
            indicator.suppressed = true;
        }
    }
}

/// Hides indicator `key` when the cell `cell` of `dimension` in indicator `shown_in`, which
/// holds the same number, is hidden.
fn hide_with(out: &mut [Indicator], key: &str, shown_in: &str, dimension: &str, cell: &str) {
    let hidden = out
        .iter()
        .find(|i| i.key == shown_in)
        .and_then(|i| i.breakdowns.iter().find(|b| b.dimension == dimension))
        .and_then(|b| b.rows.iter().find(|c| c.key == cell))
        .is_some_and(|c| c.suppressed);
    if let Some(indicator) = out.iter_mut().find(|i| i.key == key).filter(|_| hidden) {
        indicator.value = None;
        indicator.suppressed = true;
    }
}

fn person_breakdown(dimension: &str, entries: Vec<(String, i64)>, suppress: bool) -> Breakdown {
    let raw: Vec<i64> = entries.iter().map(|(_, v)| *v).collect();
    let mut rows: Vec<Cell> = entries.iter().map(|(k, v)| person_cell(k, *v, suppress)).collect();
    if suppress {
        protect(&mut rows, &raw);
    }
    Breakdown { dimension: dimension.to_string(), rows }
}

fn plain_breakdown(dimension: &str, entries: Vec<(String, i64)>) -> Breakdown {
    Breakdown {
        dimension: dimension.to_string(),
        rows: entries.into_iter().map(|(k, v)| plain_cell(&k, v as f64)).collect(),
    }
}

fn dimension(counts: &Counts, name: &str) -> Vec<(String, i64)> {
    counts.iter().filter(|((d, _), _)| d == name).map(|((_, k), v)| (k.clone(), *v)).collect()
}

fn total(counts: &Counts, name: &str) -> i64 {
    dimension(counts, name).iter().map(|(_, v)| v).sum()
}

struct Builder {
    suppress: bool,
    out: Vec<Indicator>,
}

impl Builder {
    fn people(&mut self, key: &str, value: i64, formula: &'static str, breakdowns: Vec<Breakdown>) {
        self.person_count(key, Unit::People, value, formula, breakdowns);
    }

    /// A count of events that each concern one person (tests, referrals): suppressed like people.
    fn person_count(&mut self, key: &str, unit: Unit, value: i64, formula: &'static str, breakdowns: Vec<Breakdown>) {
        let cell = person_cell(key, value, self.suppress);
        self.out.push(Indicator {
            key: key.into(),
            value: cell.value,
            suppressed: cell.suppressed,
            unit,
            formula,
            coverage: None,
            target: None,
            breakdowns,
        });
    }

    /// [`Self::person_count`] of the sum of `map`, broken down by its keys.
    fn person_counts(
        &mut self,
        key: &str,
        unit: Unit,
        dimension: &str,
        map: BTreeMap<String, i64>,
        formula: &'static str,
    ) {
        let sum = map.values().sum();
        let breakdown = person_breakdown(dimension, map.into_iter().collect(), self.suppress);
        self.person_count(key, unit, sum, formula, vec![breakdown]);
    }

    fn count(&mut self, key: &str, unit: Unit, value: f64, formula: &'static str, breakdowns: Vec<Breakdown>) {
        self.out.push(Indicator {
            key: key.into(),
            value: Some(value),
            suppressed: false,
            unit,
            formula,
            coverage: None,
            target: None,
            breakdowns,
        });
    }
}

/// The coverage band of syringes per person who injects drugs per year.
pub fn coverage_band(per_year: f64) -> Coverage {
    if per_year < COVERAGE_MEDIUM_FROM {
        Coverage::Low
    } else if per_year <= COVERAGE_HIGH_ABOVE {
        Coverage::Medium
    } else {
        Coverage::High
    }
}

/// Counts of people, from the per-person facts and the programme set's definitions (where the
/// age bands, gender categories and service packages are written once).
struct PeopleCounts {
    facts: super::sets::facts::Facts,
    set: Option<&'static super::sets::IndicatorSet>,
}

impl PeopleCounts {
    async fn read(store: &Store, filter: &Filter) -> Result<Self, DbError> {
        use super::sets::facts;
        let facts = facts::Facts {
            people: facts::person_facts(store, filter).await?,
            windows: facts::windows(filter),
            catalogue: queries::catalogue(store).await?,
            activity: Counts::new(),
            items: Vec::new(),
            sites: Vec::new(),
            packages: facts::packages(store).await?,
        };
        Ok(Self { facts, set: super::sets::find("programme") })
    }

    fn count(&self, condition: &super::sets::Condition) -> i64 {
        super::sets::evaluate::count_people(condition, &self.facts)
    }

    fn by(&self, dimension: &str) -> Vec<(String, i64)> {
        self.set.map(|set| super::sets::evaluate::tally(set, dimension, &self.facts)).unwrap_or_default()
    }
}

/// Every indicator of `domain.md` for the filter.
pub async fn indicators(store: &Store, filter: &Filter) -> Result<IndicatorReport, DbError> {
    store.refresh_projection().await?;
    let target = store.org_settings().await?.nsp_target.unwrap_or(crate::services::admin::org::DEFAULT_NSP_TARGET);
    let cat = queries::catalogue(store).await?;
    let people = PeopleCounts::read(store, filter).await?;
    let (activity, items) = queries::activity(store, filter).await?;
    let s = filter.suppress;
    let mut b = Builder { suppress: s, out: Vec::new() };

    use super::sets::{Condition, ItemClass};
    let reached = people.count(&Condition::Everyone);
    let new = people.count(&Condition::NewClient);
    b.people(
        "people_reached",
        reached,
        "Distinct client codes with at least one contact in the period (anonymous tallies not included).",
        vec![
            person_breakdown("gender", people.by("gender"), s),
            person_breakdown("age_band_2", people.by("age_band_2"), s),
            person_breakdown("age_band", people.by("age_band"), s),
            person_breakdown("age_band_5", people.by("age_band_5"), s),
            person_breakdown("key_group", people.by("key_group"), s),
            person_breakdown("site", people.by("site"), s),
        ],
    );
    b.people("new_clients", new, "People reached whose client code was first recorded in the period.", vec![]);
    b.people("returning_clients", reached - new, "People reached minus new clients.", vec![]);
    let with_package = people.count(&Condition::OwnPackage);
    b.people(
        "reached_with_package",
        with_package,
        "Distinct clients who in the period received the service package of their population (the programme's, or by default needle-syringes, condoms, and counselling or information).",
        vec![],
    );

    let tally_people = total(&activity, "tally_people");
    let mut settings: BTreeMap<String, i64> = dimension(&activity, "setting").into_iter().collect();
    for (setting, n) in dimension(&activity, "tally_setting") {
        *settings.entry(setting).or_default() += n;
    }
    let contacts = total(&activity, "setting") + tally_people;
    let mut by_site: BTreeMap<String, i64> = dimension(&activity, "site").into_iter().collect();
    for (site, n) in dimension(&activity, "tally_site") {
        *by_site.entry(site).or_default() += n;
    }
    b.count(
        "contacts",
        Unit::Contacts,
        contacts as f64,
        "Individual contacts in the period, plus every person counted in anonymous group tallies.",
        vec![
            plain_breakdown("setting", settings.into_iter().collect()),
            plain_breakdown("site", by_site.into_iter().collect()),
        ],
    );
    b.people("tally_people", tally_people, "People counted in anonymous group tallies (not distinct people).", vec![]);
    b.count(
        "secondary_distribution",
        Unit::Contacts,
        total(&activity, "secondary_distribution") as f64,
        "Contacts where the client collected supplies for other people.",
        vec![],
    );

    let sum_items =
        |pred: &dyn Fn(&str) -> bool| -> i64 { items.iter().filter(|(_, c, _)| pred(c)).map(|(_, _, q)| q).sum() };
    let ns_total = sum_items(&|c| cat.is_needle_syringe(c));
    let mut ns_by_site: BTreeMap<String, i64> = BTreeMap::new();
    for (site, code, q) in &items {
        if cat.is_needle_syringe(code) {
            *ns_by_site.entry(site.clone()).or_default() += q;
        }
    }
    b.count(
        "needle_syringes_distributed",
        Unit::Items,
        ns_total as f64,
        "Needles and syringes given (catalogue items that count as needle-syringes), reversals subtracted, tallies included.",
        vec![plain_breakdown("site", ns_by_site.clone().into_iter().collect())],
    );
    let returned = total(&activity, "syringes_returned");
    b.count(
        "syringes_returned",
        Unit::Items,
        returned as f64,
        "Used syringes returned at contacts in the period.",
        vec![],
    );
    let rate = if ns_total > 0 { (returned as f64 * 1000.0 / ns_total as f64).round() / 10.0 } else { 0.0 };
    b.count("return_rate", Unit::Percent, rate, "Used syringes returned ÷ needle-syringes distributed × 100.", vec![]);

    // Syringes per PWID per year: only sites with an estimate count, on both sides.
    let mut pwid = 0;
    let mut ns_estimated = 0;
    for site in store.list_sites().await? {
        if let (true, Some(e)) = (filter.sites.contains(&site.id), site.pwid_estimate) {
            pwid += e;
            ns_estimated += ns_by_site.get(&site.id.to_string()).copied().unwrap_or(0);
        }
    }
    let per_year = if pwid > 0 && filter.days > 0 {
        Some(((ns_estimated as f64 / pwid as f64) * (365.0 / filter.days as f64) * 10.0).round() / 10.0)
    } else {
        None
    };
    b.out.push(Indicator {
        key: "syringes_per_pwid_per_year".into(),
        value: per_year,
        suppressed: false,
        unit: Unit::PerPwidYear,
        formula: "Needle-syringes distributed at sites with a PWID estimate ÷ the sum of their estimates, scaled to 365 days. Coverage bands of the WHO/UNODC/UNAIDS technical guide: low under 100, medium 100–200, high over 200; the target is the programme's own (WHO's 300 for 2030 unless it set another).",
        coverage: per_year.map(coverage_band),
        target: Some(f64::from(target)),
        breakdowns: vec![],
    });
    b.people(
        "nsp_people",
        people.count(&Condition::Received(ItemClass::NeedleSyringe)),
        "Distinct clients given needle-syringes in the period.",
        vec![],
    );
    b.people(
        "nsp_regular_access",
        people.count(&Condition::RegularNspAccess),
        "Of the clients given needle-syringes, those with at least one contact in every 30-day part of the period.",
        vec![],
    );
    b.count(
        "condoms_distributed",
        Unit::Items,
        sum_items(&Catalogue::is_condom) as f64,
        "Condoms (external and internal) given, reversals subtracted, tallies included.",
        vec![],
    );
    b.count(
        "naloxone_distributed",
        Unit::Items,
        sum_items(&|c| cat.is_naloxone(c)) as f64,
        "Naloxone kits given, reversals subtracted, tallies included.",
        vec![],
    );
    let overdoses = dimension(&activity, "overdose");
    let survived = overdoses.iter().filter(|(k, _)| k == "survived").map(|(_, v)| v).sum();
    b.people(
        "overdose_reversals",
        survived,
        "Contacts in the period with an overdose response where the person survived (one per contact, however many tablets reported it).",
        vec![],
    );

    // Tests: "kind|result|linked".
    let mut done: BTreeMap<String, i64> = BTreeMap::new();
    let mut reactive: BTreeMap<String, i64> = BTreeMap::new();
    for (key, n) in &dimension(&activity, "test") {
        let mut parts = key.split('|');
        let (kind, result) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        *done.entry(kind.to_string()).or_default() += n;
        if result == "reactive" {
            *reactive.entry(kind.to_string()).or_default() += n;
        }
    }
    let linked = total(&activity, "linked");
    b.person_counts("tests_done", Unit::Tests, "test", done, "Tests recorded at contacts in the period, by test.");
    b.person_counts("tests_reactive", Unit::Tests, "test", reactive, "Tests with a reactive result, by test.");
    b.people(
        "linked_to_care",
        linked,
        "Reactive tests whose person was linked to care in the period: at the test, or later as a follow-up (counted when it happened).",
        vec![],
    );

    let mut issued: BTreeMap<String, i64> = BTreeMap::new();
    let mut completed: BTreeMap<String, i64> = BTreeMap::new();
    for (key, n) in &dimension(&activity, "referral") {
        let (target, status) = key.split_once('|').unwrap_or((key, ""));
        *issued.entry(target.to_string()).or_default() += n;
        if status == "attended" {
            *completed.entry(target.to_string()).or_default() += n;
        }
    }
    let ost = issued.get("ost").copied().unwrap_or(0);
    b.person_counts(
        "referrals_issued",
        Unit::Referrals,
        "target",
        issued,
        "Referrals made at contacts in the period, by service.",
    );
    b.person_counts(
        "referrals_completed",
        Unit::Referrals,
        "target",
        completed,
        "Referrals made in the period that the client attended, by service.",
    );
    b.person_count(
        "ost_referrals",
        Unit::Referrals,
        ost,
        "Referrals to opioid substitution treatment made in the period.",
        vec![],
    );

    if s {
        protect_parts(&mut b.out, &[("new_clients", new), ("returning_clients", reached - new)]);
        hide_with(&mut b.out, "ost_referrals", "referrals_issued", "target", "ost");
    }

    Ok(IndicatorReport {
        from: filter.from.clone(),
        to: filter.to.clone(),
        sites: filter.sites.clone(),
        suppression: Suppression { enabled: s, threshold: SMALL_CELL },
        indicators: b.out,
    })
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct MonthRow {
    /// `YYYY-MM`.
    pub month: String,
    /// Null when suppressed.
    pub people_reached: Option<i64>,
    pub contacts: i64,
    pub needle_syringes: i64,
    pub syringes_returned: i64,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct SiteTrend {
    pub site_id: String,
    pub site_name: String,
    pub people_reached: Option<i64>,
    pub contacts: i64,
    pub needle_syringes: i64,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct Trends {
    pub months: Vec<MonthRow>,
    pub by_site: Vec<SiteTrend>,
}

/// Monthly trends and the split by site.
pub async fn trends(store: &Store, filter: &Filter) -> Result<Trends, DbError> {
    store.refresh_projection().await?;
    let cat = queries::catalogue(store).await?;
    let counts = queries::trend_counts(store, filter, &cat).await?;
    let suppress = |v: i64| if filter.suppress && v > 0 && v < SMALL_CELL { None } else { Some(v) };
    let get = |dim: &str, key: &str| counts.get(&(dim.to_string(), key.to_string())).copied().unwrap_or(0);
    let mut months: Vec<String> = counts.keys().filter(|(d, _)| d.starts_with("m_")).map(|(_, k)| k.clone()).collect();
    months.sort();
    months.dedup();
    let months = months
        .into_iter()
        .map(|m| MonthRow {
            people_reached: suppress(get("m_people", &m)),
            contacts: get("m_contacts", &m),
            needle_syringes: get("m_ns", &m),
            syringes_returned: get("m_returned", &m),
            month: m,
        })
        .collect();
    let by_site = store
        .list_sites()
        .await?
        .into_iter()
        .filter(|s| filter.sites.contains(&s.id))
        .map(|s| {
            let id = s.id.to_string();
            SiteTrend {
                people_reached: suppress(get("s_people", &id)),
                contacts: get("s_contacts", &id),
                needle_syringes: get("s_ns", &id),
                site_id: id,
                site_name: s.name,
            }
        })
        .collect();
    Ok(Trends { months, by_site })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_cells_are_hidden_and_a_lone_one_protected() {
        let b =
            person_breakdown("gender", vec![("man".into(), 20), ("woman".into(), 3), ("non_binary".into(), 6)], true);
        let hidden: Vec<bool> = b.rows.iter().map(|c| c.suppressed).collect();
        assert_eq!(hidden, vec![false, true, true], "the next smallest cell is hidden too");
        let b = person_breakdown("gender", vec![("man".into(), 20), ("woman".into(), 0)], true);
        assert!(b.rows.iter().all(|c| !c.suppressed), "zero is not a small cell");
        let b = person_breakdown("gender", vec![("man".into(), 2), ("woman".into(), 3)], false);
        assert!(b.rows.iter().all(|c| !c.suppressed), "suppression can be switched off");
    }

    fn built(suppress: bool, reached: i64, new: i64) -> Vec<Indicator> {
        let mut b = Builder { suppress, out: Vec::new() };
        b.people("people_reached", reached, "", vec![]);
        b.people("new_clients", new, "", vec![]);
        b.people("returning_clients", reached - new, "", vec![]);
        if suppress {
            protect_parts(&mut b.out, &[("new_clients", new), ("returning_clients", reached - new)]);
        }
        b.out
    }

    fn shown(out: &[Indicator], key: &str) -> Option<f64> {
        out.iter().find(|i| i.key == key).and_then(|i| i.value)
    }

    #[test]
    fn a_hidden_part_cannot_be_worked_out_from_its_total() {
        // 3 new clients of 40 reached: "returning" (37) would give the 3 back, so it goes too.
        let out = built(true, 40, 3);
        assert_eq!(shown(&out, "people_reached"), Some(40.0));
        assert_eq!((shown(&out, "new_clients"), shown(&out, "returning_clients")), (None, None));
        // Nothing small, nothing hidden; suppression off hides nothing.
        let out = built(true, 40, 12);
        assert_eq!((shown(&out, "new_clients"), shown(&out, "returning_clients")), (Some(12.0), Some(28.0)));
        let out = built(false, 40, 3);
        assert_eq!((shown(&out, "new_clients"), shown(&out, "returning_clients")), (Some(3.0), Some(37.0)));
        // Everyone new: returning is zero, not a small cell, and reveals nothing hidden.
        let out = built(true, 3, 3);
        assert_eq!(shown(&out, "returning_clients"), Some(0.0));
    }

    #[test]
    fn a_number_shown_twice_is_hidden_in_both_places() {
        let mut b = Builder { suppress: true, out: Vec::new() };
        let issued = BTreeMap::from([("ost".to_string(), 6), ("hiv_care".to_string(), 2), ("other".to_string(), 30)]);
        b.person_counts("referrals_issued", Unit::Referrals, "target", issued, "");
        b.person_count("ost_referrals", Unit::Referrals, 6, "", vec![]);
        assert_eq!(shown(&b.out, "ost_referrals"), Some(6.0));
        // The breakdown hid "ost" (6) to protect "hiv_care" (2); the indicator must not show it.
        hide_with(&mut b.out, "ost_referrals", "referrals_issued", "target", "ost");
        assert_eq!(shown(&b.out, "ost_referrals"), None);
    }

    #[test]
    fn coverage_bands_follow_the_guide() {
        assert_eq!(
            [coverage_band(99.9), coverage_band(100.0), coverage_band(200.0), coverage_band(200.1)],
            [Coverage::Low, Coverage::Medium, Coverage::Medium, Coverage::High]
        );
    }
}
