//! The dashboard API against the hand-counted fixture (both backends), the authorisation matrix
//! over every route, and attacks on sessions, logins and files.

use outpost_core::Collection;
use outpost_server::services::accounts::{self, Role};
use outpost_server::settings::Settings;
use outpost_server::time::now_ms;
use outpost_tests::fixtures::{self, EXPECTED, FROM, TO};
use outpost_tests::{Backend, SITE_A, SITE_B, SimDevice, TEST_PASSWORD, TestServer, WebClient};
use serde_json::{Value, json};

type Result = anyhow::Result<()>;

fn indicator<'a>(report: &'a Value, key: &str) -> &'a Value {
    report["indicators"].as_array().and_then(|all| all.iter().find(|i| i["key"] == key)).unwrap_or(&Value::Null)
}

fn breakdown(report: &Value, key: &str, dimension: &str) -> Vec<(String, Value)> {
    indicator(report, key)["breakdowns"]
        .as_array()
        .and_then(|b| b.iter().find(|b| b["dimension"] == dimension))
        .and_then(|b| b["rows"].as_array())
        .map(|rows| rows.iter().map(|r| (r["key"].as_str().unwrap_or("").to_string(), r["value"].clone())).collect())
        .unwrap_or_default()
}

async fn the_dashboard_reports_the_fixture(backend: Backend) -> Result {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let fixture = fixtures::load(&server).await?;
    let web = WebClient::logged_in(&server, "coord", Role::Coordinator, &[SITE_A, SITE_B]).await?;
    let period = format!("from={FROM}&to={TO}");

    let on = web.get_json(&format!("/api/v1/dashboard/indicators?{period}")).await?;
    let off = web.get_json(&format!("/api/v1/dashboard/indicators?{period}&suppress=false")).await?;
    for (key, suppressed_value, raw) in EXPECTED {
        let shown = indicator(&on, key);
        match suppressed_value {
            Some(v) => assert_eq!(shown["value"].as_f64(), Some(*v), "{key} (suppression on): {shown}"),
            None => assert_eq!(
                (shown["value"].clone(), shown["suppressed"].clone()),
                (Value::Null, json!(true)),
                "{key} hidden"
            ),
        }
        assert_eq!(indicator(&off, key)["value"].as_f64(), Some(*raw), "{key} (suppression off)");
    }
    assert_eq!(indicator(&on, "syringes_per_pwid_per_year")["coverage"], "low");
    // The programme's target: WHO's 300 unless an admin sets its own (50–2000), audited.
    assert_eq!(indicator(&on, "syringes_per_pwid_per_year")["target"], 300.0);
    let admin = WebClient::logged_in(&server, "target-admin", Role::Admin, &[]).await?;
    let org = admin.get_json("/api/v1/dashboard/admin/organisation").await?;
    assert_eq!((org["nsp_target"].as_u64(), org["nsp_target_set"].as_bool()), (Some(300), Some(false)));
    let set_target = |target: Value| {
        json!({"name": org["name"], "default_language": org["default_language"], "uic_scheme": org["uic_scheme"],
               "retention_days": org["retention_days"], "nsp_target": target})
    };
    for bad in [json!(10), json!(5000)] {
        let (status, body) = admin.post("/api/v1/dashboard/admin/organisation", &set_target(bad)).await?;
        assert_eq!((status, body["details"][0]["field"].as_str()), (422, Some("nsp_target")), "{body}");
    }
    let (status, body) = admin.post("/api/v1/dashboard/admin/organisation", &set_target(json!(250))).await?;
    assert_eq!((status, body["nsp_target"].as_u64(), body["nsp_target_set"].as_bool()), (200, Some(250), Some(true)));
    let own = web.get_json(&format!("/api/v1/dashboard/indicators?{period}")).await?;
    assert_eq!(indicator(&own, "syringes_per_pwid_per_year")["target"], 250.0);
    let (status, body) = admin.post("/api/v1/dashboard/admin/organisation", &set_target(Value::Null)).await?;
    assert_eq!((status, body["nsp_target"].as_u64()), (200, Some(300)), "back to the default: {body}");
    // A client seen at both sites counts once in the total and once at each site.
    let sites: Vec<f64> = breakdown(&off, "people_reached", "site").iter().filter_map(|(_, v)| v.as_f64()).collect();
    assert_eq!(sites.iter().sum::<f64>(), 8.0, "5 at the drop-in centre + 3 on the street, c1 at both: {sites:?}");
    // Five-year bands (the donors' disaggregation), age at the period's year: one person in each.
    let bands = breakdown(&off, "people_reached", "age_band_5");
    let mut keys: Vec<&str> = bands.iter().map(|(k, _)| k.as_str()).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["15_19", "20_24", "30_34", "35_39", "45_49", "50_plus", "unknown"], "{bands:?}");
    assert!(bands.iter().all(|(_, v)| v.as_f64() == Some(1.0)), "{bands:?}");
    let genders = breakdown(&off, "people_reached", "gender");
    assert!(
        genders.contains(&("man".into(), json!(4.0))) && genders.contains(&("woman".into(), json!(2.0))),
        "{genders:?}"
    );
    assert!(breakdown(&on, "people_reached", "gender").iter().all(|(_, v)| v.is_null()), "cells under 5 are hidden");
    let settings = breakdown(&on, "contacts", "setting");
    assert!(settings.contains(&("nightlife".into(), json!(8.0))), "1 contact + 7 tallied people: {settings:?}");
    let contact_sites: f64 = breakdown(&on, "contacts", "site").iter().filter_map(|(_, v)| v.as_f64()).sum();
    assert_eq!(contact_sites, 19.0, "tallies count at their site too");
    let groups = breakdown(&off, "people_reached", "key_group");
    assert!(groups.contains(&("injects_drugs".into(), json!(4.0))), "{groups:?}");

    let trends = web.get_json(&format!("/api/v1/dashboard/trends?{period}")).await?;
    assert_eq!(trends["months"][0]["month"], "2026-10");
    assert_eq!(trends["months"][0]["contacts"], 12);
    assert_eq!(trends["months"][0]["syringes_returned"], 25);
    assert_eq!(trends["months"][0]["needle_syringes"], 80, "lines and tallies, reversal subtracted");
    let by_site: Vec<i64> =
        trends["by_site"].as_array().into_iter().flatten().filter_map(|s| s["needle_syringes"].as_i64()).collect();
    assert_eq!(by_site, vec![40, 40], "each site's needle-syringes, the street team's tally included");

    // Survey results follow the published definition: five responses of the default form; the
    // q1 answers (3 and 2) are small cells, q7's (5 each) are shown; free text never.
    let surveys = web.get_json(&format!("/api/v1/dashboard/surveys?{period}")).await?;
    let form = &surveys["forms"][0];
    assert_eq!(
        (form["form_id"].clone(), form["responses"].clone(), form["hidden"].clone()),
        (json!("cbm_default"), json!(5), json!(false))
    );
    let choice = |report: &serde_json::Value, question: &str, name: &str| {
        report["forms"][0]["questions"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|q| q["name"] == question)
            .and_then(|q| q["choices"].as_array().and_then(|c| c.iter().find(|c| c["name"] == name).cloned()))
            .map(|c| c["count"].clone())
    };
    assert_eq!(choice(&surveys, "q1", "very_well"), Some(json!(null)), "3 is a small cell");
    assert_eq!(choice(&surveys, "q1", "very_badly"), Some(json!(0)), "every choice of the list is listed");
    assert_eq!(choice(&surveys, "q7", "ost"), Some(json!(5)));
    assert_eq!(surveys["forms"][0]["questions"][0]["label"]["Русский (ru)"], "Как сотрудники отнеслись к вам сегодня?");
    let unsuppressed = web.get_json(&format!("/api/v1/dashboard/surveys?{period}&suppress=false")).await?;
    assert_eq!(choice(&unsuppressed, "q1", "very_well"), Some(json!(3)));
    let text = surveys.to_string() + &unsuppressed.to_string();
    assert!(!text.contains("q8"), "a free-text question is not reported at all");
    assert!(!text.contains("opening hours"), "free text is never sent");
    let one_site = web.get_json(&format!("/api/v1/dashboard/surveys?{period}&site={}", fixture.b.site_id())).await?;
    assert_eq!(one_site["forms"], json!([]), "no response at the street team: no form listed");

    let stock = web.get_json("/api/v1/dashboard/stock").await?;
    let level = stock["levels"]
        .as_array()
        .and_then(|l| {
            l.iter().find(|l| l["commodity"] == "syringe_1ml" && l["site_id"] == fixture.a.site_id().to_string())
        })
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(
        level["level"], 795,
        "1000 received − 50 transferred out − 20 expired − 5 counted short − 130 given (one reversal): {level}"
    );

    let devices = web.get_json("/api/v1/dashboard/devices").await?;
    assert_eq!(devices.as_array().map(Vec::len), Some(3));

    // Exports: the period's contacts only (with a column per contact question of the programme:
    // one contact answered them), and the indicator report with suppressed cells.
    server.publish_xlsform(&fixtures::contact_questions()).await?;
    fixture.a.sync().await?;
    let answered = server
        .storage
        .snapshot()
        .await?
        .into_iter()
        .find(|r| {
            // One of the period's contacts: ids made in the same millisecond sort at random, so
            // the first by id may be one from outside the period or the deleted one.
            let in_october = r
                .state
                .fields
                .get("occurred_at")
                .and_then(|f| f.value.as_str())
                .is_some_and(|at| at.starts_with("2026-10"));
            r.collection == "contacts"
                && r.site_id == Some(fixture.a.site_id())
                && r.state.deleted.is_none()
                && in_october
        })
        .map(|r| r.id)
        .ok_or_else(|| anyhow::anyhow!("a contact at site A"))?;
    fixture.a.update(
        Collection::Contacts,
        answered,
        json!({"form_answers": {"drug_use": {"version": 1, "answers": {"where_used": "street", "days_injected": 4}}}}),
    )?;
    fixture.a.sync().await?;
    let (status, csv) = web.get(&format!("/api/v1/dashboard/export/contacts?{period}&format=csv")).await?;
    assert_eq!(status, 200);
    assert_eq!(csv.lines().count(), 13, "a header and 12 contacts:\n{csv}");
    assert!(csv.starts_with("contact_id,site,occurred_at,setting,client_code"));
    let header = csv.lines().next().unwrap_or_default();
    assert!(
        header.ends_with(",collecting_for,drug_use/where_used,drug_use/where_used:label,drug_use/days_injected"),
        "{header}"
    );
    let line = csv.lines().find(|l| l.starts_with(&answered.to_string())).unwrap_or_default();
    assert!(line.ends_with(",street,In the street,4"), "{line}");
    let (_, lines) = web.get(&format!("/api/v1/dashboard/export/distributions?{period}")).await?;
    assert_eq!(lines.lines().count(), 15, "a header and the period's 14 lines, the reversal included:\n{lines}");
    assert_eq!(
        lines.lines().filter(|l| !l.ends_with(',')).count(),
        2,
        "the header and the reversal name what they reverse"
    );
    let (_, report) = web.get(&format!("/api/v1/dashboard/export/indicators?{period}")).await?;
    assert!(report.contains("new_clients,,,<5,"), "{report}");
    // Survey responses: one column per choice question of the form, codes then labels; free text never.
    let (_, surveys) = web.get(&format!("/api/v1/dashboard/export/surveys?{period}")).await?;
    let header = surveys.lines().next().unwrap_or_default();
    assert!(
        header.starts_with(
            "response_id,site,occurred_at,form,form_version,cbm_default/q1,cbm_default/q1:label,cbm_default/q2,"
        ),
        "{header}"
    );
    assert!(!header.contains("q8") && !surveys.contains("opening hours"), "{surveys}");
    assert_eq!(surveys.lines().count(), 6, "a header and five responses:\n{surveys}");
    assert!(surveys.lines().nth(1).is_some_and(|l| l.contains(",very_well,Very well,")), "{surveys}");
    assert!(surveys.contains("ost legal_aid,Opioid substitution (OST); Legal aid"), "{surveys}");
    // Free text (a survey's text answer, a contact's note) is in no report and no export, with
    // suppression on or off (issue 18, item 5: a test that stays).
    for suppress in ["true", "false"] {
        let mut everything = String::new();
        for kind in outpost_server::services::reports::export::EXPORT_KINDS {
            let (status, body) =
                web.get(&format!("/api/v1/dashboard/export/{kind}?{period}&suppress={suppress}")).await?;
            assert_eq!(status, 200, "{kind}");
            everything.push_str(&body);
        }
        for report in ["indicators", "trends", "surveys"] {
            everything.push_str(
                &web.get_json(&format!("/api/v1/dashboard/{report}?{period}&suppress={suppress}")).await?.to_string(),
            );
        }
        for free_text in ["opening hours", "asked about"] {
            assert!(!everything.contains(free_text), "{free_text:?} reached a report or export (suppress={suppress})");
        }
    }
    let response = web
        .http
        .get(format!("{}/api/v1/dashboard/export/distributions?{period}&format=xlsx", server.url()))
        .header("cookie", web.cookie.clone().unwrap_or_default())
        .send()
        .await?;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-disposition"]
            .to_str()?
            .contains("outpost-distributions-2026-10-01-2026-10-31.xlsx")
    );
    assert!(response.bytes().await?.starts_with(b"PK"), "an XLSX file is a zip");

    // The conflict: both values, who and when; revert writes the losing value back.
    let open = web.get_json("/api/v1/dashboard/conflicts").await?;
    let conflicts = open.as_array().cloned().unwrap_or_default();
    assert_eq!(conflicts.len(), 1, "{open}");
    let conflict = &conflicts[0];
    assert_eq!(conflict["field"], "note");
    assert!(conflict["winner"]["device_id"].is_string() && conflict["loser"]["at_ms"].is_u64());
    // What the record is (the contact's client and date) and which tablets wrote the values.
    assert!(conflict["record"]["client_uic"].is_string(), "{conflict}");
    assert!(conflict["record"]["occurred_at"].as_str().is_some_and(|d| d.starts_with("2026-10")), "{conflict}");
    assert!(
        conflict["winner"]["device_name"].is_string() && conflict["loser"]["device_name"].is_string(),
        "{conflict}"
    );
    let loser = conflict["loser"]["value"].clone();
    let id = conflict["id"].as_i64().unwrap_or(0);
    // An action other than accept or revert is refused by name, and changes nothing.
    for bad in [json!({"action": "merge"}), json!({"action": "Revert"}), json!({}), json!({"action": 1})] {
        let (status, refused) = web.post(&format!("/api/v1/dashboard/conflicts/{id}/resolve"), &bad).await?;
        assert_eq!((status, refused["code"].clone()), (422, json!("invalid_body")), "{bad}: {refused}");
        assert!(refused["message"].as_str().is_some_and(|m| m.contains("action")), "{refused}");
    }
    assert_eq!(web.get_json("/api/v1/dashboard/conflicts").await?.as_array().map(Vec::len), Some(1));
    let (status, resolved) =
        web.post(&format!("/api/v1/dashboard/conflicts/{id}/resolve"), &json!({"action": "revert"})).await?;
    assert_eq!(status, 200, "{resolved}");
    assert_eq!(resolved["resolution"], "reverted");
    let (status, again) =
        web.post(&format!("/api/v1/dashboard/conflicts/{id}/resolve"), &json!({"action": "accept"})).await?;
    assert_eq!((status, again["code"].clone()), (409, json!("conflict")));
    assert_eq!(web.get_json("/api/v1/dashboard/conflicts").await?, json!([]));
    fixture.a.sync().await?;
    fixture.a2.sync().await?;
    let record_id: outpost_core::RecordId = conflict["record_id"].as_str().unwrap_or("").parse()?;
    for device in [&fixture.a, &fixture.a2] {
        let state =
            device.with(|s| s.get(Collection::Contacts, record_id))?.ok_or_else(|| anyhow::anyhow!("contact"))?;
        assert_eq!(state.values()["note"], loser, "every tablet receives the restored value");
    }
    outpost_tests::assert_converged(&server, &[&fixture.a, &fixture.a2]).await?;

    // Reports follow later changes: the projection catches up with every committed record.
    let late =
        fixture.a.create(Collection::Contacts, json!({"setting": "window", "occurred_at": "2026-10-30T12:00:00Z"}))?;
    fixture.a.create(
        Collection::DistributionLines,
        json!({"contact_id": late.to_string(), "commodity": "syringe_1ml", "quantity": 4}),
    )?;
    fixture.a.sync().await?;
    let later = web.get_json(&format!("/api/v1/dashboard/indicators?{period}")).await?;
    assert_eq!(indicator(&later, "contacts")["value"].as_f64(), Some(20.0));
    assert_eq!(indicator(&later, "needle_syringes_distributed")["value"].as_f64(), Some(84.0));

    // Exports, logins and resolutions are audited; the chain still verifies.
    let rows = server.storage.audit_log().await?;
    for action in ["login", "export", "conflict.resolve", "report.unsuppressed"] {
        assert!(rows.iter().any(|r| r.action == action), "{action} is audited");
    }
    outpost_server_store::audit::verify_audit_chain(&rows, server.storage.key()).map_err(|e| anyhow::anyhow!("{e}"))?;
    server.stop().await
}

on_both_backends!(the_dashboard_reports_the_fixture);

/// Who may call what. Every route of `ROUTES` must have a row: a new endpoint without one fails.
const MATRIX: &[(&str, &str, [u16; 8])] = &[
    // anonymous, device token, outreach worker, room staff, coordinator (site A), admin, coordinator of site B only, logged-out session
    ("get", "/healthz", [200, 200, 200, 200, 200, 200, 200, 200]),
    ("get", "/api/v1/openapi.json", [200, 200, 200, 200, 200, 200, 200, 200]),
    ("post", "/api/v1/enroll", [401, 401, 401, 401, 401, 401, 401, 401]),
    ("post", "/api/v1/sync/push", [401, 200, 401, 401, 401, 401, 401, 401]),
    ("get", "/api/v1/sync/pull", [401, 200, 401, 401, 401, 401, 401, 401]),
    ("post", "/api/v1/sync/restore", [401, 200, 401, 401, 401, 401, 401, 401]),
    ("post", "/api/v1/auth/login", [401, 401, 401, 401, 401, 401, 401, 401]),
    ("get", "/api/v1/auth/me", [401, 401, 200, 200, 200, 200, 200, 401]),
    ("post", "/api/v1/auth/logout", [401, 401, 204, 204, 204, 204, 204, 401]),
    ("get", "/api/v1/dashboard/sites", [401, 401, 403, 403, 200, 200, 200, 401]),
    ("get", "/api/v1/dashboard/indicators", [401, 401, 403, 403, 200, 200, 403, 401]),
    ("get", "/api/v1/dashboard/indicator-sets", [401, 401, 403, 403, 200, 200, 200, 401]),
    ("get", "/api/v1/dashboard/indicator-sets/{set}", [401, 401, 403, 403, 200, 200, 403, 401]),
    ("get", "/api/v1/dashboard/trends", [401, 401, 403, 403, 200, 200, 403, 401]),
    ("get", "/api/v1/dashboard/surveys", [401, 401, 403, 403, 200, 200, 403, 401]),
    ("get", "/api/v1/dashboard/stock", [401, 401, 403, 403, 200, 200, 403, 401]),
    ("get", "/api/v1/dashboard/devices", [401, 401, 403, 403, 200, 200, 200, 401]),
    ("get", "/api/v1/dashboard/conflicts", [401, 401, 403, 403, 200, 200, 403, 401]),
    ("post", "/api/v1/dashboard/conflicts/{id}/resolve", [401, 401, 403, 403, 404, 404, 404, 401]),
    ("get", "/api/v1/dashboard/export/{kind}", [401, 401, 403, 403, 200, 200, 403, 401]),
    ("get", "/api/v1/dashboard/audit", [401, 401, 403, 403, 403, 200, 403, 401]),
    // Forms are the organisation's: every coordinator and admin (an empty body is no workbook).
    ("get", "/api/v1/dashboard/forms", [401, 401, 403, 403, 200, 200, 200, 401]),
    ("post", "/api/v1/dashboard/forms/check", [401, 401, 403, 403, 422, 422, 422, 401]),
    ("post", "/api/v1/dashboard/forms/publish", [401, 401, 403, 403, 422, 422, 422, 401]),
    ("post", "/api/v1/dashboard/forms/preview", [401, 401, 403, 403, 422, 422, 422, 401]),
    ("post", "/api/v1/dashboard/forms/{form_id}/{version}/retire", [401, 401, 403, 403, 404, 404, 404, 401]),
    // Administration: organisation-wide changes are the admin's; a coordinator manages only
    // their own sites' tablets, codes and thresholds (coordb works at site B, the rows' site is A).
    ("get", "/api/v1/dashboard/admin/organisation", [401, 401, 403, 403, 200, 200, 200, 401]),
    ("post", "/api/v1/dashboard/admin/organisation", [401, 401, 403, 403, 403, 200, 403, 401]),
    ("get", "/api/v1/dashboard/admin/sites", [401, 401, 403, 403, 200, 200, 200, 401]),
    ("post", "/api/v1/dashboard/admin/sites", [401, 401, 403, 403, 403, 200, 403, 401]),
    ("post", "/api/v1/dashboard/admin/sites/{id}", [401, 401, 403, 403, 404, 404, 404, 401]),
    ("get", "/api/v1/dashboard/admin/catalogue", [401, 401, 403, 403, 200, 200, 200, 401]),
    ("post", "/api/v1/dashboard/admin/commodities", [401, 401, 403, 403, 403, 200, 403, 401]),
    ("post", "/api/v1/dashboard/admin/commodities/{id}", [401, 401, 403, 403, 403, 404, 403, 401]),
    ("post", "/api/v1/dashboard/admin/commodities/{id}/threshold", [401, 401, 403, 403, 404, 404, 403, 401]),
    ("post", "/api/v1/dashboard/admin/kits", [401, 401, 403, 403, 403, 200, 403, 401]),
    ("post", "/api/v1/dashboard/admin/kits/{id}", [401, 401, 403, 403, 403, 404, 403, 401]),
    ("post", "/api/v1/dashboard/admin/devices/{id}/revoke", [401, 401, 403, 403, 404, 404, 404, 401]),
    ("post", "/api/v1/dashboard/admin/devices/{id}/rename", [401, 401, 403, 403, 404, 404, 404, 401]),
    ("get", "/api/v1/dashboard/admin/enrolment-codes", [401, 401, 403, 403, 200, 200, 200, 401]),
    ("post", "/api/v1/dashboard/admin/enrolment-codes", [401, 401, 403, 403, 200, 200, 403, 401]),
    ("post", "/api/v1/dashboard/admin/enrolment-codes/{id}/cancel", [401, 401, 403, 403, 404, 404, 404, 401]),
    ("get", "/api/v1/dashboard/admin/users", [401, 401, 403, 403, 403, 200, 403, 401]),
    ("post", "/api/v1/dashboard/admin/users", [401, 401, 403, 403, 403, 200, 403, 401]),
    ("post", "/api/v1/dashboard/admin/users/{username}", [401, 401, 403, 403, 403, 404, 403, 401]),
    ("post", "/api/v1/dashboard/admin/users/{username}/password", [401, 401, 403, 403, 403, 404, 403, 401]),
    ("post", "/api/v1/dashboard/admin/users/{username}/totp", [401, 401, 403, 403, 403, 404, 403, 401]),
    ("post", "/api/v1/dashboard/admin/users/{username}/totp/remove", [401, 401, 403, 403, 403, 404, 403, 401]),
    ("post", "/api/v1/dashboard/admin/clients/erase", [401, 401, 403, 403, 403, 404, 403, 401]),
    // The duplicate review: coordinators review and merge their sites' records (unknown ones here).
    ("get", "/api/v1/dashboard/admin/duplicates", [401, 401, 403, 403, 200, 200, 200, 401]),
    ("get", "/api/v1/dashboard/admin/dhis2", [401, 401, 403, 403, 200, 200, 200, 401]),
    ("get", "/api/v1/dashboard/admin/packages", [401, 401, 403, 403, 403, 200, 403, 401]),
    ("post", "/api/v1/dashboard/admin/packages", [401, 401, 403, 403, 403, 200, 403, 401]),
    ("post", "/api/v1/dashboard/admin/dhis2/connection", [401, 401, 403, 403, 403, 200, 403, 401]),
    ("post", "/api/v1/dashboard/admin/dhis2/mappings/{set}", [401, 401, 403, 403, 403, 422, 403, 401]),
    ("get", "/api/v1/dashboard/admin/dhis2/{set}/preview", [401, 401, 403, 403, 422, 422, 403, 401]),
    ("get", "/api/v1/dashboard/admin/dhis2/{set}/export", [401, 401, 403, 403, 422, 422, 403, 401]),
    ("post", "/api/v1/dashboard/admin/dhis2/{set}/send", [401, 401, 403, 403, 422, 422, 422, 401]),
    ("post", "/api/v1/dashboard/admin/merges", [401, 401, 403, 403, 404, 404, 404, 401]),
    ("post", "/api/v1/dashboard/admin/merges/{id}/undo", [401, 401, 403, 403, 404, 404, 404, 401]),
    ("post", "/api/v1/dashboard/admin/duplicates/dismiss", [401, 401, 403, 403, 404, 404, 404, 401]),
    // Any logged-in user may change their own password (a wrong current one here).
    ("post", "/api/v1/auth/password", [401, 401, 403, 403, 403, 403, 403, 401]),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_every_role_as_the_matrix_says() -> Result {
    for (method, path) in outpost_server::http::routes() {
        assert!(MATRIX.iter().any(|(m, p, _)| *m == method && *p == path), "no authorisation row for {method} {path}");
    }
    let server = TestServer::start_on(Backend::Sqlite, Settings::default()).await?;
    let device = SimDevice::enroll(&server, SITE_A).await?;
    let token = device.with(|s| s.identity().map(|i| i.token.clone())).unwrap_or_default();
    let site_a = device.site_id();
    let mut sessions = Vec::new();
    for (name, role, sites) in [
        ("worker", Role::OutreachWorker, vec![SITE_A]),
        ("window", Role::RoomStaff, vec![SITE_A]),
        ("coord", Role::Coordinator, vec![SITE_A]),
        ("admin", Role::Admin, vec![]),
        ("coordb", Role::Coordinator, vec![SITE_B]),
    ] {
        sessions.push(WebClient::logged_in(&server, name, role, &sites).await?);
    }
    let mut ended = WebClient::logged_in(&server, "ended", Role::Admin, &[]).await?;
    ended.post("/api/v1/auth/logout", &json!({})).await?;
    ended.csrf = ended.csrf.take();

    let http = reqwest::Client::new();
    for (method, path, expected) in MATRIX {
        for (who, want) in expected.iter().enumerate() {
            // Each caller gets a fresh login for logout, so later rows still have a session.
            let concrete = path
                .replace("{id}", "999999")
                .replace("{username}", "999999")
                .replace("{kind}", "contacts")
                .replace("{set}", "who_nsp")
                .replace("{form_id}", "no_such_form")
                .replace("{version}", "1");
            let query =
                if concrete.starts_with("/api/v1/dashboard/") && *method == "get" && !concrete.ends_with("/audit") {
                    format!("?site={site_a}")
                } else if concrete == "/api/v1/sync/pull" {
                    "?after=0".to_string()
                } else {
                    String::new()
                };
            let url = format!("{}{concrete}{query}", server.url());
            let mut request = if *method == "post" { http.post(&url) } else { http.get(&url) };
            let body = match concrete.as_str() {
                "/api/v1/auth/login" => json!({"username": "nobody", "password": "wrong-password-123"}),
                "/api/v1/enroll" => {
                    json!({"code": "AAAA-BBBB-CCCC", "device_name": "x", "app_version": "1", "protocol": 1})
                }
                "/api/v1/sync/push" => json!({"ops": []}),
                "/api/v1/sync/restore" => json!({"acked_through": 0, "records": []}),
                p if p.ends_with("/resolve") => json!({"action": "accept"}),
                p if p.starts_with("/api/v1/dashboard/admin/sites") || p.ends_with("/rename") => {
                    json!({"name": format!("Matrix site {who}")})
                }
                p if p.starts_with("/api/v1/dashboard/admin/commodities") && p.ends_with("/threshold") => {
                    json!({"site": site_a, "threshold": 5})
                }
                p if p.starts_with("/api/v1/dashboard/admin/commodities") => json!({
                    "code": "matrix_item", "name": "Matrix item", "category": "other", "unit": "piece",
                    "units_per_pack": 1, "counts_as_needle_syringe": false
                }),
                p if p.starts_with("/api/v1/dashboard/admin/kits") => json!({
                    "code": "matrix_kit", "name": "Matrix kit", "items": [{"commodity": "syringe_1ml", "quantity": 1}]
                }),
                "/api/v1/dashboard/admin/enrolment-codes" => json!({"site": site_a, "valid_hours": 1}),
                "/api/v1/dashboard/admin/organisation" => json!({
                    "name": "Matrix programme", "default_language": "en",
                    "uic_scheme": outpost_core::uic::UicScheme::central_asia()
                }),
                "/api/v1/dashboard/admin/users" => {
                    json!({"username": format!("matrix-user-{who}"), "role": "outreach_worker", "sites": [site_a]})
                }
                p if p.starts_with("/api/v1/dashboard/admin/users/") => {
                    json!({"username": "999999", "role": "outreach_worker", "sites": []})
                }
                "/api/v1/dashboard/admin/clients/erase" => json!({"code": "NAVI185", "reason": "matrix"}),
                "/api/v1/dashboard/admin/merges" => {
                    json!({"keep": uuid::Uuid::now_v7(), "merge": uuid::Uuid::now_v7()})
                }
                "/api/v1/dashboard/admin/duplicates/dismiss" => {
                    json!({"a": uuid::Uuid::now_v7(), "b": uuid::Uuid::now_v7()})
                }
                "/api/v1/auth/password" => {
                    json!({"current_password": "not-the-password-1", "new_password": "a-brand-new-password-2"})
                }
                "/api/v1/dashboard/admin/packages" => json!({"packages": []}),
                "/api/v1/dashboard/admin/dhis2/connection" => {
                    json!({"url": "https://dhis2.example.org", "token": "d2pat_matrix"})
                }
                _ => json!({}),
            };
            if *method == "post" {
                request = request.json(&body);
            }
            if concrete.starts_with("/api/v1/sync/") {
                request = request.header("outpost-protocol", "1");
            }
            match who {
                1 => request = request.bearer_auth(&token),
                2..=6 => {
                    let mut client = &sessions[who - 2];
                    let fresh;
                    if concrete == "/api/v1/auth/logout" {
                        let mut c = WebClient::new(&server.url());
                        let name = ["worker", "window", "coord", "admin", "coordb"][who - 2];
                        c.login(name, TEST_PASSWORD, None).await?;
                        fresh = c;
                        client = &fresh;
                    }
                    request = request
                        .header("cookie", client.cookie.clone().unwrap_or_default())
                        .header("x-csrf-token", client.csrf.clone().unwrap_or_default());
                }
                7 => {
                    request = request
                        .header("cookie", ended.cookie.clone().unwrap_or_default())
                        .header("x-csrf-token", ended.csrf.clone().unwrap_or_default())
                }
                _ => {}
            }
            let status = request.send().await?.status().as_u16();
            assert_eq!(status, *want, "{method} {path} as caller #{who}");
        }
    }
    server.stop().await
}

/// The process's resident memory, in MiB (Linux).
fn resident_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kib| kib / 1024)
}

/// Behind the reverse proxy every connection comes from one address: with `--trusted-proxy` the
/// client's own address (from `X-Forwarded-For`) is what limits and the audit log count, so one
/// guesser does not lock everyone out; without it, the header is never believed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_each_client_is_limited_on_its_own() -> Result {
    let login = |url: String, client: &'static str, username: &'static str| async move {
        let reply = reqwest::Client::new()
            .post(format!("{url}/api/v1/auth/login"))
            .header("x-forwarded-for", format!("6.6.6.6, {client}"))
            .json(&json!({"username": username, "password": "not-the-password-1"}))
            .send()
            .await?;
        anyhow::Ok(reply.status().as_u16())
    };
    let proxied = Settings { trusted_proxies: vec!["127.0.0.1/32".parse()?], ..Settings::default() };
    let server = TestServer::start_on(Backend::Sqlite, proxied).await?;
    for _ in 0..10 {
        assert_eq!(login(server.url(), "198.51.100.7", "olena").await?, 401);
    }
    assert_eq!(login(server.url(), "198.51.100.7", "taras").await?, 429, "the guesser's address is locked");
    assert_eq!(login(server.url(), "198.51.100.8", "taras").await?, 401, "another client behind the proxy is not");
    let rows = server.storage.audit_log().await?;
    assert!(
        rows.iter().any(|r| r.action == "login.failed" && r.address.as_deref() == Some("198.51.100.8")),
        "the client's address is audited"
    );
    assert!(
        !rows.iter().any(|r| r.address.as_deref() == Some("6.6.6.6")),
        "what a client writes itself is never believed"
    );
    server.stop().await?;

    // Without a trusted proxy the header is ignored: changing it does not escape the limit.
    let server = TestServer::start_on(Backend::Sqlite, Settings::default()).await?;
    for n in 0..10 {
        let spoofed: &'static str = ["198.51.100.1", "198.51.100.2"][n % 2];
        assert_eq!(login(server.url(), spoofed, "olena").await?, 401);
    }
    assert_eq!(login(server.url(), "198.51.100.3", "taras").await?, 429);
    server.stop().await
}

/// Parallel wrong logins cannot pass the limit (each is counted before its password is checked),
/// and a flood of logins from many addresses checks passwords a bounded number at a time: memory
/// stays bounded (each check takes 19 MiB) and the server keeps answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_logins_are_limited_and_bounded_in_memory() -> Result {
    let server = TestServer::start_on(Backend::Sqlite, Settings::default()).await?;
    accounts::create_user(&server.storage, "olena", TEST_PASSWORD, Role::Coordinator, &[SITE_A.into()], now_ms())
        .await?;
    let login = |client: reqwest::Client, username: String, password: &'static str| {
        let url = format!("{}/api/v1/auth/login", server.url());
        async move {
            let reply = client.post(url).json(&json!({"username": username, "password": password})).send().await?;
            anyhow::Ok(reply.status().as_u16())
        }
    };
    let client = reqwest::Client::new();
    let replies =
        futures::future::join_all((0..30).map(|_| login(client.clone(), "olena".into(), "not-the-password-1"))).await;
    let statuses: Vec<u16> = replies.into_iter().collect::<anyhow::Result<_>>()?;
    let wrong = statuses.iter().filter(|s| **s == 401).count();
    assert!(wrong <= 10, "at most the limit of wrong passwords were checked: {statuses:?}");
    assert_eq!(wrong + statuses.iter().filter(|s| **s == 429).count(), 30, "{statuses:?}");

    // 200 logins from 100 addresses (127.0.0.2…): only the permitted number of checks at once.
    let clients: Vec<reqwest::Client> = (0..100u8)
        .map(|n| reqwest::Client::builder().local_address(std::net::IpAddr::from([127, 0, 0, n + 2])).build())
        .collect::<std::result::Result<_, _>>()?;
    let before = resident_mib();
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(before));
    let watching = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                peak.fetch_max(resident_mib(), std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        })
    };
    let mut logins = Vec::new();
    for (n, client) in clients.iter().enumerate() {
        for k in 0..2 {
            logins.push(login(client.clone(), format!("guess-{n}-{k}"), "also-not-the-password"));
        }
    }
    let statuses: Vec<u16> = futures::future::join_all(logins).await.into_iter().collect::<anyhow::Result<_>>()?;
    watching.abort();
    assert!(statuses.iter().all(|s| [401, 429, 503].contains(s)), "{statuses:?}");
    eprintln!(
        "flood: {} checked (401), {} refused; memory grew by {} MiB",
        statuses.iter().filter(|s| **s == 401).count(),
        statuses.iter().filter(|s| **s != 401).count(),
        peak.load(std::sync::atomic::Ordering::Relaxed).saturating_sub(before)
    );
    let grown = peak.load(std::sync::atomic::Ordering::Relaxed).saturating_sub(before);
    let bound = 19 * outpost_server::http::limits::password_check_permits() as u64 + 150;
    assert!(grown < bound, "memory grew by {grown} MiB under 200 parallel logins (bound {bound} MiB)");
    let (status, _) = WebClient::new(&server.url()).get("/healthz").await?;
    assert_eq!(status, 200, "still serving");
    server.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_resist_guessing_and_forged_requests() -> Result {
    let server = TestServer::start_on(Backend::Sqlite, Settings::default()).await?;
    accounts::create_user(&server.storage, "olena", TEST_PASSWORD, Role::Coordinator, &[SITE_A.into()], now_ms())
        .await?;
    let mut web = WebClient::new(&server.url());
    // Brute force: ten wrong passwords, then even the right one is refused for a while.
    for _ in 0..10 {
        let (status, body) = web.login("olena", "not-the-password-1", None).await?;
        assert_eq!((status, body["code"].clone()), (401, json!("login_failed")));
    }
    let (status, body) = web.login("olena", TEST_PASSWORD, None).await?;
    assert_eq!((status, body["code"].clone()), (429, json!("rate_limited")));
    let lockouts = server.storage.audit_log().await?.into_iter().filter(|r| r.action == "login.lockout").count();
    assert_eq!(lockouts, 2, "the lockout of the account and of the address, each once");
    // An unknown name gets the same answer as a wrong password.
    let mut other = WebClient::new(&server.url());
    let server2 = TestServer::start_on(Backend::Sqlite, Settings::default()).await?;
    other.base = server2.url();
    let (status, body) = other.login("nobody-here", "whatever-password", None).await?;
    assert_eq!((status, body["code"].clone()), (401, json!("login_failed")));
    server2.stop().await?;

    // CSRF: a POST with the cookie but without the page's token is refused.
    let server = TestServer::start_on(Backend::Sqlite, Settings::default()).await?;
    let mut web = WebClient::logged_in(&server, "coord", Role::Coordinator, &[SITE_A]).await?;
    let csrf = web.csrf.take();
    let (status, body) = web.post("/api/v1/auth/logout", &json!({})).await?;
    assert_eq!((status, body["code"].clone()), (403, json!("csrf_failed")));
    web.csrf = Some("forged".into());
    assert_eq!(web.post("/api/v1/auth/logout", &json!({})).await?.0, 403);
    web.csrf = csrf;
    assert_eq!(web.get("/api/v1/auth/me").await?.0, 200, "the session survived the forged requests");
    assert_eq!(web.post("/api/v1/auth/logout", &json!({})).await?.0, 204);
    assert_eq!(web.get("/api/v1/auth/me").await?.0, 401, "a logged-out cookie opens nothing");

    // Bad filters get specific errors.
    let web = WebClient::logged_in(&server, "coord2", Role::Coordinator, &[SITE_A]).await?;
    for (query, code) in [
        ("from=2026-13-01", 400),
        ("from=2026-10-10&to=2026-10-01", 400),
        ("site=not-a-uuid", 400),
        ("unknown=1", 400),
        ("suppress=maybe", 400),
        ("from=2000-01-01&to=2026-01-01", 400),
    ] {
        let (status, text) = web.get(&format!("/api/v1/dashboard/indicators?{query}")).await?;
        assert_eq!(status, code, "{query}: {text}");
        assert!(text.contains("invalid_query"), "{text}");
    }
    let (status, _) = web.get("/api/v1/dashboard/export/passwords").await?;
    assert_eq!(status, 404);

    // Path traversal in the dashboard's files never leaves its directory.
    for path in
        ["/dashboard/../../../../etc/passwd", "/dashboard/..%2f..%2f..%2fetc%2fpasswd", "/dashboard/%2e%2e/Cargo.toml"]
    {
        let response = reqwest::get(format!("{}{path}", server.url())).await?;
        let text = response.text().await?;
        assert!(!text.contains("root:") && !text.contains("[workspace]"), "{path} leaked a file");
    }
    server.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_factor_sql_like_text_and_worker_lifecycle() -> Result {
    let server = TestServer::start_on(Backend::Sqlite, Settings::default()).await?;
    // TOTP: the password alone is not enough; a code works once.
    accounts::create_user(&server.storage, "admin", TEST_PASSWORD, Role::Admin, &[], now_ms()).await?;
    let secret = accounts::enable_totp(&server.storage, "admin").await?;
    let key = accounts::totp_secret_bytes(&secret).ok_or_else(|| anyhow::anyhow!("secret"))?;
    let mut web = WebClient::new(&server.url());
    let (status, body) = web.login("admin", TEST_PASSWORD, None).await?;
    assert_eq!((status, body["code"].clone()), (401, json!("totp_required")));
    let (status, _) = web.login("admin", TEST_PASSWORD, Some("000000")).await?;
    assert_eq!(status, 401);
    let code = accounts::totp_now(&key, now_ms()).ok_or_else(|| anyhow::anyhow!("code"))?;
    let (status, body) = web.login("admin", TEST_PASSWORD, Some(&code)).await?;
    assert_eq!(status, 200, "{body}");
    let (status, _) = WebClient::new(&server.url()).login("admin", TEST_PASSWORD, Some(&code)).await?;
    assert_eq!(status, 401, "a code is used once");

    // Text that looks like SQL is stored and exported verbatim, and harms nothing.
    let device = SimDevice::enroll(&server, SITE_A).await?;
    let evil = "Robert'); DROP TABLE records; -- \" OR 1=1";
    let contact = device.create(
        Collection::Contacts,
        json!({"setting": "window", "occurred_at": "2026-10-03T10:00:00Z", "note": evil}),
    )?;
    device.sync().await?;
    let stored = server.storage.record("contacts", contact).await?.ok_or_else(|| anyhow::anyhow!("stored"))?;
    assert_eq!(stored.values()["note"], json!(evil));
    let (status, _) =
        web.get("/api/v1/dashboard/export/contacts?from=2026-10-01&to=2026-10-31&site=%27%20OR%201%3D1").await?;
    assert_eq!(status, 400, "a site id that is SQL is refused");
    assert_eq!(web.get_json("/api/v1/dashboard/audit").await?.as_array().map(|a| !a.is_empty()), Some(true));

    // A worker removed from a site: their tablet stops receiving it and may not write to it.
    accounts::create_user(&server.storage, "ivan", TEST_PASSWORD, Role::OutreachWorker, &[SITE_A.into()], now_ms())
        .await?;
    let code = server.enrollment_code_for(SITE_A, "ivan").await?;
    let tablet = SimDevice::enroll_with_code(&server.url(), &code).await?;
    tablet.sync().await?;
    assert!(tablet.with(|s| s.get(Collection::Contacts, contact))?.is_some(), "the site's records arrive");
    accounts::remove_site(&server.storage, "ivan", SITE_A).await?;
    device.create(Collection::Contacts, json!({"setting": "window", "occurred_at": "2026-10-04T10:00:00Z"}))?;
    device.sync().await?;
    tablet.create(Collection::Contacts, json!({"setting": "window", "occurred_at": "2026-10-05T10:00:00Z"}))?;
    let refused = tablet.client.sync(&tablet.store, &outpost_tests::fast_retries(), &mut |_| {}).await;
    let contacts = tablet.with(|s| s.list(Collection::Contacts))?.len();
    assert!(contacts <= 2, "no new record of the site arrives after removal ({contacts}, {refused:?})");
    // Disabling the worker revokes the tablet.
    accounts::disable_user(&server.storage, "ivan", now_ms()).await?;
    match tablet.client.sync(&tablet.store, &outpost_tests::fast_retries(), &mut |_| {}).await {
        Err(outpost_device::SyncError::Unauthorized { code, .. }) => assert_eq!(code, "device_revoked"),
        other => anyhow::bail!("expected device_revoked, got {other:?}"),
    }
    let (status, body) = WebClient::new(&server.url()).login("ivan", TEST_PASSWORD, None).await?;
    assert_eq!((status, body["code"].clone()), (401, json!("login_failed")));
    server.stop().await
}

/// What must be recorded is not done when the audit log cannot be written: exports, reports with
/// suppression off and conflict resolutions are refused with `503 audit_unavailable`; the rest of
/// the dashboard keeps working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_recorded_is_done_when_the_audit_log_cannot_be_written() -> Result {
    let server = TestServer::start_on(Backend::Sqlite, Settings::default()).await?;
    let web = WebClient::logged_in(&server, "coord", Role::Coordinator, &[SITE_A]).await?;
    let rename = |from: &str, to: &str| {
        outpost_server_store::sql::Statement::exec(format!("ALTER TABLE {from} RENAME TO {to}"), vec![])
    };
    server.storage.execute(vec![rename("audit_log", "audit_log_away")]).await?;
    let refused = |(status, body): (u16, String)| {
        let body: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        (status, body["code"].as_str().unwrap_or_default().to_string())
    };
    let expected = (503, "audit_unavailable".to_string());
    assert_eq!(refused(web.get("/api/v1/dashboard/export/contacts").await?), expected);
    assert_eq!(refused(web.get("/api/v1/dashboard/indicators?suppress=false").await?), expected);
    let (status, body) = web.post("/api/v1/dashboard/conflicts/1/resolve", &json!({"action": "accept"})).await?;
    assert_eq!((status, body["code"].clone()), (503, json!("audit_unavailable")));
    let (status, _) = web.get("/api/v1/dashboard/indicators").await?;
    assert_eq!(status, 200, "a report with suppression on needs no entry");
    server.storage.execute(vec![rename("audit_log_away", "audit_log")]).await?;
    let (status, _) = web.get("/api/v1/dashboard/export/contacts").await?;
    assert_eq!(status, 200, "exports work again once the log can be written");
    server.stop().await
}

/// A coordinator's conflicts are chosen in the query: a thousand conflicts at another site do not
/// hide theirs, and the list comes a page at a time (issue 18, item 18).
async fn another_sites_conflicts_do_not_hide_yours(backend: Backend) -> Result {
    use outpost_server_store::params;
    use outpost_server_store::sql::Statement;
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let org = server.storage.the_org().await?;
    let sites = server.storage.list_sites().await?;
    let site =
        |name: &str| sites.iter().find(|s| s.name == name).map(|s| s.id).ok_or_else(|| anyhow::anyhow!("{name}"));
    let (a, b) = (site(SITE_A)?, site(SITE_B)?);
    let stamp = outpost_core::Hlc::new(now_ms(), 0, outpost_core::DeviceId(uuid::Uuid::now_v7()));
    let value = |v: &str| outpost_server_store::sql::json(&json!({"v": v, "t": stamp}));
    let insert = |site: outpost_core::SiteId, n: usize| {
        (0..n)
            .map(|_| {
                Ok(Statement::exec(
                    "INSERT INTO conflicts (collection, record_id, org_id, site_id, field, winner, loser, detected_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    params![
                        "contacts",
                        outpost_core::RecordId(uuid::Uuid::now_v7()),
                        org,
                        site,
                        "note",
                        value("kept")?,
                        value("lost")?,
                        now_ms()
                    ],
                ))
            })
            .collect::<std::result::Result<Vec<_>, outpost_server_store::DbError>>()
    };
    server.storage.execute(insert(a, 1)?).await?;
    server.storage.execute(insert(b, 1_100)?).await?;
    let direct = server
        .storage
        .conflicts(outpost_server_store::conflicts::ConflictFilter {
            sites: Some(vec![a]),
            open_only: true,
            newest: Some(1_000),
            ..Default::default()
        })
        .await?;
    assert_eq!(direct.len(), 1);
    let coordinator_a = WebClient::logged_in(&server, "coord", Role::Coordinator, &[SITE_A]).await?;
    let mine = coordinator_a.get_json("/api/v1/dashboard/conflicts").await?;
    assert_eq!(mine.as_array().map(Vec::len), Some(1), "site A's one conflict, under site B's 1 100 newer ones");
    // An admin pages through all of them: the newest 1 000, then the rest.
    let admin = WebClient::logged_in(&server, "boss", Role::Admin, &[]).await?;
    let first = admin.get_json("/api/v1/dashboard/conflicts").await?;
    let first = first.as_array().cloned().unwrap_or_default();
    assert_eq!(first.len(), 1_000);
    let last = first.last().and_then(|c| c["id"].as_i64()).unwrap_or(0);
    let rest = admin.get_json(&format!("/api/v1/dashboard/conflicts?before={last}")).await?;
    assert_eq!(rest.as_array().map(Vec::len), Some(101));
    let (status, _) = admin.get("/api/v1/dashboard/conflicts?before=soon").await?;
    assert_eq!(status, 400);
    server.stop().await
}

on_both_backends!(another_sites_conflicts_do_not_hide_yours);

/// A tablet that calls its app version "server" is a tablet like any other: the server's own
/// device is marked by a column no client can set (issue 18, item 15).
async fn a_tablet_named_server_is_still_a_tablet(backend: Backend) -> Result {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let code = server.enrollment_code(SITE_A).await?;
    let reply = reqwest::Client::new()
        .post(format!("{}/api/v1/enroll", server.url()))
        .json(&json!({"code": code, "device_name": "Impostor", "app_version": "server", "protocol": 1}))
        .send()
        .await?;
    assert_eq!(reply.status().as_u16(), 200);
    // A revert is written by the server's own device: it is made then, apart from the impostor.
    let _fixture = fixtures::load(&server).await?;
    let admin = WebClient::logged_in(&server, "boss", Role::Admin, &[]).await?;
    let open = admin.get_json("/api/v1/dashboard/conflicts").await?;
    let id = open[0]["id"].as_i64().ok_or_else(|| anyhow::anyhow!("an open conflict: {open}"))?;
    let (status, reverted) =
        admin.post(&format!("/api/v1/dashboard/conflicts/{id}/resolve"), &json!({"action": "revert"})).await?;
    assert_eq!(status, 200, "{reverted}");
    let devices = admin.get_json("/api/v1/dashboard/devices").await?;
    let names: Vec<&str> = devices.as_array().into_iter().flatten().filter_map(|d| d["name"].as_str()).collect();
    assert!(names.contains(&"Impostor"), "listed like any tablet: {names:?}");
    assert!(!names.contains(&"Dashboard (server)"), "the server's own device is not: {names:?}");
    let all = server.storage.list_devices().await?;
    assert_eq!(all.iter().filter(|d| d.is_server()).count(), 1);
    assert!(all.iter().any(|d| d.name == "Impostor" && !d.is_server()));
    server.stop().await
}

on_both_backends!(a_tablet_named_server_is_still_a_tablet);
