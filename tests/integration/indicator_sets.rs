//! The indicator sets (the programme's own and the donors') against the hand-counted fixture on
//! both backends: every set's numbers, disaggregation tables and suppression, a known-positive
//! person in the next month, a merge counted once, and the refusals.

use outpost_core::Collection;
use outpost_server::services::accounts::Role;
use outpost_server::settings::Settings;
use outpost_tests::fixtures::{self, EXPECTED, FROM, TO};
use outpost_tests::{Backend, SITE_A, SITE_B, TestServer, WebClient};
use serde_json::{Value, json};

on_both_backends!(every_indicator_set_counts_the_fixture_as_counted_by_hand);

const SETS: &str = "/api/v1/dashboard/indicator-sets";

fn indicator<'a>(report: &'a Value, key: &str) -> &'a Value {
    report["indicators"].as_array().and_then(|all| all.iter().find(|i| i["key"] == key)).unwrap_or(&Value::Null)
}

fn value(report: &Value, key: &str) -> Option<f64> {
    indicator(report, key)["value"].as_f64()
}

/// The cells of an indicator's table by `dimensions`, as ("key|key", value).
fn cells(report: &Value, key: &str, dimensions: &[&str]) -> Vec<(String, Value)> {
    indicator(report, key)["tables"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["dimensions"] == json!(dimensions)))
        .and_then(|t| t["cells"].as_array())
        .map(|cells| {
            cells
                .iter()
                .map(|c| {
                    let keys: Vec<&str> =
                        c["keys"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
                    (keys.join("|"), c["value"].clone())
                })
                .collect()
        })
        .unwrap_or_default()
}

fn client_id(records: &[outpost_server_store::records::SnapshotRow], uic: &str) -> String {
    records
        .iter()
        .find(|r| r.collection == "clients" && r.state.fields.get("uic").is_some_and(|f| f.value == json!(uic)))
        .map(|r| r.id.to_string())
        .unwrap_or_default()
}

async fn every_indicator_set_counts_the_fixture_as_counted_by_hand(backend: Backend) -> anyhow::Result<()> {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let fixture = fixtures::load(&server).await?;
    let web = WebClient::logged_in(&server, "coord", Role::Coordinator, &[SITE_A, SITE_B]).await?;
    let period = format!("from={FROM}&to={TO}");
    let set = |key: &str, suppress: bool| format!("{SETS}/{key}?{period}&suppress={suppress}");

    let list = web.get_json(SETS).await?;
    let keys: Vec<&str> = list.as_array().into_iter().flatten().filter_map(|s| s["key"].as_str()).collect();
    assert_eq!(keys, ["programme", "who_nsp", "global_fund", "pepfar_kp_prev", "unaids_gam"]);

    // The programme's own set gives the overview's numbers, suppressed the same way.
    let on = web.get_json(&set("programme", true)).await?;
    let off = web.get_json(&set("programme", false)).await?;
    for (key, shown, raw) in EXPECTED {
        assert_eq!(value(&on, key), *shown, "{key} with suppression: {}", indicator(&on, key));
        assert_eq!(value(&off, key), Some(*raw), "{key} without: {}", indicator(&off, key));
    }
    assert_eq!(indicator(&on, "syringes_per_pwid_per_year")["coverage"], "low");
    assert_eq!(indicator(&on, "syringes_per_pwid_per_year")["target"], 300.0);
    let bands = cells(&off, "people_reached", &["age_band_5"]);
    let ones: Vec<&str> = bands.iter().filter(|(_, v)| v.as_f64() == Some(1.0)).map(|(k, _)| k.as_str()).collect();
    assert_eq!(ones, ["15_19", "20_24", "30_34", "35_39", "45_49", "50_plus", "unknown"], "{bands:?}");
    assert_eq!(bands.len(), 10, "every band is listed, empty ones as 0: {bands:?}");
    assert_eq!(cells(&off, "people_reached", &["month"]), [("2026-10".to_string(), json!(7.0))], "by month");
    assert_eq!(
        cells(&off, "people_reached", &["gender"]),
        [
            ("woman", 2.0),
            ("man", 4.0),
            ("trans_woman", 0.0),
            ("trans_man", 0.0),
            ("non_binary", 1.0),
            ("not_stated", 0.0)
        ]
        .map(|(k, v)| (k.to_string(), json!(v)))
    );
    assert!(
        cells(&on, "people_reached", &["gender"]).iter().all(|(k, v)| v.is_null() || v == &json!(0.0) || k.is_empty()),
        "4 men, 2 women, 1 non-binary: all small cells hidden"
    );

    // WHO/UNODC/UNAIDS: the four people who inject drugs (c1, c2, c4, c6); c4's syringes were
    // taken back, so three were given needle-syringes, each in the period's one 30-day part.
    let who = web.get_json(&set("who_nsp", false)).await?;
    assert_eq!(value(&who, "pwid_reached"), Some(4.0));
    assert_eq!(
        cells(&who, "pwid_reached", &["gender"]),
        [("female", 1.0), ("male", 3.0), ("other", 0.0), ("not_stated", 0.0)].map(|(k, v)| (k.to_string(), json!(v)))
    );
    assert_eq!(
        cells(&who, "pwid_reached", &["age"]),
        [("under_25", 1.0), ("25_plus", 3.0), ("unknown", 0.0)].map(|(k, v)| (k.to_string(), json!(v)))
    );
    assert_eq!(value(&who, "pwid_given_nsp"), Some(3.0));
    assert_eq!(value(&who, "pwid_regular_nsp"), Some(100.0));
    let coverage = indicator(&who, "pwid_nsp_coverage");
    assert_eq!((coverage["numerator"].as_f64(), coverage["denominator"].as_f64()), (Some(3.0), Some(2000.0)));
    assert_eq!((value(&who, "pwid_referred_ost"), value(&who, "ost_referrals")), (Some(1.0), Some(1.0)));
    assert_eq!((value(&who, "pwid_hiv_tested"), value(&who, "pwid_hiv_tested_share")), (Some(2.0), Some(50.0)));
    assert_eq!(
        cells(&who, "pwid_hcv_tested", &["hep_age"]).iter().find(|(k, _)| k == "30_49").map(|(_, v)| v.clone()),
        Some(json!(1.0))
    );
    assert_eq!(
        (value(&who, "syringes_per_pwid_per_year"), value(&who, "needle_syringes_distributed")),
        (Some(0.5), Some(80.0))
    );
    let with = web.get_json(&set("who_nsp", true)).await?;
    assert_eq!(
        indicator(&with, "pwid_hiv_tested_share")["suppressed"],
        true,
        "2 people: the share would give them away"
    );
    assert_eq!(indicator(&with, "pwid_hiv_tested_share")["numerator"], Value::Null);

    // Global Fund: the PWID package (needle-syringes, condoms, information or counselling) was
    // received by c1 and c6; c5 (sex work) had information but no condoms.
    let gf = web.get_json(&set("global_fund", false)).await?;
    assert_eq!(
        ["kp_1a", "kp_1b", "kp_1c", "kp_1d", "kp_3c", "kp_3d"].map(|k| value(&gf, k)),
        [Some(0.0), Some(0.0), Some(0.0), Some(2.0), Some(0.0), Some(2.0)]
    );
    assert_eq!(indicator(&gf, "kp_1d")["code"], "KP-1d");
    assert_eq!(
        cells(&gf, "kp_1d", &["gender"]),
        [("female", 1.0), ("male", 1.0), ("transgender", 0.0), ("other_not_stated", 0.0)]
            .map(|(k, v)| (k.to_string(), json!(v)))
    );

    // PEPFAR KP_PREV: c1, c2 and c6 were tested or had the testing service and got another
    // intervention; c4 (syringes taken back, no testing) and c5 (no testing) do not count.
    let kp = web.get_json(&set("pepfar_kp_prev", false)).await?;
    assert_eq!(value(&kp, "kp_prev"), Some(3.0));
    assert_eq!(
        cells(&kp, "kp_prev", &["kp_type"]),
        [("pwid", 3.0), ("tg", 0.0), ("fsw", 0.0), ("msm", 0.0)].map(|(k, v)| (k.to_string(), json!(v)))
    );
    let by_status = cells(&kp, "kp_prev", &["kp_type", "testing_status"]);
    assert_eq!(by_status.len(), 12, "4 key populations × 3 testing statuses: {by_status:?}");
    assert!(by_status.contains(&("pwid|newly_tested_or_referred".into(), json!(3.0))), "{by_status:?}");
    let hidden = web.get_json(&set("pepfar_kp_prev", true)).await?;
    assert_eq!((value(&hidden, "kp_prev"), indicator(&hidden, "kp_prev")["suppressed"].clone()), (None, json!(true)));

    // UNAIDS GAM, programme data.
    let gam = web.get_json(&set("unaids_gam", false)).await?;
    assert_eq!(
        [
            "prevention_reached_c",
            "prevention_reached_a",
            "prevention_reached_b",
            "pwid_hiv_tested",
            "pwid_hcv_reactive"
        ]
        .map(|k| value(&gam, k)),
        [Some(3.0), Some(1.0), Some(0.0), Some(2.0), Some(1.0)]
    );
    assert_eq!(value(&gam, "prevention_coverage_a"), None, "no site has a sex-work estimate");

    // The programme's own packages: for people who inject drugs, needle-syringes at a street
    // contact, or naloxone anywhere (c2); for sex workers, information (c5). A population it
    // writes no package for keeps the default; an empty list goes back to the defaults.
    let admin = WebClient::logged_in(&server, "packages-admin", Role::Admin, &[]).await?;
    let packages = json!({"packages": [
        {"population": "injects_drugs", "setting": "street_outreach", "requires": [[{"received": "needle_syringe"}]]},
        {"population": "injects_drugs", "requires": [[{"received": "naloxone"}]]},
        {"population": "sex_work", "requires": [[{"service": "information"}, {"service": "counselling"}]]},
    ]});
    let (status, body) = admin.post("/api/v1/dashboard/admin/packages", &packages).await?;
    assert_eq!((status, body["own"].as_array().map(Vec::len)), (200, Some(3)), "{body}");
    let own = web.get_json(&set("global_fund", false)).await?;
    assert_eq!(["kp_1c", "kp_1d"].map(|k| value(&own, k)), [Some(1.0), Some(3.0)]);
    let own = web.get_json(&set("programme", false)).await?;
    assert_eq!(value(&own, "reached_with_package"), Some(4.0), "c1, c2, c6 by their packages, c5 by hers");
    let overview = web.get_json(&format!("/api/v1/dashboard/indicators?{period}&suppress=false")).await?;
    assert_eq!(value(&overview, "reached_with_package"), Some(4.0), "the overview follows the same packages");
    for bad in [
        json!({"packages": [{"population": "msm", "requires": []}]}),
        json!({"packages": [{"population": "msm", "requires": [[]]}]}),
        json!({"packages": [{"population": "robots", "requires": [[{"service": "information"}]]}]}),
        json!({"packages": [{"population": "msm", "requires": [[{"service": "juggling"}]]}]}),
        json!({"packages": [{"population": "msm", "requires": [[{"service": "information"}]]}, {"population": "msm", "requires": [[{"received": "condom"}]]}]}),
    ] {
        let (status, body) = admin.post("/api/v1/dashboard/admin/packages", &bad).await?;
        assert_eq!(status, 422, "{bad}: {body}");
    }
    let (status, _) = web.post("/api/v1/dashboard/admin/packages", &json!({"packages": []})).await?;
    assert_eq!(status, 403, "coordinators do not change packages");
    assert_eq!(
        admin.get_json("/api/v1/dashboard/admin/packages").await?["own"].as_array().map(Vec::len),
        Some(3),
        "refusals changed nothing"
    );
    let (status, body) = admin.post("/api/v1/dashboard/admin/packages", &json!({"packages": []})).await?;
    assert_eq!((status, body["own"].clone()), (200, json!([])));
    assert_eq!(value(&web.get_json(&set("global_fund", false)).await?, "kp_1d"), Some(2.0), "back to the defaults");
    assert!(server.storage.audit_log().await?.iter().filter(|r| r.action == "packages.change").count() == 2);

    // In November c6, whose HIV test in October was reactive, comes back for information only:
    // known positive, one intervention is enough.
    let records = server.storage.snapshot().await?;
    let c6 = client_id(&records, "ANBO295");
    fixture.b.create(
        Collection::Contacts,
        json!({"client_id": c6, "setting": "street_outreach", "occurred_at": "2026-11-03T10:00:00Z", "services": ["information"]}),
    )?;
    fixture.b.sync().await?;
    let november = web.get_json(&format!("{SETS}/pepfar_kp_prev?from=2026-11-01&to=2026-11-30&suppress=false")).await?;
    assert_eq!(value(&november, "kp_prev"), Some(1.0));
    let statuses = cells(&november, "kp_prev", &["kp_type", "testing_status"]);
    assert!(statuses.contains(&("pwid|known_positive".into(), json!(1.0))), "{statuses:?}");

    // c4 merged into c1: one person who injects drugs fewer, in every set.
    let (c1, c4) = (client_id(&records, "ANBO105"), client_id(&records, "ANBO170"));
    let (status, body) = web.post("/api/v1/dashboard/admin/merges", &json!({"keep": c1, "merge": c4})).await?;
    assert_eq!(status, 200, "{body}");
    let merged = web.get_json(&set("who_nsp", false)).await?;
    assert_eq!(value(&merged, "pwid_reached"), Some(3.0));
    let merged = web.get_json(&set("programme", false)).await?;
    assert_eq!((value(&merged, "people_reached"), value(&merged, "new_clients")), (Some(6.0), Some(3.0)));
    // The merge reached the server before this contact of the merged record (a tablet offline
    // since October): it counts for the one person, not as someone new.
    let late = fixture.a.create(
        Collection::Contacts,
        json!({"client_id": c4, "setting": "fixed_site", "occurred_at": "2026-10-29T10:00:00Z", "services": ["kit"]}),
    )?;
    fixture.a.create(
        Collection::DistributionLines,
        json!({"contact_id": late.to_string(), "commodity": "syringe_1ml", "quantity": 4}),
    )?;
    fixture.a.sync().await?;
    let after = web.get_json(&set("who_nsp", false)).await?;
    assert_eq!((value(&after, "pwid_reached"), value(&after, "pwid_given_nsp")), (Some(3.0), Some(3.0)), "c4 is c1");
    assert_eq!(value(&after, "needle_syringes_distributed"), Some(84.0));
    let after = web.get_json(&set("programme", false)).await?;
    assert_eq!(value(&after, "people_reached"), Some(6.0));

    // Refusals: an unknown set, a period in the future, a malformed date, another site.
    let (status, body) = web.get(&format!("{SETS}/pepfar?{period}")).await?;
    assert!(status == 404 && body.contains("pepfar_kp_prev"), "{status} {body}");
    let (status, body) = web.get(&format!("{SETS}/who_nsp?from=2099-01-01&to=2099-01-31")).await?;
    assert!(status == 400 && body.contains("future"), "{status} {body}");
    let (status, body) = web.get(&format!("{SETS}/who_nsp?from=2026-13-01")).await?;
    assert!(status == 400 && body.contains("from"), "{status} {body}");
    let one = WebClient::logged_in(&server, "coord_a", Role::Coordinator, &[SITE_A]).await?;
    let (status, _) = one.get(&format!("{SETS}/who_nsp?{period}&site={}", fixture.b.site_id())).await?;
    assert_eq!(status, 403);
    Ok(())
}
