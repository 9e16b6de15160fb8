//! Service packages: what a person of a key population must receive in a period to count as
//! "reached with the package" (the Global Fund's defined package, the programme's own
//! indicator). Each package names its population, optionally a setting (a nightlife package for
//! people reached at parties), and its requirements: every group must be met by at least one of
//! its items (needle-syringes; condoms; information *or* counselling). A programme's admin
//! writes its own; a population it has not written keeps the shipped default. Evaluated with
//! the person's facts of the period (`evaluate`).

use super::ItemClass;
use outpost_core::records::{ReferralTarget, Service, Setting, TestKind};
use serde::{Deserialize, Serialize};

/// Who a package is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, utoipa::ToSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Population {
    InjectsDrugs,
    UsesStimulants,
    SexWork,
    Msm,
    Nightlife,
    Pregnant,
    /// Trans women and trans men (gender, not a key-group flag).
    Transgender,
    /// Anyone reached who is in no population with a package.
    Everyone,
}

impl Population {
    pub const ALL: [Population; 8] = [
        Population::InjectsDrugs,
        Population::UsesStimulants,
        Population::SexWork,
        Population::Msm,
        Population::Nightlife,
        Population::Pregnant,
        Population::Transgender,
        Population::Everyone,
    ];
}

/// Something a package asks for.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum PackageItem {
    /// Items of a class given (net of reversals).
    Received(ItemClass),
    /// A service at a contact.
    Service(Service),
    /// A test with a result.
    Tested(TestKind),
    /// A referral made.
    Referred(ReferralTarget),
}

/// A package, as the admin writes it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct ServicePackage {
    pub population: Population,
    /// Only for people with a contact in this setting in the period.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setting: Option<Setting>,
    /// Every group must be met, each by one of its items.
    pub requires: Vec<Vec<PackageItem>>,
}

/// The most packages, groups per package and items per group accepted.
pub const MAX_PACKAGES: usize = 40;
pub const MAX_GROUPS: usize = 12;
pub const MAX_ITEMS: usize = 12;

fn prevention(needles: bool) -> Vec<Vec<PackageItem>> {
    let mut out = Vec::new();
    if needles {
        out.push(vec![PackageItem::Received(ItemClass::NeedleSyringe)]);
    }
    out.push(vec![PackageItem::Received(ItemClass::Condom)]);
    out.push(vec![PackageItem::Service(Service::Information), PackageItem::Service(Service::Counselling)]);
    out
}

/// The shipped packages: needle-syringes, condoms, and information or counselling for people
/// who inject drugs (and anyone in no population with a package: the programme's indicator as
/// it always was); condoms and information or counselling for sex workers, men who have sex
/// with men and transgender people.
pub fn defaults() -> Vec<ServicePackage> {
    let package = |population, needles| ServicePackage { population, setting: None, requires: prevention(needles) };
    vec![
        package(Population::InjectsDrugs, true),
        package(Population::SexWork, false),
        package(Population::Msm, false),
        package(Population::Transgender, false),
        package(Population::Everyone, true),
    ]
}

/// The packages in force: the programme's own, and the defaults of populations it wrote none for.
pub fn effective(own: &[ServicePackage]) -> Vec<ServicePackage> {
    let mut out = own.to_vec();
    out.extend(defaults().into_iter().filter(|d| !own.iter().any(|o| o.population == d.population)));
    out
}

/// Checks a programme's packages; each problem names the package (by position) and what is wrong.
pub fn check(packages: &[ServicePackage]) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    if packages.len() > MAX_PACKAGES {
        problems.push(format!("at most {MAX_PACKAGES} packages"));
    }
    for (i, p) in packages.iter().enumerate() {
        let n = i + 1;
        if p.requires.is_empty() {
            problems.push(format!("package {n}: it requires nothing; add at least one group"));
        }
        if p.requires.len() > MAX_GROUPS {
            problems.push(format!("package {n}: at most {MAX_GROUPS} groups"));
        }
        for (g, group) in p.requires.iter().enumerate() {
            if group.is_empty() || group.len() > MAX_ITEMS {
                problems.push(format!("package {n}, group {}: 1 to {MAX_ITEMS} items", g + 1));
            }
            if let Some(PackageItem::Received(ItemClass::Category(name))) = group.iter().find(
                |item| matches!(item, PackageItem::Received(ItemClass::Category(c)) if c.is_empty() || c.len() > 64),
            ) {
                problems.push(format!("package {n}, group {}: {name:?} is not a catalogue category", g + 1));
            }
        }
        if packages[..i].iter().any(|q| q.population == p.population && q.setting == p.setting) {
            problems.push(format!("package {n}: a second package for the same population and setting"));
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(problems) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_programmes_packages_replace_the_defaults_of_their_populations_only() {
        let own = vec![ServicePackage {
            population: Population::InjectsDrugs,
            setting: Some(Setting::Nightlife),
            requires: vec![vec![PackageItem::Received(ItemClass::Naloxone)]],
        }];
        let all = effective(&own);
        assert_eq!(all.iter().filter(|p| p.population == Population::InjectsDrugs).count(), 1);
        assert_eq!(all.len(), defaults().len());
        assert!(check(&defaults()).is_ok());
    }

    #[test]
    fn empty_oversized_and_repeated_packages_are_refused() {
        let empty = ServicePackage { population: Population::Msm, setting: None, requires: vec![] };
        let hollow = ServicePackage { population: Population::SexWork, setting: None, requires: vec![vec![]] };
        let problems = check(&[empty.clone(), hollow, empty]).err().unwrap_or_default();
        assert!(problems.iter().any(|p| p.starts_with("package 1: it requires nothing")), "{problems:?}");
        assert!(problems.iter().any(|p| p.starts_with("package 2, group 1")), "{problems:?}");
        assert!(problems.iter().any(|p| p.starts_with("package 3: a second package")), "{problems:?}");
        let parsed: Result<ServicePackage, _> =
            serde_json::from_str(r#"{"population": "robots", "requires": [[{"service": "information"}]]}"#);
        assert!(parsed.is_err());
    }
}
