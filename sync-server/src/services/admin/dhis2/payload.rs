//! The numbers of an indicator set placed where a mapping says, per site (one DHIS2
//! organisation unit each), and written as DHIS2 `dataValueSets` JSON or as an ADX message.
//! A suppressed number is never written: it is listed as held back instead, and so is a number
//! that cannot be computed (no estimate to divide by).

use super::mapping::{Mapping, Target};
use super::period::Period;
use crate::services::reports::sets::SetReport;
use serde::Serialize;

/// One value for DHIS2.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct OutValue {
    pub site: String,
    pub org_unit: String,
    pub indicator: String,
    /// The table cell, `dimension=category;…`, empty for the indicator's own number.
    pub cell: String,
    pub data_element: String,
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category_option_combo: Option<String>,
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribute_option_combo: Option<String>,
    pub value: String,
}

/// A mapped number not sent, and why.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct HeldBack {
    pub site: String,
    pub indicator: String,
    pub cell: String,
    /// `suppressed` (under 5 people while small numbers are hidden) or `not_computable`.
    pub reason: String,
}

/// A number of the set no mapping row sends.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct Unmapped {
    pub indicator: String,
    pub cell: String,
}

pub fn cell_text(cell: &[(String, String)]) -> String {
    cell.iter().map(|(d, c)| format!("{d}={c}")).collect::<Vec<_>>().join(";")
}

/// A number as DHIS2 takes it: whole numbers without a decimal point.
fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 { format!("{}", v as i64) } else { format!("{v}") }
}

/// The value of `target` in `report`: `Ok(Some)` a number, `Ok(None)` suppressed, `Err` none.
fn lookup(report: &SetReport, target: &Target) -> Result<Option<f64>, ()> {
    let indicator = report.get(&target.indicator).ok_or(())?;
    if target.cell.is_empty() {
        return match (indicator.value, indicator.suppressed) {
            (Some(v), _) => Ok(Some(v)),
            (None, true) => Ok(None),
            (None, false) => Err(()),
        };
    }
    let dimensions: Vec<&String> = target.cell.iter().map(|(d, _)| d).collect();
    let keys: Vec<&String> = target.cell.iter().map(|(_, c)| c).collect();
    let table = indicator.tables.iter().find(|t| t.dimensions.iter().collect::<Vec<_>>() == dimensions).ok_or(())?;
    let cell = table.cells.iter().find(|c| c.keys.iter().collect::<Vec<_>>() == keys).ok_or(())?;
    match (cell.value, cell.suppressed) {
        (Some(v), _) => Ok(Some(v)),
        (None, true) => Ok(None),
        (None, false) => Err(()),
    }
}

/// The values of every site's report, placed by the mapping, and those held back.
pub fn place(mapping: &Mapping, per_site: &[(String, String, SetReport)]) -> (Vec<OutValue>, Vec<HeldBack>) {
    let mut values = Vec::new();
    let mut held = Vec::new();
    for (site, org_unit, report) in per_site {
        for target in &mapping.targets {
            let cell = cell_text(&target.cell);
            match lookup(report, target) {
                Ok(Some(v)) => values.push(OutValue {
                    site: site.clone(),
                    org_unit: org_unit.clone(),
                    indicator: target.indicator.clone(),
                    cell,
                    data_element: target.data_element.clone(),
                    category_option_combo: target.category_option_combo.clone(),
                    attribute_option_combo: target.attribute_option_combo.clone(),
                    value: number(v),
                }),
                Ok(None) => held.push(HeldBack {
                    site: site.clone(),
                    indicator: target.indicator.clone(),
                    cell,
                    reason: "suppressed".into(),
                }),
                Err(()) => held.push(HeldBack {
                    site: site.clone(),
                    indicator: target.indicator.clone(),
                    cell,
                    reason: "not_computable".into(),
                }),
            }
        }
    }
    (values, held)
}

/// The set's numbers (each indicator, each table cell) that the mapping does not send.
pub fn unmapped(mapping: &Mapping, report: &SetReport) -> Vec<Unmapped> {
    let mapped: Vec<(String, String)> =
        mapping.targets.iter().map(|t| (t.indicator.clone(), cell_text(&t.cell))).collect();
    let mut out = Vec::new();
    for indicator in &report.indicators {
        let mut all = vec![String::new()];
        // Tables by site or month are not mapped (org units and periods say it).
        let mappable = |t: &&crate::services::reports::sets::Table| {
            t.dimensions.iter().all(|d| report.dimensions.iter().any(|o| &o.key == d && o.kind == "categories"))
        };
        for table in indicator.tables.iter().filter(mappable) {
            for cell in &table.cells {
                let pairs: Vec<(String, String)> =
                    table.dimensions.iter().cloned().zip(cell.keys.iter().cloned()).collect();
                all.push(cell_text(&pairs));
            }
        }
        for cell in all {
            if !mapped.contains(&(indicator.key.clone(), cell.clone())) {
                out.push(Unmapped { indicator: indicator.key.clone(), cell });
            }
        }
    }
    out
}

/// The `dataValueSets` JSON: the data set and period once, org unit and period on every value
/// (DHIS2's bulk form).
pub fn data_value_set(mapping: &Mapping, period: &Period, values: &[OutValue]) -> serde_json::Value {
    let data_values: Vec<serde_json::Value> = values
        .iter()
        .map(|v| {
            let mut out = serde_json::json!({
                "dataElement": v.data_element, "period": period.dhis2, "orgUnit": v.org_unit, "value": v.value,
            });
            if let Some(coc) = &v.category_option_combo {
                out["categoryOptionCombo"] = coc.clone().into();
            }
            if let Some(aoc) = &v.attribute_option_combo {
                out["attributeOptionCombo"] = aoc.clone().into();
            }
            out
        })
        .collect();
    serde_json::json!({"dataSet": mapping.data_set, "period": period.dhis2, "dataValues": data_values})
}

/// XML text with `&`, `<`, `>` and quotes escaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

/// The ADX message (IHE QRPH ADX, namespace `urn:ihe:qrph:adx:2015`): one `group` per org unit
/// and attribute option combo, each `dataValue` carrying its category option combo as an
/// attribute (DHIS2 reads identifiers as UIDs when imported with `idScheme=UID`).
pub fn adx(mapping: &Mapping, period: &Period, values: &[OutValue], exported: &str) -> String {
    // (org unit, attribute option combo) → its values, in first-seen order.
    type Group<'a> = ((String, Option<String>), Vec<&'a OutValue>);
    let mut groups: Vec<Group> = Vec::new();
    for v in values {
        let key = (v.org_unit.clone(), v.attribute_option_combo.clone());
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(v),
            None => groups.push((key, vec![v])),
        }
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!("<adx xmlns=\"urn:ihe:qrph:adx:2015\" exported=\"{}\">\n", escape(exported)));
    for ((org_unit, aoc), members) in groups {
        out.push_str(&format!(
            "  <group dataSet=\"{}\" orgUnit=\"{}\" period=\"{}\"",
            escape(&mapping.data_set),
            escape(&org_unit),
            escape(&period.adx)
        ));
        if let Some(aoc) = aoc {
            out.push_str(&format!(" attributeOptionCombo=\"{}\"", escape(&aoc)));
        }
        out.push_str(">\n");
        for v in members {
            out.push_str(&format!("    <dataValue dataElement=\"{}\"", escape(&v.data_element)));
            if let Some(coc) = &v.category_option_combo {
                out.push_str(&format!(" categoryOptionCombo=\"{}\"", escape(coc)));
            }
            out.push_str(&format!(" value=\"{}\"/>\n", escape(&v.value)));
        }
        out.push_str("  </group>\n");
    }
    out.push_str("</adx>\n");
    out
}
