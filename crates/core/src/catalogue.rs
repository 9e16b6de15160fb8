//! The default commodity catalogue and kit templates from `domain.md`, used to seed a new
//! organisation (organisations edit their own copy on the server), and the rules every reader
//! of a catalogue follows: display order, names per language, a site's low-stock threshold.
//!
//! A retired commodity or kit is never removed: entries recorded against it (before or after
//! it was retired, on a tablet that had not synced yet) are kept, shown under its name in
//! history and counted in reports; it is only left out of what a worker can pick for a new
//! entry.

use crate::ids::SiteId;
use crate::records::{Commodity, CommodityCategory as Cat, CommodityQuantity, KitTemplate};
use std::collections::BTreeMap;

/// `(code, name, category, unit, units per pack, counts as a needle-syringe)`.
const COMMODITIES: &[(&str, &str, Cat, &str, u32, bool)] = &[
    ("syringe_1ml", "Syringe 1 ml (insulin, fixed needle)", Cat::Injecting, "piece", 100, true),
    ("syringe_2ml", "Syringe 2 ml", Cat::Injecting, "piece", 100, true),
    ("syringe_5ml", "Syringe 5 ml", Cat::Injecting, "piece", 100, true),
    ("syringe_10ml", "Syringe 10 ml", Cat::Injecting, "piece", 100, true),
    ("needle", "Needle", Cat::Injecting, "piece", 100, true),
    ("alcohol_swab", "Alcohol swab", Cat::Injecting, "piece", 200, false),
    ("sterile_water", "Sterile water", Cat::Injecting, "ampoule", 50, false),
    ("filter", "Filter", Cat::Injecting, "piece", 100, false),
    ("cooker", "Cooker", Cat::Injecting, "piece", 100, false),
    ("citric_acid", "Citric/ascorbic acid", Cat::Injecting, "sachet", 100, false),
    ("tourniquet", "Tourniquet", Cat::Injecting, "piece", 50, false),
    ("condom_external", "Condom (external)", Cat::Sex, "piece", 144, false),
    ("condom_internal", "Condom (internal)", Cat::Women, "piece", 20, false),
    ("lubricant", "Lubricant", Cat::Sex, "sachet", 100, false),
    ("naloxone_nasal", "Naloxone (nasal)", Cat::Naloxone, "kit", 10, false),
    ("naloxone_injectable", "Naloxone (injectable)", Cat::Naloxone, "kit", 10, false),
    ("foil", "Foil", Cat::Smoking, "sheet", 100, false),
    ("smoking_pipe", "Safer-smoking pipe", Cat::Smoking, "piece", 50, false),
    ("mouthpiece", "Mouthpiece", Cat::Smoking, "piece", 100, false),
    ("snorting_kit", "Snorting kit", Cat::Sniffing, "kit", 50, false),
    ("fentanyl_test_strip", "Fentanyl test strip", Cat::Testing, "piece", 100, false),
    ("drug_test_strip", "Drug-checking test strip (other)", Cat::Testing, "piece", 100, false),
    ("sharps_container", "Sharps container", Cat::Injecting, "piece", 20, false),
    ("wound_care_kit", "Wound-care kit", Cat::Injecting, "kit", 20, false),
    ("pregnancy_test", "Pregnancy test", Cat::Women, "piece", 50, false),
    ("hygiene_kit", "Hygiene kit", Cat::Women, "kit", 20, false),
    ("earplugs", "Earplugs", Cat::Nightlife, "pair", 100, false),
    ("leaflet", "Information leaflet", Cat::Other, "piece", 100, false),
];

/// The step between the display orders of the defaults, leaving room to insert between them.
const ORDER_STEP: u32 = 10;

/// The default catalogue.
pub fn default_commodities() -> Vec<Commodity> {
    COMMODITIES
        .iter()
        .zip((1..).map(|i| i * ORDER_STEP))
        .map(|(&(code, name, category, unit, units_per_pack, ns), order)| Commodity {
            code: code.into(),
            name: name.into(),
            names: BTreeMap::new(),
            category,
            unit: unit.into(),
            units_per_pack,
            counts_as_needle_syringe: ns,
            low_stock_threshold: Some(units_per_pack),
            site_thresholds: BTreeMap::new(),
            order,
            retired: false,
        })
        .collect()
}

fn kit(code: &str, name: &str, items: &[(&str, u32)], order: u32) -> KitTemplate {
    KitTemplate {
        code: code.into(),
        name: name.into(),
        names: BTreeMap::new(),
        items: items.iter().map(|&(c, q)| CommodityQuantity { commodity: c.into(), quantity: q }).collect(),
        key_groups: Vec::new(),
        settings: Vec::new(),
        order,
        retired: false,
    }
}

impl Commodity {
    /// Its name in `language`, or its default name.
    pub fn name_in(&self, language: &str) -> &str {
        self.names.get(language).map_or(self.name.as_str(), String::as_str)
    }

    /// The low-stock threshold at `site`: the site's own, else the commodity's.
    pub fn threshold_at(&self, site: SiteId) -> Option<u32> {
        self.site_thresholds.get(&site.to_string()).copied().or(self.low_stock_threshold)
    }
}

/// A batch received (a delivery or transfer in with an expiry date) is shown as expiring from
/// this many days before its expiry date, while its site still holds the commodity...
pub const EXPIRING_WITHIN_DAYS: u32 = 90;
/// ...and as expired until this many days after it (then it is assumed used or written off).
pub const EXPIRED_SHOWN_DAYS: u32 = 30;

/// What a stock level means, the one rule the tablet's stock screen and the dashboard show.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LevelStatus {
    /// Below zero: some movement was never recorded (a delivery, the opening balance), so the
    /// number is wrong; counting the stock helps, not ordering.
    CountNeeded,
    /// None left, or below the site's threshold.
    Low,
    Ok,
}

impl LevelStatus {
    /// The status of `level` against the site's low-stock threshold (see
    /// [`Commodity::threshold_at`]).
    pub fn of(level: i64, threshold: Option<u32>) -> Self {
        if level < 0 {
            Self::CountNeeded
        } else if level == 0 || threshold.is_some_and(|t| level < i64::from(t)) {
            Self::Low
        } else {
            Self::Ok
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CountNeeded => "count_needed",
            Self::Low => "low",
            Self::Ok => "ok",
        }
    }
}

impl KitTemplate {
    /// Its name in `language`, or its default name.
    pub fn name_in(&self, language: &str) -> &str {
        self.names.get(language).map_or(self.name.as_str(), String::as_str)
    }
}

/// How every list orders commodities: by display order, then name, then code.
pub fn commodity_order(a: &Commodity, b: &Commodity) -> std::cmp::Ordering {
    (a.order, &a.name, &a.code).cmp(&(b.order, &b.name, &b.code))
}

/// How every list orders kit templates: by display order, then name, then code.
pub fn kit_order(a: &KitTemplate, b: &KitTemplate) -> std::cmp::Ordering {
    (a.order, &a.name, &a.code).cmp(&(b.order, &b.name, &b.code))
}

/// Sorts commodities as every list shows them ([`commodity_order`]).
pub fn sort_commodities(items: &mut [Commodity]) {
    items.sort_by(commodity_order);
}

/// Sorts kit templates as every list shows them ([`kit_order`]).
pub fn sort_kits(kits: &mut [KitTemplate]) {
    kits.sort_by(kit_order);
}

const INJECTING: &[(&str, u32)] =
    &[("syringe_1ml", 10), ("alcohol_swab", 10), ("sterile_water", 2), ("condom_external", 2)];

/// The default kit templates.
pub fn default_kits() -> Vec<KitTemplate> {
    let women: Vec<(&str, u32)> =
        INJECTING.iter().copied().chain([("hygiene_kit", 1), ("pregnancy_test", 1), ("condom_internal", 2)]).collect();
    let mut women = kit("women", "Women's kit", &women, 4 * ORDER_STEP);
    women.key_groups = vec![crate::records::KeyGroup::SexWork, crate::records::KeyGroup::Pregnant];
    let mut nightlife = kit(
        "nightlife",
        "Nightlife kit",
        &[("condom_external", 3), ("lubricant", 2), ("earplugs", 1), ("leaflet", 1), ("drug_test_strip", 2)],
        3 * ORDER_STEP,
    );
    nightlife.settings = vec![crate::records::Setting::Nightlife];
    vec![
        kit("injecting", "Injecting kit", INJECTING, ORDER_STEP),
        kit(
            "smoking",
            "Smoking kit",
            &[("smoking_pipe", 1), ("mouthpiece", 2), ("foil", 5), ("condom_external", 2)],
            2 * ORDER_STEP,
        ),
        nightlife,
        women,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_level_below_zero_needs_a_count_and_zero_or_under_the_threshold_is_low() {
        assert_eq!(LevelStatus::of(-5, Some(10)), LevelStatus::CountNeeded);
        assert_eq!(LevelStatus::of(-1, None), LevelStatus::CountNeeded);
        assert_eq!(LevelStatus::of(0, None), LevelStatus::Low);
        assert_eq!(LevelStatus::of(4, Some(5)), LevelStatus::Low);
        assert_eq!(LevelStatus::of(5, Some(5)), LevelStatus::Ok);
        assert_eq!(LevelStatus::of(3, None), LevelStatus::Ok);
        assert_eq!(LevelStatus::CountNeeded.as_str(), "count_needed");
        assert_eq!(serde_json::to_value(LevelStatus::CountNeeded).ok(), Some(serde_json::json!("count_needed")));
    }

    #[test]
    fn kits_use_only_catalogue_commodities() {
        let codes: Vec<String> = default_commodities().into_iter().map(|c| c.code).collect();
        for kit in default_kits() {
            for item in kit.items {
                assert!(codes.contains(&item.commodity), "{} in {}", item.commodity, kit.code);
            }
        }
    }

    #[test]
    fn lists_follow_the_display_order_and_sites_their_own_threshold() {
        let mut items = default_commodities();
        items.reverse();
        items[0].order = 1;
        let last = items[0].code.clone();
        sort_commodities(&mut items);
        assert_eq!(items[0].code, last, "a lower order comes first whatever the name");
        assert_eq!(items[1].code, "syringe_1ml");
        let site = SiteId(uuid::Uuid::from_u128(7));
        let mut syringe = items[1].clone();
        assert_eq!(syringe.threshold_at(site), Some(100));
        syringe.site_thresholds.insert(site.to_string(), 400);
        assert_eq!(syringe.threshold_at(site), Some(400));
        assert_eq!(syringe.threshold_at(SiteId(uuid::Uuid::from_u128(8))), Some(100));
        syringe.names.insert("ru".into(), "Шприц 1 мл".into());
        assert_eq!(syringe.name_in("ru"), "Шприц 1 мл");
        assert_eq!(syringe.name_in("uk"), syringe.name);
    }

    #[test]
    fn catalogue_fields_are_checked() {
        use crate::schema::validate_fields;
        use crate::uic::UicScheme;
        let scheme = UicScheme::central_asia();
        let check = |fields: serde_json::Value| {
            let serde_json::Value::Object(fields) = fields else { unreachable!() };
            validate_fields(crate::Collection::Commodities, &fields, false, &scheme).map_err(|e| e[0].code)
        };
        assert_eq!(check(serde_json::json!({"names": {"ru": "Шприц"}, "order": 5, "retired": true})), Ok(()));
        assert_eq!(check(serde_json::json!({"names": {"russian": "Шприц"}})), Err("invalid_language"));
        assert_eq!(check(serde_json::json!({"names": {"ru": "  "}})), Err("out_of_range"));
        assert_eq!(check(serde_json::json!({"names": {"ru": "x".repeat(201)}})), Err("out_of_range"));
        let site = uuid::Uuid::from_u128(7).to_string();
        assert_eq!(check(serde_json::json!({"site_thresholds": {site.clone(): 40}})), Ok(()));
        assert_eq!(check(serde_json::json!({"site_thresholds": {site: -1}})), Err("out_of_range"));
        assert_eq!(check(serde_json::json!({"site_thresholds": {"not-a-site": 1}})), Err("invalid_uuid"));
        let site_fields = serde_json::json!({"population_estimates": {"sex_work": 900, "pets": 1}});
        let serde_json::Value::Object(site_fields) = site_fields else { unreachable!() };
        let refused = validate_fields(crate::Collection::Sites, &site_fields, false, &scheme);
        assert_eq!(refused.map_err(|e| e[0].code), Err("not_allowed"));
    }
}
