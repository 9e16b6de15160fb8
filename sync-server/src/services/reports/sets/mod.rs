//! Indicator sets: the programme's own indicators and its donors' (WHO/UNODC/UNAIDS technical
//! guide, Global Fund, PEPFAR MER, UNAIDS GAM) as definitions, not code paths.
//!
//! Each set is a JSON file in `definitions/`, compiled into the server and checked when it is
//! loaded ([`registry`]): its dimensions (categories of people, each with a [`Condition`]), and
//! its indicators (a numerator [`Measure`], an optional [`Denominator`], coverage bands, a
//! target and the disaggregation tables a donor asks for). One interpreter ([`evaluate`])
//! computes every set from the same per-person facts ([`facts`]); the dashboard's donor report,
//! the printable report and the exports all read its result. `docs/indicators.md` cites each
//! set's source and gives its definitions in words.
//!
//! * [`facts`]: what each person reached in the period received, did and was (one query);
//! * [`evaluate`]: definitions over facts, with small-cell suppression;
//! * [`packages`]: the service packages "reached with the package" is measured against.

pub mod evaluate;
pub mod facts;
pub mod packages;

use outpost_core::records::{Gender, KeyGroup, ReferralStatus, ReferralTarget, Service, Setting, TestKind};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

pub use evaluate::{SetIndicator, SetReport, Table, TableCell, report};

/// The sets shipped, in the order the dashboard lists them.
const SOURCES: &[(&str, &str)] = &[
    ("programme", include_str!("definitions/programme.json")),
    ("who_nsp", include_str!("definitions/who_nsp.json")),
    ("global_fund", include_str!("definitions/global_fund.json")),
    ("pepfar_kp_prev", include_str!("definitions/pepfar_kp_prev.json")),
    ("unaids_gam", include_str!("definitions/unaids_gam.json")),
];

/// How often a donor expects the set (the dashboard's default period for it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    Month,
    Quarter,
    HalfYear,
    Year,
}

/// One indicator set, as written in its definition file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorSet {
    pub key: String,
    pub name: String,
    /// The published guide the definitions follow (full citation in docs/indicators.md).
    pub source: String,
    pub cadence: Cadence,
    /// What a reader of the report must know (approximations, what is not recorded).
    #[serde(default)]
    pub notes: Vec<String>,
    /// Named ways to split people; referred to by the indicators' tables.
    #[serde(default)]
    pub dimensions: BTreeMap<String, Dimension>,
    pub indicators: Vec<Definition>,
    /// Groups of indicators that add up to another one shown beside them (new + returning
    /// clients = people reached): protected together by complementary suppression.
    #[serde(default)]
    pub parts: Vec<Vec<String>>,
}

/// A way to split the people counted.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Dimension {
    /// The report's sites: a person counts once at each site where they had a contact.
    Site { label: String },
    /// The calendar months of the report's period: a person counts once in each month they
    /// had a contact in.
    Month { label: String },
    /// Categories defined by conditions on the person.
    Categories {
        label: String,
        /// A person falls in the first category that holds (else in every one that holds).
        #[serde(default)]
        exclusive: bool,
        categories: Vec<Category>,
        /// The category of people in none of the others; without it they are left out of the
        /// table (they still count in the indicator's total).
        #[serde(default)]
        otherwise: Option<Otherwise>,
    },
}

/// A category of a dimension.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub key: String,
    pub label: String,
    pub when: Condition,
}

/// The catch-all category of a dimension (no condition).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Otherwise {
    pub key: String,
    pub label: String,
}

/// Which results of a test count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultIs {
    /// Reactive or non-reactive: the person knows a result (invalid results do not count).
    #[default]
    Known,
    Reactive,
    /// Any test, an invalid one included.
    Any,
}

/// Classes of commodities, as the catalogue marks them.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ItemClass {
    /// Items the catalogue counts as needle-syringes.
    NeedleSyringe,
    /// External and internal condoms.
    Condom,
    /// Items of the catalogue's naloxone category.
    Naloxone,
    /// Items of a catalogue category.
    Category(String),
}

/// A statement about a person reached in the period (their facts for the period).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    Everyone,
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Not(Box<Condition>),
    /// Gender is one of these.
    Gender(Vec<Gender>),
    /// Age at the period's year (birth year known) within `[from, below)`.
    Age {
        #[serde(default)]
        from: Option<i64>,
        #[serde(default)]
        below: Option<i64>,
    },
    /// No birth year recorded.
    AgeUnknown,
    KeyGroup(KeyGroup),
    /// Had a contact with one of these services.
    Service(Vec<Service>),
    /// Had a contact in one of these settings.
    Setting(Vec<Setting>),
    /// Was given items of the class (net of reversals).
    Received(ItemClass),
    /// Was tested in the period.
    Tested {
        test: TestKind,
        #[serde(default)]
        result: ResultIs,
    },
    /// An HIV rapid test was reactive before the period (at the report's sites).
    KnownPositive,
    /// Was referred in the period (to `target`, if given; with the referral now at `status`).
    Referred {
        #[serde(default)]
        target: Option<ReferralTarget>,
        #[serde(default)]
        status: Option<ReferralStatus>,
    },
    /// First recorded in the period.
    NewClient,
    /// Given needle-syringes, with a contact in every 30-day part of the period.
    RegularNspAccess,
    /// Received the programme's package for this population (see [`packages`]).
    Package(packages::Population),
    /// Received the package of a population the person is in (any of them), or, in none with a
    /// package, the package for everyone.
    OwnPackage,
}

/// What an indicator counts.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Measure {
    /// Distinct people (merged records count once) in the indicator's population for whom the
    /// condition holds.
    People(Condition),
    /// Items given, reversals subtracted, anonymous tallies included.
    Items(ItemClass),
    /// Individual contacts plus the people counted in anonymous tallies.
    Contacts,
    /// People counted in anonymous tallies (not distinct people).
    TallyPeople,
    /// Contacts where the client collected supplies for others.
    SecondaryDistribution,
    /// Used syringes returned.
    SyringesReturned,
    /// Tests done (one per test, not per person).
    Tests {
        #[serde(default)]
        test: Option<TestKind>,
        #[serde(default)]
        result: ResultIs,
    },
    /// Referrals made in the period (attended ones only, if `attended`).
    Referrals {
        #[serde(default)]
        target: Option<ReferralTarget>,
        #[serde(default)]
        attended: bool,
    },
    /// Reactive tests linked to care in the period (when the linkage happened).
    LinkedToCare,
    /// Overdose responses in the period where the person survived.
    OverdoseReversals,
}

/// What an indicator divides by.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Denominator {
    /// People of the population for whom the condition holds (programme level): a percentage.
    People(Condition),
    /// The sites' size estimate of the key group (population level). People ÷ estimate is a
    /// percentage; items ÷ the PWID estimate is items per person per year (sites without an
    /// estimate left out on both sides).
    Estimate(KeyGroup),
    /// The numerator of another indicator of the set: a percentage (returns ÷ syringes given).
    Indicator(String),
}

/// A coverage band: the first band whose bound holds applies.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub key: super::indicators::Coverage,
    /// Applies to values under this.
    #[serde(default)]
    pub below: Option<f64>,
    /// Applies to values up to and including this.
    #[serde(default)]
    pub up_to: Option<f64>,
}

/// A target to show beside the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// The programme's needle-syringe target (org setting, WHO's 300 unless set).
    ProgrammeNspTarget,
}

/// One indicator of a set.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    pub key: String,
    /// The donor's code (`KP_PREV`, `KP-1d`), when it has one.
    #[serde(default)]
    pub code: Option<String>,
    pub name: String,
    /// The definition in plain words.
    pub definition: String,
    /// Who may be counted (people measures and people denominators).
    #[serde(default = "everyone")]
    pub population: Condition,
    pub numerator: Measure,
    #[serde(default)]
    pub denominator: Option<Denominator>,
    #[serde(default)]
    pub bands: Vec<Band>,
    #[serde(default)]
    pub target: Option<Target>,
    /// Tables of the numerator, each by one or two of the set's dimensions.
    #[serde(default)]
    pub tables: Vec<Vec<String>>,
}

fn everyone() -> Condition {
    Condition::Everyone
}

/// Why a definition file was refused.
#[derive(Debug, thiserror::Error)]
pub enum DefinitionError {
    #[error("{set}: {message}")]
    Unreadable { set: String, message: String },
    #[error("{set}: {message}")]
    Invalid { set: String, message: String },
}

impl IndicatorSet {
    /// Reads and checks a definition file.
    pub fn parse(name: &str, text: &str) -> Result<IndicatorSet, DefinitionError> {
        let set: IndicatorSet = serde_json::from_str(text)
            .map_err(|e| DefinitionError::Unreadable { set: name.into(), message: e.to_string() })?;
        set.check().map_err(|message| DefinitionError::Invalid { set: name.into(), message })?;
        Ok(set)
    }

    fn check(&self) -> Result<(), String> {
        let key_ok =
            |k: &str| !k.is_empty() && k.len() <= 64 && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !key_ok(&self.key) {
            return Err(format!("set key {:?} is not a short snake_case word", self.key));
        }
        for (name, dimension) in &self.dimensions {
            if !key_ok(name) {
                return Err(format!("dimension {name:?} is not a short snake_case word"));
            }
            if let Dimension::Categories { categories, otherwise, .. } = dimension {
                let mut seen = BTreeSet::new();
                for key in categories.iter().map(|c| &c.key).chain(otherwise.iter().map(|o| &o.key)) {
                    if !seen.insert(key) {
                        return Err(format!("dimension {name}: category {key:?} twice"));
                    }
                }
                if categories.is_empty() {
                    return Err(format!("dimension {name} has no category"));
                }
            }
        }
        let mut keys = BTreeSet::new();
        for d in &self.indicators {
            if !key_ok(&d.key) || !keys.insert(d.key.as_str()) {
                return Err(format!("indicator key {:?} is malformed or repeated", d.key));
            }
            for table in &d.tables {
                if table.is_empty() || table.len() > 2 {
                    return Err(format!("{}: a table has one or two dimensions", d.key));
                }
                if let Some(unknown) = table.iter().find(|t| !self.dimensions.contains_key(*t)) {
                    return Err(format!("{}: table dimension {unknown:?} is not defined", d.key));
                }
                let by_site =
                    table.len() == 1 && matches!(self.dimensions.get(&table[0]), Some(Dimension::Site { .. }));
                match d.numerator {
                    Measure::People(_) => {}
                    Measure::Items(_) if by_site => {}
                    _ => {
                        return Err(format!(
                            "{}: only people can be split by categories of people, items by site",
                            d.key
                        ));
                    }
                }
            }
            match &d.denominator {
                Some(Denominator::Indicator(other))
                    if other == &d.key || self.indicator(other).is_none_or(|i| i.denominator.is_some()) =>
                {
                    return Err(format!("{}: denominator {other:?} is not another count of the set", d.key));
                }
                Some(Denominator::Estimate(group)) => {
                    if matches!(d.numerator, Measure::Items(_)) && *group != KeyGroup::InjectsDrugs {
                        return Err(format!("{}: items per person per year need the PWID estimate", d.key));
                    }
                    if !matches!(d.numerator, Measure::Items(_) | Measure::People(_)) {
                        return Err(format!("{}: only people or items can be divided by an estimate", d.key));
                    }
                }
                Some(Denominator::People(_)) if !matches!(d.numerator, Measure::People(_)) => {
                    return Err(format!("{}: a people denominator needs a people numerator", d.key));
                }
                _ => {}
            }
            if !d.bands.is_empty() && d.bands.last().is_some_and(|b| b.below.is_some() || b.up_to.is_some()) {
                return Err(format!("{}: the last band must be open (no bound)", d.key));
            }
        }
        if self.indicators.is_empty() {
            return Err("a set needs at least one indicator".into());
        }
        for group in &self.parts {
            if let Some(unknown) = group.iter().find(|k| self.indicator(k).is_none()) {
                return Err(format!("parts: {unknown:?} is not an indicator of the set"));
            }
        }
        Ok(())
    }

    pub fn indicator(&self, key: &str) -> Option<&Definition> {
        self.indicators.iter().find(|d| d.key == key)
    }
}

/// Every shipped set, read and checked once. A set that fails its check is a build defect,
/// caught by the tests; at run time it is left out and reported in the log.
pub fn registry() -> &'static [IndicatorSet] {
    static SETS: OnceLock<Vec<IndicatorSet>> = OnceLock::new();
    SETS.get_or_init(|| {
        SOURCES
            .iter()
            .filter_map(|(name, text)| match IndicatorSet::parse(name, text) {
                Ok(set) => Some(set),
                Err(e) => {
                    tracing::error!("indicator set left out: {e}");
                    None
                }
            })
            .collect()
    })
}

/// The set with this key.
pub fn find(key: &str) -> Option<&'static IndicatorSet> {
    registry().iter().find(|s| s.key == key)
}

/// A set as the dashboard lists it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct SetSummary {
    pub key: String,
    pub name: String,
    pub source: String,
    pub cadence: Cadence,
    pub indicators: Vec<IndicatorSummary>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct IndicatorSummary {
    pub key: String,
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub name: String,
}

/// The shipped sets, for the dashboard's picker.
pub fn summaries() -> Vec<SetSummary> {
    registry()
        .iter()
        .map(|s| SetSummary {
            key: s.key.clone(),
            name: s.name.clone(),
            source: s.source.clone(),
            cadence: s.cadence,
            indicators: s
                .indicators
                .iter()
                .map(|d| IndicatorSummary { key: d.key.clone(), code: d.code.clone(), name: d.name.clone() })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_set_loads_and_passes_its_checks() {
        for (name, text) in SOURCES {
            let set = IndicatorSet::parse(name, text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(set.key, *name, "the file's key is its name");
        }
        assert_eq!(registry().len(), SOURCES.len());
    }

    #[test]
    fn docs_indicators_md_names_every_set_and_indicator() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/indicators.md");
        let doc = std::fs::read_to_string(path).unwrap_or_default();
        for set in registry() {
            assert!(doc.contains(&format!("(`{}`)", set.key)), "docs/indicators.md has no section for {}", set.key);
            for d in &set.indicators {
                assert!(
                    doc.contains(&format!("`{}`", d.key)),
                    "docs/indicators.md does not define {}.{}",
                    set.key,
                    d.key
                );
            }
        }
    }

    #[test]
    fn malformed_definitions_are_refused_with_what_is_wrong() {
        let base = |indicators: &str, dimensions: &str| {
            format!(
                r#"{{"key": "t", "name": "T", "source": "S", "cadence": "quarter", "dimensions": {dimensions}, "indicators": {indicators}}}"#
            )
        };
        let people = r#"{"key": "a", "name": "A", "definition": "d", "numerator": {"people": "everyone"}"#;
        let cases = [
            (base("[]", "{}"), "at least one indicator"),
            (base(&format!("[{people}, \"tables\": [[\"nope\"]]}}]"), "{}"), "\"nope\" is not defined"),
            (base(&format!("[{people}}}, {people}}}]"), "{}"), "malformed or repeated"),
            (
                base(
                    r#"[{"key": "a", "name": "A", "definition": "d", "numerator": {"people": {"gender": ["robot"]}}}]"#,
                    "{}",
                ),
                "robot",
            ),
            (
                base(
                    r#"[{"key": "a", "name": "A", "definition": "d", "numerator": {"items": "condom"}, "denominator": {"estimate": "msm"}}]"#,
                    "{}",
                ),
                "PWID estimate",
            ),
            (
                base(
                    r#"[{"key": "a", "name": "A", "definition": "d", "numerator": "contacts", "denominator": {"indicator": "b"}}]"#,
                    "{}",
                ),
                "not another count",
            ),
            (base(&format!("[{people}, \"colour\": 1}}]"), "{}"), "colour"),
            (
                base(
                    &format!("[{people}}}]"),
                    r#"{"g": {"kind": "categories", "label": "G", "categories": [{"key": "x", "label": "X", "when": "everyone"}, {"key": "x", "label": "X", "when": "everyone"}]}}"#,
                ),
                "twice",
            ),
            (
                base(
                    r#"[{"key": "a", "name": "A", "definition": "d", "numerator": "contacts", "tables": [["g"]]}]"#,
                    r#"{"g": {"kind": "categories", "label": "G", "categories": [{"key": "x", "label": "X", "when": "everyone"}]}}"#,
                ),
                "only people",
            ),
        ];
        for (text, expected) in cases {
            let error = IndicatorSet::parse("t", &text).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(error.contains(expected), "{expected:?} not in {error:?} for {text}");
        }
    }
}
