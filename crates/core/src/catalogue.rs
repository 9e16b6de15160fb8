//! The default commodity catalogue and kit templates from `domain.md`, used to seed a new
//! organisation. Organisations edit their own copy on the server.

use crate::records::{Commodity, CommodityCategory as Cat, CommodityQuantity, KitTemplate};

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

/// The default catalogue.
pub fn default_commodities() -> Vec<Commodity> {
    COMMODITIES
        .iter()
        .map(|&(code, name, category, unit, units_per_pack, ns)| Commodity {
            code: code.into(),
            name: name.into(),
            category,
            unit: unit.into(),
            units_per_pack,
            counts_as_needle_syringe: ns,
            low_stock_threshold: Some(units_per_pack),
        })
        .collect()
}

fn kit(code: &str, name: &str, items: &[(&str, u32)]) -> KitTemplate {
    KitTemplate {
        code: code.into(),
        name: name.into(),
        items: items.iter().map(|&(c, q)| CommodityQuantity { commodity: c.into(), quantity: q }).collect(),
    }
}

const INJECTING: &[(&str, u32)] =
    &[("syringe_1ml", 10), ("alcohol_swab", 10), ("sterile_water", 2), ("condom_external", 2)];

/// The default kit templates.
pub fn default_kits() -> Vec<KitTemplate> {
    let women: Vec<(&str, u32)> =
        INJECTING.iter().copied().chain([("hygiene_kit", 1), ("pregnancy_test", 1), ("condom_internal", 2)]).collect();
    vec![
        kit("injecting", "Injecting kit", INJECTING),
        kit("smoking", "Smoking kit", &[("smoking_pipe", 1), ("mouthpiece", 2), ("foil", 5), ("condom_external", 2)]),
        kit(
            "nightlife",
            "Nightlife kit",
            &[("condom_external", 3), ("lubricant", 2), ("earplugs", 1), ("leaflet", 1), ("drug_test_strip", 2)],
        ),
        kit("women", "Women's kit", &women),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kits_use_only_catalogue_commodities() {
        let codes: Vec<String> = default_commodities().into_iter().map(|c| c.code).collect();
        for kit in default_kits() {
            for item in kit.items {
                assert!(codes.contains(&item.commodity), "{} in {}", item.commodity, kit.code);
            }
        }
    }
}
