//! The interpreter of indicator definitions: a set's indicators and their tables computed from
//! the period's [`Facts`], with the dashboard's small-cell suppression.
//!
//! Counts of people and of events that each concern one person (tests, referrals) under
//! [`SMALL_CELL`] are hidden while suppression is on, and so is a percentage whose numerator is
//! hidden. Complementary suppression keeps a hidden cell from being worked out by subtraction:
//! within each line of a table (a one-way table, or each row and each column of a two-way table,
//! repeated until nothing changes) a lone hidden cell hides the next smallest; indicators the
//! set lists as parts of a whole are protected the same way.

use super::facts::{Facts, Person};
use super::packages::{PackageItem, Population};
use super::{Band, Condition, Definition, Denominator, Dimension, IndicatorSet, ItemClass, Measure, ResultIs, Target};
use crate::services::reports::filters::Filter;
use crate::services::reports::indicators::{Cell, Coverage, SMALL_CELL, Suppression, Unit, person_cell, protect};
use outpost_core::records::{Gender, KeyGroup, ReferralStatus, TestOutcome};
use outpost_server_store::{DbError, Store};
use serde::Serialize;
use std::collections::BTreeMap;

/// One cell of a table: the category keys (one per dimension) and the count.
#[derive(Clone, Debug, Serialize, PartialEq, utoipa::ToSchema, ts_rs::TS)]
pub struct TableCell {
    pub keys: Vec<String>,
    /// Null when suppressed.
    pub value: Option<f64>,
    pub suppressed: bool,
}

/// A table of an indicator's numerator by one or two dimensions, every cell listed (zeros
/// included), in the dimensions' category order.
#[derive(Clone, Debug, Serialize, PartialEq, utoipa::ToSchema, ts_rs::TS)]
pub struct Table {
    pub dimensions: Vec<String>,
    pub cells: Vec<TableCell>,
}

#[derive(Clone, Debug, Serialize, PartialEq, utoipa::ToSchema, ts_rs::TS)]
pub struct CategoryOut {
    pub key: String,
    pub label: String,
}

/// A dimension used by the report's tables, with its categories in order.
#[derive(Clone, Debug, Serialize, PartialEq, utoipa::ToSchema, ts_rs::TS)]
pub struct DimensionOut {
    pub key: String,
    /// `categories` (of people), `site` or `month`.
    pub kind: String,
    pub label: String,
    pub categories: Vec<CategoryOut>,
}

#[derive(Clone, Debug, Serialize, PartialEq, utoipa::ToSchema, ts_rs::TS)]
pub struct SetIndicator {
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub code: Option<String>,
    pub name: String,
    pub definition: String,
    pub unit: Unit,
    /// Null when suppressed, or when it cannot be computed (no estimate, nothing to divide by).
    pub value: Option<f64>,
    pub suppressed: bool,
    /// For a percentage or a ratio: what was divided (null when suppressed).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub numerator: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub denominator: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub coverage: Option<Coverage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub target: Option<f64>,
    pub tables: Vec<Table>,
}

/// An indicator set computed for a period and sites.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct SetReport {
    /// The programme (organisation) the report is of.
    pub programme: String,
    pub set: String,
    pub name: String,
    pub source: String,
    pub notes: Vec<String>,
    pub from: String,
    pub to: String,
    /// The report's sites (id and name), in name order.
    pub sites: Vec<CategoryOut>,
    pub suppression: Suppression,
    pub dimensions: Vec<DimensionOut>,
    pub indicators: Vec<SetIndicator>,
}

impl SetReport {
    pub fn get(&self, key: &str) -> Option<&SetIndicator> {
        self.indicators.iter().find(|i| i.key == key)
    }
}

/// Computes `set` for the filter.
pub async fn report(store: &Store, set: &IndicatorSet, filter: &Filter) -> Result<SetReport, DbError> {
    let facts = super::facts::facts(store, filter).await?;
    let org = store.org_settings().await?;
    let target = org.nsp_target.unwrap_or(crate::services::admin::org::DEFAULT_NSP_TARGET);
    let mut out = compute(set, &facts, filter, f64::from(target));
    out.programme = org.name;
    Ok(out)
}

/// People per category of the set's `dimension` (categories no one is in left out), in the
/// dimension's category order: the overview's breakdowns, from the programme set's dimensions.
pub fn tally(set: &IndicatorSet, dimension: &str, f: &Facts) -> Vec<(String, i64)> {
    let Some(d) = set.dimensions.get(dimension) else { return vec![] };
    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    for p in &f.people {
        for key in categories_of(d, p, f) {
            *counts.entry(key).or_default() += 1;
        }
    }
    let order: Vec<String> = match d {
        Dimension::Categories { categories, otherwise, .. } => {
            categories.iter().map(|c| c.key.clone()).chain(otherwise.iter().map(|o| o.key.clone())).collect()
        }
        Dimension::Site { .. } | Dimension::Month { .. } => counts.keys().cloned().collect(),
    };
    order.into_iter().filter_map(|k| counts.get(&k).map(|n| (k, *n))).collect()
}

/// How many of the facts' people the condition holds for.
pub fn count_people(c: &Condition, f: &Facts) -> i64 {
    f.people.iter().filter(|p| holds(c, p, f)).count() as i64
}

fn holds(c: &Condition, p: &Person, f: &Facts) -> bool {
    match c {
        Condition::Everyone => true,
        Condition::All(all) => all.iter().all(|c| holds(c, p, f)),
        Condition::Any(any) => any.iter().any(|c| holds(c, p, f)),
        Condition::Not(c) => !holds(c, p, f),
        Condition::Gender(genders) => p.gender.is_some_and(|g| genders.contains(&g)),
        Condition::Age { from, below } => {
            p.age.is_some_and(|a| from.is_none_or(|f| a >= f) && below.is_none_or(|b| a < b))
        }
        Condition::AgeUnknown => p.age.is_none(),
        Condition::KeyGroup(g) => p.key_groups.contains(g),
        Condition::Service(services) => services.iter().any(|s| p.services.contains(s)),
        Condition::Setting(settings) => settings.iter().any(|s| p.settings.contains(s)),
        Condition::Received(class) => p.commodities.iter().any(|code| is_of(class, code, f)),
        Condition::Tested { test, result } => {
            p.tests.iter().any(|(kind, outcome)| kind == test && counts(*result, *outcome))
        }
        Condition::KnownPositive => p.known_positive,
        Condition::Referred { target, status } => p
            .referrals
            .iter()
            .any(|(t, s)| target.is_none_or(|want| want == *t) && status.is_none_or(|want| want == *s)),
        Condition::NewClient => p.new_client,
        Condition::RegularNspAccess => {
            p.windows >= f.windows && p.commodities.iter().any(|code| is_of(&ItemClass::NeedleSyringe, code, f))
        }
        Condition::Package(population) => meets_package(*population, p, f),
        Condition::OwnPackage => {
            let mine: Vec<Population> = Population::ALL
                .into_iter()
                .filter(|pop| *pop != Population::Everyone && in_population(*pop, p))
                .filter(|pop| f.packages.iter().any(|k| k.population == *pop))
                .collect();
            if mine.is_empty() {
                meets_package(Population::Everyone, p, f)
            } else {
                mine.into_iter().any(|pop| meets_package(pop, p, f))
            }
        }
    }
}

/// Whether the person is of the population.
fn in_population(population: Population, p: &Person) -> bool {
    let group = |g: KeyGroup| p.key_groups.contains(&g);
    match population {
        Population::InjectsDrugs => group(KeyGroup::InjectsDrugs),
        Population::UsesStimulants => group(KeyGroup::UsesStimulants),
        Population::SexWork => group(KeyGroup::SexWork),
        Population::Msm => group(KeyGroup::Msm),
        Population::Nightlife => group(KeyGroup::Nightlife),
        Population::Pregnant => group(KeyGroup::Pregnant),
        Population::Transgender => matches!(p.gender, Some(Gender::TransWoman | Gender::TransMan)),
        Population::Everyone => true,
    }
}

/// Whether the person received, in the period, every group of one of the population's packages
/// that applies to them (a package of a setting applies after a contact in that setting).
fn meets_package(population: Population, p: &Person, f: &Facts) -> bool {
    f.packages
        .iter()
        .filter(|k| k.population == population && k.setting.is_none_or(|s| p.settings.contains(&s)))
        .any(|k| k.requires.iter().all(|group| group.iter().any(|item| item_holds(item, p, f))))
}

fn item_holds(item: &PackageItem, p: &Person, f: &Facts) -> bool {
    match item {
        PackageItem::Received(class) => p.commodities.iter().any(|code| is_of(class, code, f)),
        PackageItem::Service(service) => p.services.contains(service),
        PackageItem::Tested(test) => {
            p.tests.iter().any(|(kind, outcome)| kind == test && counts(ResultIs::Known, *outcome))
        }
        PackageItem::Referred(target) => p.referrals.iter().any(|(t, _)| t == target),
    }
}

fn counts(want: ResultIs, outcome: TestOutcome) -> bool {
    match want {
        ResultIs::Any => true,
        ResultIs::Known => outcome != TestOutcome::Invalid,
        ResultIs::Reactive => outcome == TestOutcome::Reactive,
    }
}

fn is_of(class: &ItemClass, code: &str, f: &Facts) -> bool {
    let cat = &f.catalogue;
    match class {
        ItemClass::NeedleSyringe => cat.is_needle_syringe(code),
        ItemClass::Condom => crate::services::reports::queries::Catalogue::is_condom(code),
        ItemClass::Naloxone => cat.is_naloxone(code),
        ItemClass::Category(name) => cat.items.get(code).is_some_and(|i| &i.category == name),
    }
}

fn activity_total(f: &Facts, dimension: &str, keep: impl Fn(&str) -> bool) -> i64 {
    f.activity.iter().filter(|((d, k), _)| d == dimension && keep(k)).map(|(_, v)| v).sum()
}

/// A site's estimate of a key group (the PWID estimate for people who inject drugs).
fn estimate(site: &outpost_server_store::records::SiteInfo, group: KeyGroup) -> Option<i64> {
    match group {
        KeyGroup::InjectsDrugs => {
            site.pwid_estimate.or_else(|| site.population_estimates.get(&group).map(|n| i64::from(*n)))
        }
        _ => site.population_estimates.get(&group).map(|n| i64::from(*n)),
    }
    .filter(|n| *n > 0)
}

/// The numerator's raw value, and whether it counts people (so is suppressed when small).
fn numerator(d: &Definition, f: &Facts) -> (i64, bool) {
    match &d.numerator {
        Measure::People(c) => {
            (f.people.iter().filter(|p| holds(&d.population, p, f) && holds(c, p, f)).count() as i64, true)
        }
        Measure::Items(class) => {
            (f.items.iter().filter(|(_, code, _)| is_of(class, code, f)).map(|(_, _, q)| q).sum(), false)
        }
        Measure::Contacts => {
            (activity_total(f, "setting", |_| true) + activity_total(f, "tally_people", |_| true), false)
        }
        Measure::TallyPeople => (activity_total(f, "tally_people", |_| true), true),
        Measure::SecondaryDistribution => (activity_total(f, "secondary_distribution", |_| true), false),
        Measure::SyringesReturned => (activity_total(f, "syringes_returned", |_| true), false),
        Measure::Tests { test, result } => {
            let n = activity_total(f, "test", |key| {
                let mut parts = key.split('|');
                let kind = parts.next().unwrap_or("");
                let outcome = parts.next().and_then(|o| serde_json::from_value(serde_json::json!(o)).ok());
                test.is_none_or(|t| t.as_str() == kind) && outcome.is_some_and(|o| counts(*result, o))
            });
            (n, true)
        }
        Measure::Referrals { target, attended } => {
            let n = activity_total(f, "referral", |key| {
                let (t, status) = key.split_once('|').unwrap_or((key, ""));
                target.is_none_or(|want| want.as_str() == t)
                    && (!attended || status == ReferralStatus::Attended.as_str())
            });
            (n, true)
        }
        Measure::LinkedToCare => (activity_total(f, "linked", |_| true), true),
        Measure::OverdoseReversals => (activity_total(f, "overdose", |k| k == "survived"), true),
    }
}

fn unit(d: &Definition) -> Unit {
    match (&d.numerator, &d.denominator) {
        (Measure::Items(_), Some(Denominator::Estimate(_))) => Unit::PerPwidYear,
        (_, Some(_)) => Unit::Percent,
        (Measure::People(_) | Measure::TallyPeople | Measure::LinkedToCare | Measure::OverdoseReversals, None) => {
            Unit::People
        }
        (Measure::Items(_) | Measure::SyringesReturned, None) => Unit::Items,
        (Measure::Contacts | Measure::SecondaryDistribution, None) => Unit::Contacts,
        (Measure::Tests { .. }, None) => Unit::Tests,
        (Measure::Referrals { .. }, None) => Unit::Referrals,
    }
}

fn band(bands: &[Band], value: f64) -> Option<Coverage> {
    bands
        .iter()
        .find(|b| match (b.below, b.up_to) {
            (Some(limit), _) => value < limit,
            (None, Some(limit)) => value <= limit,
            (None, None) => true,
        })
        .map(|b| b.key)
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// The categories of a dimension a person falls in.
fn categories_of(dimension: &Dimension, p: &Person, f: &Facts) -> Vec<String> {
    match dimension {
        Dimension::Site { .. } => p.sites.iter().cloned().collect(),
        Dimension::Month { .. } => p.months.iter().cloned().collect(),
        Dimension::Categories { exclusive, categories, otherwise, .. } => {
            let mut out: Vec<String> =
                categories.iter().filter(|c| holds(&c.when, p, f)).map(|c| c.key.clone()).collect();
            if *exclusive {
                out.truncate(1);
            }
            if out.is_empty() {
                out.extend(otherwise.iter().map(|o| o.key.clone()));
            }
            out
        }
    }
}

/// The calendar months from `from` to `to` (`YYYY-MM-DD`), as (`YYYY-MM`, `YYYY-MM`).
fn months(from: &str, to: &str) -> Vec<CategoryOut> {
    let parse = |d: &str| Some((d.get(0..4)?.parse::<i32>().ok()?, d.get(5..7)?.parse::<u32>().ok()?));
    let (Some((mut y, mut m)), Some(end)) = (parse(from), parse(to)) else { return vec![] };
    let mut out = Vec::new();
    while (y, m) <= end && out.len() < 120 {
        let key = format!("{y:04}-{m:02}");
        out.push(CategoryOut { key: key.clone(), label: key });
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    out
}

fn dimension_out(key: &str, dimension: &Dimension, sites: &[CategoryOut], filter: &Filter) -> DimensionOut {
    match dimension {
        Dimension::Site { label } => {
            DimensionOut { key: key.into(), kind: "site".into(), label: label.clone(), categories: sites.to_vec() }
        }
        Dimension::Month { label } => DimensionOut {
            key: key.into(),
            kind: "month".into(),
            label: label.clone(),
            categories: months(&filter.from, &filter.to),
        },
        Dimension::Categories { label, categories, otherwise, .. } => DimensionOut {
            key: key.into(),
            kind: "categories".into(),
            label: label.clone(),
            categories: categories
                .iter()
                .map(|c| CategoryOut { key: c.key.clone(), label: c.label.clone() })
                .chain(otherwise.iter().map(|o| CategoryOut { key: o.key.clone(), label: o.label.clone() }))
                .collect(),
        },
    }
}

/// Hides the smallest other cell of each line holding exactly one hidden cell, until none does.
fn protect_table(cells: &mut [TableCell], raw: &[i64], lines: &[Vec<usize>]) {
    loop {
        let mut changed = false;
        for line in lines {
            let mut row: Vec<Cell> = line
                .iter()
                .map(|&i| Cell { key: i.to_string(), value: cells[i].value, suppressed: cells[i].suppressed })
                .collect();
            let line_raw: Vec<i64> = line.iter().map(|&i| raw[i]).collect();
            protect(&mut row, &line_raw);
            for (cell, &i) in row.iter().zip(line) {
                if cell.suppressed && !cells[i].suppressed {
                    cells[i].value = None;
                    cells[i].suppressed = true;
                    changed = true;
                }
            }
        }
        if !changed {
            return;
        }
    }
}

/// A table of people by `names` (one or two dimensions of the set), or of items by site.
fn build_table(
    names: &[String],
    d: &Definition,
    set: &IndicatorSet,
    dims: &BTreeMap<String, DimensionOut>,
    f: &Facts,
    suppress: bool,
) -> Table {
    let outs: Vec<&DimensionOut> = names.iter().filter_map(|n| dims.get(n)).collect();
    // Every cell, in category order.
    let mut keys: Vec<Vec<String>> = vec![vec![]];
    for out in &outs {
        keys = keys
            .into_iter()
            .flat_map(|prefix| {
                out.categories.iter().map(move |c| {
                    let mut k = prefix.clone();
                    k.push(c.key.clone());
                    k
                })
            })
            .collect();
    }
    let index: BTreeMap<Vec<String>, usize> = keys.iter().cloned().enumerate().map(|(i, k)| (k, i)).collect();
    let mut raw = vec![0i64; keys.len()];
    match &d.numerator {
        Measure::People(c) => {
            for p in f.people.iter().filter(|p| holds(&d.population, p, f) && holds(c, p, f)) {
                let mut combos: Vec<Vec<String>> = vec![vec![]];
                for name in names {
                    let Some(dimension) = set.dimensions.get(name) else { continue };
                    let mine = categories_of(dimension, p, f);
                    combos = combos
                        .into_iter()
                        .flat_map(|prefix| {
                            mine.iter().map(move |k| {
                                let mut next = prefix.clone();
                                next.push(k.clone());
                                next
                            })
                        })
                        .collect();
                }
                for combo in combos {
                    if let Some(&i) = index.get(&combo) {
                        raw[i] += 1;
                    }
                }
            }
        }
        Measure::Items(class) => {
            for (site, _, q) in f.items.iter().filter(|(_, code, _)| is_of(class, code, f)) {
                if let Some(&i) = index.get(std::slice::from_ref(site)) {
                    raw[i] += q;
                }
            }
        }
        _ => {}
    }
    let people = matches!(d.numerator, Measure::People(_));
    let mut cells: Vec<TableCell> = keys
        .into_iter()
        .zip(&raw)
        .map(|(keys, &v)| {
            let cell = if people {
                person_cell("", v, suppress)
            } else {
                Cell { key: String::new(), value: Some(v as f64), suppressed: false }
            };
            TableCell { keys, value: cell.value, suppressed: cell.suppressed }
        })
        .collect();
    if people && suppress {
        let lines: Vec<Vec<usize>> = match outs.as_slice() {
            [_] => vec![(0..cells.len()).collect()],
            [rows, cols] => {
                let (r, c) = (rows.categories.len(), cols.categories.len());
                (0..r)
                    .map(|i| (0..c).map(|j| i * c + j).collect())
                    .chain((0..c).map(|j| (0..r).map(|i| i * c + j).collect()))
                    .collect()
            }
            _ => vec![],
        };
        protect_table(&mut cells, &raw, &lines);
    }
    Table { dimensions: names.to_vec(), cells }
}

/// Computes every indicator of `set` from `facts`.
pub fn compute(set: &IndicatorSet, f: &Facts, filter: &Filter, programme_target: f64) -> SetReport {
    let suppress = filter.suppress;
    let mut sites: Vec<CategoryOut> =
        f.sites.iter().map(|s| CategoryOut { key: s.id.to_string(), label: s.name.clone() }).collect();
    sites.sort_by(|a, b| a.label.cmp(&b.label).then(a.key.cmp(&b.key)));
    let used: std::collections::BTreeSet<&String> =
        set.indicators.iter().flat_map(|d| d.tables.iter().flatten()).collect();
    let dims: BTreeMap<String, DimensionOut> = set
        .dimensions
        .iter()
        .filter(|(k, _)| used.contains(k))
        .map(|(k, d)| (k.clone(), dimension_out(k, d, &sites, filter)))
        .collect();
    let raw: BTreeMap<&str, (i64, bool)> = set.indicators.iter().map(|d| (d.key.as_str(), numerator(d, f))).collect();
    let small = |v: i64, people: bool| suppress && people && v > 0 && v < SMALL_CELL;

    let mut indicators = Vec::new();
    for d in &set.indicators {
        let (n, people) = raw.get(d.key.as_str()).copied().unwrap_or((0, false));
        let hidden = small(n, people);
        let shown = |v: f64| if hidden { None } else { Some(v) };
        let (value, numerator, denominator) = match &d.denominator {
            None => (shown(n as f64), None, None),
            Some(Denominator::People(c)) => {
                let m = f.people.iter().filter(|p| holds(&d.population, p, f) && holds(c, p, f)).count() as i64;
                let pct = (m > 0).then(|| round1(n as f64 * 100.0 / m as f64));
                (pct.and_then(shown), shown(n as f64), Some(m as f64))
            }
            Some(Denominator::Indicator(other)) => {
                let m = raw.get(other.as_str()).map(|(m, _)| *m).unwrap_or(0);
                let pct = (m > 0).then(|| round1(n as f64 * 100.0 / m as f64));
                (pct.and_then(shown), shown(n as f64), Some(m as f64))
            }
            Some(Denominator::Estimate(group)) => {
                let with: Vec<(String, i64)> =
                    f.sites.iter().filter_map(|s| estimate(s, *group).map(|e| (s.id.to_string(), e))).collect();
                let total: i64 = with.iter().map(|(_, e)| e).sum();
                let at_estimated = |site: &str| with.iter().any(|(s, _)| s == site);
                let counted = match &d.numerator {
                    Measure::Items(class) => f
                        .items
                        .iter()
                        .filter(|(site, code, _)| at_estimated(site) && is_of(class, code, f))
                        .map(|(_, _, q)| q)
                        .sum(),
                    Measure::People(c) => f
                        .people
                        .iter()
                        .filter(|p| {
                            p.sites.iter().any(|s| at_estimated(s)) && holds(&d.population, p, f) && holds(c, p, f)
                        })
                        .count() as i64,
                    _ => 0,
                };
                let hidden_here = small(counted, people);
                let value = if total == 0 || filter.days == 0 || hidden_here {
                    None
                } else if matches!(d.numerator, Measure::Items(_)) {
                    Some(round1(counted as f64 / total as f64 * 365.0 / filter.days as f64))
                } else {
                    Some(round1(counted as f64 * 100.0 / total as f64))
                };
                (value, (!hidden_here).then_some(counted as f64), (total > 0).then_some(total as f64))
            }
        };
        let tables = d.tables.iter().map(|names| build_table(names, d, set, &dims, f, suppress)).collect();
        indicators.push(SetIndicator {
            key: d.key.clone(),
            code: d.code.clone(),
            name: d.name.clone(),
            definition: d.definition.clone(),
            unit: unit(d),
            value,
            suppressed: value.is_none() && (hidden || numerator.is_none() && d.denominator.is_some() && people),
            numerator,
            denominator,
            coverage: value.and_then(|v| band(&d.bands, v)),
            target: d.target.map(|Target::ProgrammeNspTarget| programme_target),
            tables,
        });
    }
    if suppress {
        for parts in &set.parts {
            let mut cells: Vec<Cell> = parts
                .iter()
                .filter_map(|k| indicators.iter().find(|i| &i.key == k))
                .map(|i| Cell { key: i.key.clone(), value: i.value, suppressed: i.suppressed })
                .collect();
            let part_raw: Vec<i64> = parts.iter().map(|k| raw.get(k.as_str()).map(|(v, _)| *v).unwrap_or(0)).collect();
            if cells.len() == parts.len() {
                protect(&mut cells, &part_raw);
                for cell in cells.iter().filter(|c| c.suppressed) {
                    if let Some(i) = indicators.iter_mut().find(|i| i.key == cell.key) {
                        i.value = None;
                        i.numerator = None;
                        i.suppressed = true;
                    }
                }
            }
        }
    }
    SetReport {
        programme: String::new(),
        set: set.key.clone(),
        name: set.name.clone(),
        source: set.source.clone(),
        notes: set.notes.clone(),
        from: filter.from.clone(),
        to: filter.to.clone(),
        sites,
        suppression: Suppression { enabled: suppress, threshold: SMALL_CELL },
        dimensions: dims.into_values().collect(),
        indicators,
    }
}
