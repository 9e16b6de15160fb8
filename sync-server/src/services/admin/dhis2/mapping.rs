//! The mapping an admin imports to send an indicator set to DHIS2: a CSV file saying which
//! data element (and category option combo, attribute option combo) each number of the set
//! goes to, which DHIS2 organisation unit each site is, and the data set. Read with the `csv`
//! crate and checked against the set and the sites; every problem is reported with its row, and
//! nothing is saved unless every row is right.
//!
//! ```text
//! kind,key,cell,uid,category_option_combo,attribute_option_combo
//! data_set,,,aOutpostKP1,,aMechanism1
//! org_unit,Drop-in centre,,aSiteDropIn,,
//! value,kp_prev,,aKpPrevTot1,,
//! value,kp_prev,kp_type=pwid;testing_status=known_positive,aKpPrevReac,aCocPwidKnP,
//! ```
//!
//! `cell` is empty for the indicator's own number, or names one cell of one of its tables
//! (`dimension=category`, `;` between dimensions, in any order). The attribute option combo of
//! the `data_set` row applies to every value without one of its own.

use crate::services::reports::sets::{Dimension, IndicatorSet};
use outpost_core::SiteId;
use outpost_core::schema::FieldError;
use std::collections::BTreeMap;

/// The largest mapping file accepted.
pub const MAX_MAPPING_BYTES: usize = 1024 * 1024;
/// The most rows a mapping may have.
pub const MAX_MAPPING_ROWS: usize = 20_000;

/// The header a mapping starts with.
pub const HEADER: [&str; 6] = ["kind", "key", "cell", "uid", "category_option_combo", "attribute_option_combo"];

/// Where one number of the set goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub indicator: String,
    /// (dimension, category) pairs in the table's dimension order; empty for the indicator.
    pub cell: Vec<(String, String)>,
    pub data_element: String,
    pub category_option_combo: Option<String>,
    pub attribute_option_combo: Option<String>,
}

/// A checked mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    pub data_set: String,
    pub org_units: BTreeMap<SiteId, String>,
    pub targets: Vec<Target>,
}

/// Whether `uid` has the shape of a DHIS2 identifier: 11 letters and digits, a letter first.
pub fn is_uid(uid: &str) -> bool {
    uid.len() == 11
        && uid.bytes().all(|b| b.is_ascii_alphanumeric())
        && uid.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
}

fn problem(row: usize, field: &str, code: &'static str, message: String) -> FieldError {
    FieldError { field: format!("row {row}: {field}"), code, message }
}

/// The cell a `cell` text names, in the order of a table of the indicator; or why it names none.
fn cell_of(set: &IndicatorSet, indicator: &str, text: &str) -> Result<Vec<(String, String)>, String> {
    let Some(definition) = set.indicator(indicator) else { return Err(String::new()) };
    if text.trim().is_empty() {
        return Ok(vec![]);
    }
    let mut pairs = BTreeMap::new();
    for part in text.split(';') {
        let Some((dimension, category)) = part.split_once('=') else {
            return Err(format!("{part:?} is not dimension=category"));
        };
        if pairs.insert(dimension.trim().to_string(), category.trim().to_string()).is_some() {
            return Err(format!("dimension {:?} is named twice", dimension.trim()));
        }
    }
    let tables: Vec<&Vec<String>> = definition.tables.iter().collect();
    let Some(table) = tables.iter().find(|t| t.len() == pairs.len() && t.iter().all(|d| pairs.contains_key(d))) else {
        let shapes: Vec<String> = tables.iter().map(|t| t.join(" × ")).collect();
        return Err(format!(
            "{indicator} has no table by {}; its tables: {}",
            pairs.keys().cloned().collect::<Vec<_>>().join(" × "),
            if shapes.is_empty() { "none".to_string() } else { shapes.join(", ") }
        ));
    };
    if table.iter().any(|d| matches!(set.dimensions.get(d), Some(Dimension::Site { .. } | Dimension::Month { .. }))) {
        return Err(
            "tables by site or month are not mapped: each site is its own org unit, each period its own send".into()
        );
    }
    let mut out = Vec::new();
    for dimension in table.iter() {
        let category = pairs.get(dimension).cloned().unwrap_or_default();
        if let Some(Dimension::Categories { categories, otherwise, .. }) = set.dimensions.get(dimension) {
            let known: Vec<&str> =
                categories.iter().map(|c| c.key.as_str()).chain(otherwise.iter().map(|o| o.key.as_str())).collect();
            if !known.contains(&category.as_str()) {
                return Err(format!("{category:?} is not a category of {dimension} ({})", known.join(", ")));
            }
        }
        out.push((dimension.clone(), category));
    }
    Ok(out)
}

/// Reads and checks a mapping for `set`, with the organisation's sites (id, name).
pub fn parse(set: &IndicatorSet, sites: &[(SiteId, String)], text: &str) -> Result<Mapping, Vec<FieldError>> {
    if text.len() > MAX_MAPPING_BYTES {
        return Err(vec![problem(0, "file", "too_large", format!("a mapping is at most {MAX_MAPPING_BYTES} bytes"))]);
    }
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|s| s.trim().to_string()).collect(),
        Err(e) => return Err(vec![problem(1, "header", "unreadable", format!("the file cannot be read as CSV: {e}"))]),
    };
    if header != HEADER {
        return Err(vec![problem(1, "header", "wrong_header", format!("the first row must be {}", HEADER.join(",")))]);
    }
    let mut errors = Vec::new();
    let mut data_set: Option<(usize, String, Option<String>)> = None;
    let mut org_units: BTreeMap<SiteId, String> = BTreeMap::new();
    let mut org_rows: BTreeMap<String, usize> = BTreeMap::new();
    let mut targets: Vec<(usize, Target)> = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let row = i + 2;
        if i >= MAX_MAPPING_ROWS {
            errors.push(problem(
                row,
                "file",
                "too_many_rows",
                format!("a mapping has at most {MAX_MAPPING_ROWS} rows"),
            ));
            break;
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(problem(row, "row", "unreadable", format!("cannot be read: {e}")));
                continue;
            }
        };
        let field = |n: usize| record.get(n).map(str::trim).unwrap_or_default().to_string();
        let (kind, key, cell, uid, coc, aoc) = (field(0), field(1), field(2), field(3), field(4), field(5));
        let optional_uid = |name: &str, value: &str, errors: &mut Vec<FieldError>| -> Option<String> {
            if value.is_empty() {
                return None;
            }
            if !is_uid(value) {
                errors.push(problem(
                    row,
                    name,
                    "malformed_uid",
                    format!("{value:?} is not a DHIS2 identifier (11 letters and digits, a letter first)"),
                ));
            }
            Some(value.to_string())
        };
        if !is_uid(&uid) {
            errors.push(problem(
                row,
                "uid",
                "malformed_uid",
                format!("{uid:?} is not a DHIS2 identifier (11 letters and digits, a letter first)"),
            ));
        }
        match kind.as_str() {
            "data_set" => {
                let aoc = optional_uid("attribute_option_combo", &aoc, &mut errors);
                if let Some((first, _, _)) = &data_set {
                    errors.push(problem(
                        row,
                        "kind",
                        "duplicate",
                        format!("a second data_set row (the first is row {first})"),
                    ));
                } else {
                    data_set = Some((row, uid, aoc));
                }
            }
            "org_unit" => {
                let site = sites.iter().find(|(id, name)| name == &key || id.to_string() == key);
                match site {
                    None => errors.push(problem(row, "key", "unknown_site", format!("no site is named {key:?}"))),
                    Some((id, name)) => {
                        if org_units.contains_key(id) {
                            errors.push(problem(
                                row,
                                "key",
                                "duplicate",
                                format!("site {name:?} is given an org unit twice"),
                            ));
                        } else if let Some(other) = org_rows.get(&uid) {
                            errors.push(problem(
                                row,
                                "uid",
                                "duplicate",
                                format!("org unit {uid} is already site of row {other}"),
                            ));
                        } else {
                            org_rows.insert(uid.clone(), row);
                            org_units.insert(*id, uid);
                        }
                    }
                }
            }
            "value" => {
                if set.indicator(&key).is_none() {
                    let known: Vec<&str> = set.indicators.iter().map(|d| d.key.as_str()).collect();
                    errors.push(problem(
                        row,
                        "key",
                        "unknown_indicator",
                        format!("{key:?} is not an indicator of {} ({})", set.name, known.join(", ")),
                    ));
                    continue;
                }
                let coc = optional_uid("category_option_combo", &coc, &mut errors);
                let aoc = optional_uid("attribute_option_combo", &aoc, &mut errors);
                match cell_of(set, &key, &cell) {
                    Ok(cell) => targets.push((
                        row,
                        Target {
                            indicator: key,
                            cell,
                            data_element: uid,
                            category_option_combo: coc,
                            attribute_option_combo: aoc,
                        },
                    )),
                    Err(why) => errors.push(problem(row, "cell", "unknown_cell", why)),
                }
            }
            other => errors.push(problem(
                row,
                "kind",
                "unknown_kind",
                format!("{other:?} is not data_set, org_unit or value"),
            )),
        }
    }
    let Some((_, data_set_uid, default_aoc)) = data_set else {
        errors.push(problem(
            0,
            "data_set",
            "missing",
            "no data_set row: the mapping must name the DHIS2 data set".into(),
        ));
        return Err(errors);
    };
    if targets.is_empty() && errors.is_empty() {
        errors.push(problem(0, "value", "missing", "no value row: the mapping sends nothing".into()));
    }
    // Each number goes to one place, and each place receives one number.
    let mut sources: BTreeMap<(String, Vec<(String, String)>), usize> = BTreeMap::new();
    let mut places: BTreeMap<(String, Option<String>, Option<String>), usize> = BTreeMap::new();
    for (row, t) in &mut targets {
        if t.attribute_option_combo.is_none() {
            t.attribute_option_combo = default_aoc.clone();
        }
        if let Some(first) = sources.insert((t.indicator.clone(), t.cell.clone()), *row) {
            let what = if t.cell.is_empty() { "its total".to_string() } else { format!("cell {:?}", t.cell) };
            errors.push(problem(
                *row,
                "key",
                "duplicate",
                format!("{} {what} is mapped twice (row {first} too)", t.indicator),
            ));
        }
        let place = (t.data_element.clone(), t.category_option_combo.clone(), t.attribute_option_combo.clone());
        if let Some(first) = places.insert(place, *row) {
            errors.push(problem(
                *row,
                "uid",
                "duplicate_target",
                format!("data element {} with these combos is the target of row {first} too", t.data_element),
            ));
        }
    }
    if errors.is_empty() {
        Ok(Mapping { data_set: data_set_uid, org_units, targets: targets.into_iter().map(|(_, t)| t).collect() })
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::reports::sets;

    fn sites() -> Vec<(SiteId, String)> {
        vec![
            (SiteId(uuid::Uuid::from_u128(1)), "Drop-in centre".into()),
            (SiteId(uuid::Uuid::from_u128(2)), "Street team".into()),
        ]
    }

    fn kp() -> &'static IndicatorSet {
        sets::find("pepfar_kp_prev").unwrap_or_else(|| &sets::registry()[0])
    }

    const GOOD: &str = "kind,key,cell,uid,category_option_combo,attribute_option_combo
data_set,,,aOutpostKP1,,aMechanism1
org_unit,Drop-in centre,,aSiteDropIn,,
value,kp_prev,,aKpPrevTot1,,
value,kp_prev,testing_status=known_positive;kp_type=pwid,aKpPrevReac,aCocPwidKnP,
value,kp_prev,kp_type=tg,aKpPrevType,aCocTgType1,bMechanism2
";

    #[test]
    fn a_good_mapping_is_read_in_table_order_with_the_data_sets_attribute_combo() {
        let m = parse(kp(), &sites(), GOOD).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(m.data_set, "aOutpostKP1");
        assert_eq!(m.org_units.values().collect::<Vec<_>>(), ["aSiteDropIn"]);
        assert_eq!(m.targets.len(), 3);
        assert_eq!(
            m.targets[1].cell,
            vec![
                ("kp_type".to_string(), "pwid".to_string()),
                ("testing_status".to_string(), "known_positive".to_string())
            ]
        );
        assert_eq!(m.targets[1].attribute_option_combo.as_deref(), Some("aMechanism1"), "the data set's");
        assert_eq!(m.targets[2].attribute_option_combo.as_deref(), Some("bMechanism2"), "its own");
    }

    #[test]
    fn every_bad_row_is_named_and_nothing_is_kept() {
        let cases: &[(&str, &str)] = &[
            ("kind,key\n", "wrong_header"),
            (
                "kind,key,cell,uid,category_option_combo,attribute_option_combo\norg_unit,Drop-in centre,,aSiteDropIn,,\nvalue,kp_prev,,aKpPrevTot1,,\n",
                "missing",
            ),
            (&GOOD.replace("value,kp_prev,,aKpPrevTot1", "value,kp_prevv,,aKpPrevTot1"), "unknown_indicator"),
            (&GOOD.replace("aKpPrevTot1", "1KpPrevTot1"), "malformed_uid"),
            (&GOOD.replace("aKpPrevTot1", "short"), "malformed_uid"),
            (&GOOD.replace("kp_type=tg", "kp_type=robots"), "unknown_cell"),
            (&GOOD.replace("kp_type=tg", "sex=female"), "unknown_cell"),
            (&GOOD.replace("org_unit,Drop-in centre", "org_unit,Drop in"), "unknown_site"),
            (&format!("{GOOD}value,kp_prev,,aKpPrevTot2,,\n"), "duplicate"),
            (&format!("{GOOD}value,kp_prev,kp_type=fsw,aKpPrevTot1,,\n"), "duplicate_target"),
            (&format!("{GOOD}org_unit,Street team,,aSiteDropIn,,\n"), "duplicate"),
            (&format!("{GOOD}data_set,,,aOutpostKP2,,\n"), "duplicate"),
            (&format!("{GOOD}site,x,,aOutpostKP2,,\n"), "unknown_kind"),
            (&format!("{GOOD}value,kp_prev\n"), "unreadable"),
        ];
        for (text, code) in cases {
            let errors = parse(kp(), &sites(), text).err().unwrap_or_default();
            assert!(errors.iter().any(|e| e.code == *code), "{code} expected for:\n{text}\ngot {errors:?}");
            assert!(errors.iter().all(|e| e.field.starts_with("row ")), "{errors:?}");
        }
        let big = "x".repeat(MAX_MAPPING_BYTES + 1);
        assert!(parse(kp(), &sites(), &big).err().is_some_and(|e| e[0].code == "too_large"));
    }

    #[test]
    fn uids_have_dhis2s_shape() {
        assert!(is_uid("aOutpostKP1") && is_uid("HllvX50cXC0"));
        assert!(!is_uid("1OutpostKP1") && !is_uid("aOutpostKP") && !is_uid("aOutpost-P1") && !is_uid("aOutpostKP12"));
    }
}
