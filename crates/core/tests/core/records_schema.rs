//! The typed records and the validation schema describe the same fields: a typed record
//! serialises to fields the schema accepts, and every declared field exists in the typed form.

use outpost_core::Collection;
use outpost_core::catalogue::{default_commodities, default_kits};
use outpost_core::records::*;
use outpost_core::schema::validate_fields;
use outpost_core::uic::UicScheme;
use outpost_core::{RecordId, SiteId};
use serde::Serialize;
use serde_json::{Map, Value};

fn id(n: u8) -> RecordId {
    RecordId(uuid::Uuid::from_bytes([n; 16]))
}

fn fields<T: Serialize>(record: &T) -> Map<String, Value> {
    match serde_json::to_value(record) {
        Ok(Value::Object(map)) => map.into_iter().filter(|(_, v)| !v.is_null()).collect(),
        other => panic!("not an object: {other:?}"),
    }
}

fn check<T: Serialize>(collection: Collection, record: &T) {
    let map = fields(record);
    let all = match serde_json::to_value(record) {
        Ok(Value::Object(all)) => all,
        _ => Map::new(),
    };
    assert_eq!(validate_fields(collection, &map, true, &UicScheme::central_asia()), Ok(()), "{collection}: {map:?}");
    for spec in collection.fields() {
        assert!(all.contains_key(spec.name), "{collection}.{} is declared but not in the typed record", spec.name);
    }
    for key in all.keys() {
        assert!(collection.fields().iter().any(|s| s.name == key), "{collection}.{key} is typed but not declared");
    }
}

const AT: &str = "2026-11-25T10:00:00Z";

#[test]
fn typed_records_match_the_schema() {
    check(
        Collection::Clients,
        &Client {
            uic: "MAIV287".into(),
            gender: Gender::Woman,
            birth_year: Some(1987),
            key_groups: vec![KeyGroup::InjectsDrugs],
            first_seen_site: Some(SiteId(uuid::Uuid::from_bytes([1; 16]))),
            first_seen_at: Some(AT.into()),
            merged_into: None,
        },
    );
    check(
        Collection::Contacts,
        &Contact {
            client_id: Some(id(1)),
            worker_id: None,
            setting: Setting::Window,
            occurred_at: AT.into(),
            services: vec![Service::Kit],
            collecting_for: 2,
            note: Some("asked about OST".into()),
            form_answers: [(
                "drug_use".to_string(),
                outpost_core::records::FormAnswers {
                    version: 1,
                    answers: [("where_used".to_string(), serde_json::json!("street"))].into_iter().collect(),
                },
            )]
            .into_iter()
            .collect(),
        },
    );
    check(
        Collection::DistributionLines,
        &DistributionLine { contact_id: id(1), commodity: "syringe_1ml".into(), quantity: 10, reverses: Some(id(2)) },
    );
    check(Collection::SharpsReturns, &SharpsReturn { contact_id: id(1), count: 9 });
    check(
        Collection::Referrals,
        &Referral {
            contact_id: id(1),
            client_id: Some(id(2)),
            target: ReferralTarget::Ost,
            status: ReferralStatus::Issued,
            status_at: AT.into(),
        },
    );
    check(
        Collection::TestResults,
        &TestResult {
            contact_id: id(1),
            client_id: None,
            test: TestKind::HcvRapid,
            result: TestOutcome::Reactive,
            linked_to_care: true,
            linked_at: Some(AT.into()),
        },
    );
    check(
        Collection::OverdoseReports,
        &OverdoseReport {
            contact_id: id(1),
            naloxone_doses: 2,
            emergency_called: true,
            stayed_with_person: true,
            outcome: OverdoseOutcome::Survived,
        },
    );
    check(
        Collection::GroupTallies,
        &GroupTally {
            setting: Setting::Nightlife,
            event_name: Some("Summer festival".into()),
            occurred_at: AT.into(),
            people: vec![TallyCell { gender: Gender::Man, age_band: AgeBand::From20To24, count: 14 }],
            items: vec![CommodityQuantity { commodity: "condom_external".into(), quantity: 40 }],
        },
    );
    check(
        Collection::StockMovements,
        &StockMovement {
            commodity: "naloxone_nasal".into(),
            quantity: 50,
            kind: StockKind::Received,
            bag: None,
            grant_code: Some("GF-2026".into()),
            batch: Some("B12".into()),
            expiry_date: Some("2028-01-31".into()),
            occurred_at: AT.into(),
        },
    );
    check(
        Collection::SurveyResponses,
        &SurveyResponse {
            survey_id: "cbm".into(),
            survey_version: 1,
            occurred_at: AT.into(),
            answers: [("q1".to_string(), Value::from(5))].into_iter().collect(),
        },
    );
    check(Collection::ClientMerges, &ClientMerge { from_client: id(1), into_client: id(2), undoes: None });
    check(Collection::ClientMerges, &ClientMerge { from_client: id(1), into_client: id(2), undoes: Some(id(3)) });
    check(
        Collection::Sites,
        &Site {
            name: "Drop-in centre".into(),
            pwid_estimate: Some(1200),
            population_estimates: [(outpost_core::records::KeyGroup::SexWork, 300)].into_iter().collect(),
            retired: true,
        },
    );
    // Every optional field filled, so that each declared field is seen in the typed record.
    for mut commodity in default_commodities() {
        commodity.names.insert("ru".into(), format!("{} (ru)", commodity.name));
        commodity.site_thresholds.insert(id(3).to_string(), 40);
        check(Collection::Commodities, &commodity);
    }
    for mut kit in default_kits() {
        kit.names.insert("uk".into(), format!("{} (uk)", kit.name));
        kit.key_groups = vec![outpost_core::records::KeyGroup::InjectsDrugs];
        kit.settings = vec![outpost_core::records::Setting::Nightlife];
        check(Collection::KitTemplates, &kit);
    }
}
