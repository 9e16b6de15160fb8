//! A small, hand-counted data set for the indicator tests and the dashboard's browser test:
//! October 2026 at the two demo sites, with the edge cases the reports must get right (a client
//! seen at both sites, a reversed distribution, a deleted contact, an anonymous tally, records
//! just outside the period, and one conflict between two tablets).
//!
//! The expected figures are written next to the data in [`EXPECTED`] and were counted by hand.

use crate::{SITE_A, SITE_B, SimDevice, TestServer};
use anyhow::Result;
use outpost_core::{Collection, RecordId};
use serde_json::{Value, json};

/// First and last day of the fixture period.
pub const FROM: &str = "2026-10-01";
pub const TO: &str = "2026-10-31";

/// Indicator values with small-cell suppression on (`None` = suppressed) and off.
pub const EXPECTED: &[(&str, Option<f64>, f64)] = &[
    ("people_reached", Some(7.0), 7.0),
    ("new_clients", None, 4.0),
    ("returning_clients", None, 3.0),
    ("reached_with_package", None, 2.0),
    ("contacts", Some(19.0), 19.0),
    ("tally_people", Some(7.0), 7.0),
    ("secondary_distribution", Some(1.0), 1.0),
    ("needle_syringes_distributed", Some(80.0), 80.0),
    ("syringes_returned", Some(25.0), 25.0),
    ("return_rate", Some(31.3), 31.3),
    ("syringes_per_pwid_per_year", Some(0.5), 0.5),
    ("nsp_people", None, 3.0),
    ("nsp_regular_access", None, 3.0),
    ("condoms_distributed", Some(37.0), 37.0),
    ("naloxone_distributed", Some(1.0), 1.0),
    ("overdose_reversals", None, 1.0),
    ("tests_done", None, 3.0),
    ("tests_reactive", None, 2.0),
    ("linked_to_care", None, 1.0),
    ("referrals_issued", None, 2.0),
    ("referrals_completed", None, 1.0),
    ("ost_referrals", None, 1.0),
];

/// The devices that wrote the data (all synced).
pub struct Fixture {
    pub a: SimDevice,
    pub a2: SimDevice,
    pub b: SimDevice,
}

fn at(day: &str) -> String {
    format!("{day}T10:00:00Z")
}

fn contact(d: &SimDevice, client: Option<RecordId>, day: &str, setting: &str, services: &[&str]) -> Result<RecordId> {
    let mut fields = json!({"setting": setting, "occurred_at": at(day), "services": services});
    if let Some(c) = client {
        fields["client_id"] = json!(c.to_string());
    }
    d.create(Collection::Contacts, fields)
}

fn line(d: &SimDevice, contact: RecordId, commodity: &str, quantity: u32) -> Result<RecordId> {
    d.create(
        Collection::DistributionLines,
        json!({"contact_id": contact.to_string(), "commodity": commodity, "quantity": quantity}),
    )
}

fn client(
    d: &SimDevice,
    uic: &str,
    gender: &str,
    birth_year: Option<u16>,
    first_seen: &str,
    groups: &[&str],
) -> Result<RecordId> {
    let mut fields: Value =
        json!({"uic": uic, "gender": gender, "first_seen_at": at(first_seen), "key_groups": groups});
    if let Some(y) = birth_year {
        fields["birth_year"] = json!(y);
    }
    d.create(Collection::Clients, fields)
}

/// Writes the data set through three simulated tablets and syncs everything.
pub async fn load(server: &TestServer) -> Result<Fixture> {
    let a = SimDevice::enroll(server, SITE_A).await?;
    let a2 = SimDevice::enroll(server, SITE_A).await?;
    let b = SimDevice::enroll(server, SITE_B).await?;

    // Clients: c1–c3 first seen in 2025 (returning), c4–c7 in October (new).
    let c1 = client(&a, "ANBO105", "man", Some(2005), "2025-03-01", &["injects_drugs"])?;
    let c2 = client(&a, "ANBO190", "man", Some(1990), "2025-04-01", &["injects_drugs"])?;
    let c3 = client(&a, "ANBO180", "man", Some(1980), "2025-05-01", &[])?;
    let c4 = client(&a, "ANBO170", "man", Some(1970), "2026-10-04", &["injects_drugs"])?;
    let c5 = client(&a, "ANBO208", "woman", Some(2008), "2026-10-05", &["sex_work"])?;
    let c6 = client(&b, "ANBO295", "woman", Some(1995), "2026-10-06", &["injects_drugs"])?;
    let c7 = client(&b, "ANBO101", "non_binary", None, "2026-10-07", &[])?;

    // Site A: eight contacts in October.
    let k = contact(&a, Some(c1), "2026-10-02", "window", &["kit", "counselling", "testing"])?;
    line(&a, k, "syringe_1ml", 10)?;
    line(&a, k, "condom_external", 2)?;
    a.create(Collection::TestResults, json!({"contact_id": k.to_string(), "client_id": c1.to_string(), "test": "hiv_rapid", "result": "non_reactive"}))?;
    let k = contact(&a, Some(c1), "2026-10-12", "window", &["kit"])?;
    line(&a, k, "syringe_1ml", 10)?;
    a.create(Collection::SharpsReturns, json!({"contact_id": k.to_string(), "count": 15}))?;
    let k = contact(&a, Some(c1), "2026-10-25", "window", &["kit"])?;
    line(&a, k, "syringe_1ml", 10)?;
    a.create(
        Collection::OverdoseReports,
        json!({"contact_id": k.to_string(), "naloxone_doses": 1, "emergency_called": true, "stayed_with_person": true, "outcome": "survived"}),
    )?;
    // The same overdose reported again, as by a second tablet before they synced: still one.
    a.create(
        Collection::OverdoseReports,
        json!({"contact_id": k.to_string(), "naloxone_doses": 2, "emergency_called": true, "stayed_with_person": true, "outcome": "survived"}),
    )?;
    let k = contact(&a, Some(c2), "2026-10-03", "fixed_site", &["kit", "testing", "referral"])?;
    line(&a, k, "syringe_2ml", 5)?;
    line(&a, k, "needle", 5)?;
    a.create(
        Collection::TestResults,
        json!({"contact_id": k.to_string(), "client_id": c2.to_string(), "test": "hcv_rapid", "result": "reactive", "linked_to_care": true}),
    )?;
    a.create(
        Collection::Referrals,
        json!({"contact_id": k.to_string(), "client_id": c2.to_string(), "target": "ost", "status": "attended", "status_at": at("2026-10-10")}),
    )?;
    let k = contact(&a, Some(c2), "2026-10-20", "fixed_site", &["kit"])?;
    line(&a, k, "naloxone_nasal", 1)?;
    a.create(Collection::SharpsReturns, json!({"contact_id": k.to_string(), "count": 10}))?;
    let conflicted = contact(&a, Some(c3), "2026-10-08", "fixed_site", &["kit"])?;
    line(&a, conflicted, "condom_external", 10)?;
    let k = contact(&a, Some(c4), "2026-10-04", "fixed_site", &["kit"])?;
    let given = line(&a, k, "syringe_1ml", 10)?;
    a.create(
        Collection::DistributionLines,
        json!({"contact_id": k.to_string(), "commodity": "syringe_1ml", "quantity": 10, "reverses": given.to_string()}),
    )?;
    contact(&a, Some(c5), "2026-10-05", "fixed_site", &["information"])?;

    // Outside the period, and a deleted contact: none of these count.
    let k = contact(&a, Some(c2), "2026-09-28", "fixed_site", &["kit"])?;
    line(&a, k, "syringe_1ml", 100)?;
    contact(&a, Some(c3), "2026-11-01", "fixed_site", &["kit"])?;
    let gone = contact(&a, Some(c3), "2026-10-09", "fixed_site", &["kit"])?;
    a.with(|s| s.delete(Collection::Contacts, gone))?;

    // Site A stock: a delivery, then stock going out otherwise than to clients (quantities are
    // positive, the kind gives the direction; a count correction carries its sign).
    a.create(
        Collection::StockMovements,
        json!({"commodity": "syringe_1ml", "quantity": 1000, "kind": "received", "occurred_at": at("2026-10-01")}),
    )?;
    for (kind, quantity) in [("transfer_out", 50), ("expired_damaged", 20), ("count_correction", -5)] {
        a.create(
            Collection::StockMovements,
            json!({"commodity": "syringe_1ml", "quantity": quantity, "kind": kind, "occurred_at": at("2026-10-02")}),
        )?;
    }
    // Five survey responses (one with free text, which is never reported).
    for (i, answer) in ["very_well", "very_well", "very_well", "well", "well"].iter().enumerate() {
        a.create(
            Collection::SurveyResponses,
            json!({"survey_id": "cbm_default", "survey_version": 1, "occurred_at": at(&format!("2026-10-1{i}")),
                   "answers": {"q1": answer, "q7": ["ost", "legal_aid"], "q8": "longer opening hours please"}}),
        )?;
    }

    // Site B: c1 seen here too, c6, c7, one anonymous contact, and a festival tally.
    let k = contact(&b, Some(c1), "2026-10-15", "street_outreach", &["kit"])?;
    line(&b, k, "syringe_1ml", 20)?;
    b.update(Collection::Contacts, k, json!({"collecting_for": 3}))?;
    let k = contact(&b, Some(c6), "2026-10-06", "street_outreach", &["kit", "information", "testing", "referral"])?;
    line(&b, k, "syringe_1ml", 10)?;
    line(&b, k, "condom_external", 5)?;
    b.create(
        Collection::TestResults,
        json!({"contact_id": k.to_string(), "client_id": c6.to_string(), "test": "hiv_rapid", "result": "reactive", "linked_to_care": false}),
    )?;
    b.create(
        Collection::Referrals,
        json!({"contact_id": k.to_string(), "client_id": c6.to_string(), "target": "hcv_treatment", "status": "issued", "status_at": at("2026-10-06")}),
    )?;
    contact(&b, Some(c7), "2026-10-07", "street_outreach", &["information"])?;
    let k = contact(&b, None, "2026-10-16", "nightlife", &["kit"])?;
    line(&b, k, "syringe_1ml", 5)?;
    b.create(
        Collection::GroupTallies,
        json!({"setting": "nightlife", "event_name": "Autumn festival", "occurred_at": at("2026-10-18"),
               "people": [{"gender": "woman", "age_band": "15_19", "count": 3}, {"gender": "man", "age_band": "20_24", "count": 4}],
               "items": [{"commodity": "condom_external", "quantity": 20}, {"commodity": "syringe_1ml", "quantity": 5}]}),
    )?;

    a.sync().await?;
    b.sync().await?;
    // One conflict: two tablets at site A change the same note of the same contact.
    a2.sync().await?;
    a.update(Collection::Contacts, conflicted, json!({"note": "asked about OST"}))?;
    a2.update(Collection::Contacts, conflicted, json!({"note": "asked about HCV treatment"}))?;
    a.sync().await?;
    a2.sync().await?;
    a.sync().await?;
    Ok(Fixture { a, a2, b })
}

/// A programme's contact questions as XLSForm sheets (`drug_use`, English and Russian): where
/// the client usually uses (one choice) and, for those who use in the street, on how many of the
/// last 30 days they injected (0 to 30, with the form's own message). Nothing is required, so a
/// contact can be saved without them; not in the window quick-log.
pub fn contact_questions() -> Vec<outpost_core::forms::xlsform::Sheet> {
    use outpost_core::forms::xlsform::Sheet;
    let rows = |rows: &[&[&str]]| rows.iter().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    vec![
        Sheet {
            name: "survey".into(),
            rows: rows(&[
                &[
                    "type",
                    "name",
                    "label::English (en)",
                    "label::Русский (ru)",
                    "relevant",
                    "constraint",
                    "constraint_message::English (en)",
                    "constraint_message::Русский (ru)",
                ],
                &[
                    "select_one place",
                    "where_used",
                    "Where do you usually use?",
                    "Где вы обычно употребляете?",
                    "",
                    "",
                    "",
                    "",
                ],
                &[
                    "integer",
                    "days_injected",
                    "On how many of the last 30 days did you inject?",
                    "Сколько дней из последних 30 вы кололись?",
                    "${where_used} = 'street'",
                    ". >= 0 and . <= 30",
                    "Between 0 and 30.",
                    "От 0 до 30.",
                ],
            ]),
        },
        Sheet {
            name: "choices".into(),
            rows: rows(&[
                &["list_name", "name", "label::English (en)", "label::Русский (ru)"],
                &["place", "home", "At home", "Дома"],
                &["place", "street", "In the street", "На улице"],
                &["place", "other", "Somewhere else", "В другом месте"],
            ]),
        },
        Sheet {
            name: "settings".into(),
            rows: rows(&[
                &[
                    "form_id",
                    "version",
                    "form_title::English (en)",
                    "form_title::Русский (ru)",
                    "default_language",
                    "outpost_kind",
                ],
                &[
                    "drug_use",
                    "1",
                    "Drug use questions",
                    "Вопросы об употреблении",
                    "English (en)",
                    "contact_questions",
                ],
            ]),
        },
    ]
}
