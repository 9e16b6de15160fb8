//! Sending an indicator set to DHIS2, against the hand-counted fixture (both backends) and a
//! local stand-in for DHIS2's import (`outpost_tests::fake_dhis2`; a real DHIS2 cannot run
//! here): an admin imports a mapping (bad ones refused row by row, nothing kept), previews a
//! period (a coordinator too, for their own sites), exports it as ADX (validated against docs/dhis2/adx.xsd with xmllint) and as
//! dataValueSets JSON (against docs/dhis2/data-value-set.schema.json), and sends it: a dry
//! run, the import, a resend that changes nothing, and the refusals (a token without rights,
//! an unknown data element, a server that is not there, a period that is not over or not a
//! DHIS2 period, a site without an org unit). Suppressed numbers are never sent; the token is
//! never shown or logged.

use outpost_server::services::accounts::Role;
use outpost_server::settings::Settings;
use outpost_tests::fake_dhis2::{FakeDhis2, GOOD_TOKEN, READ_ONLY_TOKEN};
use outpost_tests::fixtures::{self, FROM, TO};
use outpost_tests::{Backend, SITE_A, SITE_B, TestServer, WebClient};
use serde_json::{Value, json};
use std::path::Path;

on_both_backends!(a_period_of_kp_prev_goes_to_dhis2_once_whatever_is_resent);

const BASE: &str = "/api/v1/dashboard/admin/dhis2";
const HEADER: &str = "kind,key,cell,uid,category_option_combo,attribute_option_combo";

fn mapping(org_units: &[(&str, &str)], extra: &str) -> String {
    let mut out = format!("{HEADER}\ndata_set,,,aOutpostKP1,,aMechanism1\n");
    for (site, uid) in org_units {
        out.push_str(&format!("org_unit,{site},,{uid},,\n"));
    }
    out.push_str(
        "value,kp_prev,,aKpPrevTot1,,\n\
         value,kp_prev,kp_type=pwid,aKpPrevType,aCocPwid001,\n\
         value,kp_prev,kp_type=tg,aKpPrevType,aCocTg00001,\n\
         value,kp_prev,kp_type=pwid;testing_status=newly_tested_or_referred,aKpPrevTest,aCocPwidNew,\n",
    );
    out.push_str(extra);
    out
}

const BOTH: &[(&str, &str)] = &[(SITE_A, "aSiteDropIn"), (SITE_B, "aSiteStreet")];

async fn post_csv(web: &WebClient, path: &str, csv: &str) -> anyhow::Result<(u16, Value)> {
    web.post_text(path, "text/csv", csv).await
}

fn xmllint(schema: &Path, document: &str, dir: &Path) -> anyhow::Result<(bool, String)> {
    let file = dir.join("export.adx.xml");
    std::fs::write(&file, document)?;
    let out = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(schema)
        .arg(&file)
        .output()
        .map_err(|e| anyhow::anyhow!("xmllint is needed to check ADX (Debian package libxml2-utils): {e}"))?;
    Ok((out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned()))
}

async fn a_period_of_kp_prev_goes_to_dhis2_once_whatever_is_resent(backend: Backend) -> anyhow::Result<()> {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    fixtures::load(&server).await?;
    let admin = WebClient::logged_in(&server, "dhis2-admin", Role::Admin, &[]).await?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let tmp = tempfile::tempdir()?;
    let settings = admin.get_json(BASE).await?;
    assert_eq!((settings["token_set"].clone(), settings["mappings"].clone()), (json!(false), json!([])));

    // Bad mappings: each refused with the row and what is wrong; nothing is saved.
    let kp = format!("{BASE}/mappings/pepfar_kp_prev");
    for (csv, code, row) in [
        (mapping(BOTH, "value,kp_prevv,,aKpPrevTot2,,\n"), "unknown_indicator", "row 9"),
        (mapping(BOTH, "value,kp_prev,kp_type=msm,aKpPrevTot1,,\n"), "duplicate_target", "row 9"),
        (mapping(BOTH, "value,kp_prev,kp_type=msm,not-a-uid,,\n"), "malformed_uid", "row 9"),
        (mapping(&[(SITE_A, "aSiteDropIn"), ("Nowhere", "aSiteNowher")], ""), "unknown_site", "row 4"),
        (mapping(BOTH, "value,kp_prev,kp_type=robots,aKpPrevTyp2,,\n"), "unknown_cell", "row 9"),
    ] {
        let (status, body) = post_csv(&admin, &kp, &csv).await?;
        let details = body["details"].as_array().cloned().unwrap_or_default();
        assert!(
            status == 422
                && details.iter().any(|d| d["code"] == code && d["field"].as_str().is_some_and(|f| f.starts_with(row))),
            "{code} at {row}: {status} {body}"
        );
    }
    let (status, _) = post_csv(&admin, &format!("{BASE}/mappings/no_such_set"), &mapping(BOTH, "")).await?;
    assert_eq!(status, 404);
    let (status, body) = admin.post_bytes(&kp, vec![0xff, 0xfe, 0x00]).await?;
    assert!(status == 422 && body["message"].as_str().is_some_and(|m| m.contains("UTF-8")), "{body}");
    assert_eq!(admin.get_json(BASE).await?["mappings"], json!([]), "nothing kept");
    let (status, body) = post_csv(&admin, &kp, &mapping(BOTH, "")).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["mappings"][0]["values"].clone(), body["mappings"][0]["org_units"].clone()), (json!(4), json!(2)));

    // Per site (each its own org unit), October, exact figures: at the drop-in centre c1 and c2
    // qualify (tested, and given another service there); on the street c6 does (c1's street
    // contact had no testing).
    let period = format!("from={FROM}&to={TO}");
    let preview = admin.get_json(&format!("{BASE}/pepfar_kp_prev/preview?{period}&suppress=false")).await?;
    assert_eq!((preview["period"].clone(), preview["adx_period"].clone()), (json!("202610"), json!("2026-10-01/P1M")));
    let value = |p: &Value, org: &str, de: &str, coc: Option<&str>| -> Option<String> {
        p["values"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|v| v["org_unit"] == org && v["data_element"] == de && v["category_option_combo"].as_str() == coc)
            .and_then(|v| v["value"].as_str().map(str::to_string))
    };
    assert_eq!(value(&preview, "aSiteDropIn", "aKpPrevTot1", None).as_deref(), Some("2"));
    assert_eq!(value(&preview, "aSiteStreet", "aKpPrevTot1", None).as_deref(), Some("1"));
    assert_eq!(value(&preview, "aSiteDropIn", "aKpPrevTest", Some("aCocPwidNew")).as_deref(), Some("2"));
    assert_eq!(value(&preview, "aSiteStreet", "aKpPrevType", Some("aCocTg00001")).as_deref(), Some("0"));
    assert_eq!(preview["values"].as_array().map(Vec::len), Some(8));
    let unmapped: Vec<String> = preview["unmapped"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|u| format!("{}|{}", u["indicator"].as_str().unwrap_or(""), u["cell"].as_str().unwrap_or("")))
        .collect();
    assert!(
        unmapped.contains(&"kp_prev|kp_type=fsw".to_string()) && !unmapped.contains(&"kp_prev|".to_string()),
        "{unmapped:?}"
    );

    // While small numbers are hidden, they are held back, never sent as numbers (zeros go).
    let hidden = admin.get_json(&format!("{BASE}/pepfar_kp_prev/preview?{period}")).await?;
    assert!(hidden["values"].as_array().into_iter().flatten().all(|v| v["value"] == "0"), "{hidden}");
    assert_eq!(hidden["held_back"].as_array().map(Vec::len), Some(6), "{hidden}");
    assert!(hidden["held_back"].as_array().into_iter().flatten().all(|h| h["reason"] == "suppressed"));

    // ADX, valid against the schema (which does refuse a message without a period).
    let (status, adx) = admin.get(&format!("{BASE}/pepfar_kp_prev/export?{period}&suppress=false&format=adx")).await?;
    assert_eq!(status, 200, "{adx}");
    let schema = root.join("docs/dhis2/adx.xsd");
    let (valid, why) = xmllint(&schema, &adx, tmp.path())?;
    assert!(valid, "the ADX export is not valid: {why}\n{adx}");
    assert!(adx.contains(r#"<group dataSet="aOutpostKP1" orgUnit="aSiteDropIn" period="2026-10-01/P1M" attributeOptionCombo="aMechanism1">"#), "{adx}");
    assert!(
        adx.contains(r#"<dataValue dataElement="aKpPrevTest" categoryOptionCombo="aCocPwidNew" value="2"/>"#),
        "{adx}"
    );
    let (valid, _) = xmllint(&schema, &adx.replace(r#" period="2026-10-01/P1M""#, ""), tmp.path())?;
    assert!(!valid, "the schema check can fail");
    // dataValueSets JSON, in the documented shape.
    let (status, text) =
        admin.get(&format!("{BASE}/pepfar_kp_prev/export?{period}&suppress=false&format=json")).await?;
    assert_eq!(status, 200, "{text}");
    let payload: Value = serde_json::from_str(&text)?;
    let shape: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("docs/dhis2/data-value-set.schema.json"))?)?;
    let validator = jsonschema::validator_for(&shape).map_err(|e| anyhow::anyhow!("{e}"))?;
    let problems: Vec<String> = validator.iter_errors(&payload).map(|e| e.to_string()).collect();
    assert!(problems.is_empty(), "{problems:?}\n{payload}");
    assert_eq!(payload["dataValues"].as_array().map(Vec::len), Some(8));
    let (status, body) = admin.get(&format!("{BASE}/pepfar_kp_prev/export?{period}&format=pdf")).await?;
    assert!(status == 400 && body.contains("adx or json"), "{body}");

    // The connection: refused addresses and tokens, then the stand-in; the token never shown.
    let connect = |url: &str, token: Option<&str>| json!({"url": url, "token": token});
    for (form, field) in [
        (connect("ftp://dhis2.example.org", Some(GOOD_TOKEN)), "url"),
        (connect("http://dhis2.example.org", Some(GOOD_TOKEN)), "url"),
        (connect("https://admin:secret@dhis2.example.org", Some(GOOD_TOKEN)), "url"),
        (connect("https://dhis2.example.org/?x=1", Some(GOOD_TOKEN)), "url"),
        (connect("https://dhis2.example.org", Some("two words")), "token"),
    ] {
        let (status, body) = admin.post(&format!("{BASE}/connection"), &form).await?;
        assert!(status == 422 && body["details"][0]["field"] == field, "{form}: {status} {body}");
    }
    let fake = FakeDhis2::start(&["aKpPrevTot1", "aKpPrevType", "aKpPrevTest"]).await?;
    let (status, body) = admin.post(&format!("{BASE}/connection"), &connect(&fake.url, Some(GOOD_TOKEN))).await?;
    assert_eq!((status, body["url"].as_str(), body["token_set"].as_bool()), (200, Some(fake.url.as_str()), Some(true)));
    assert!(!body.to_string().contains(GOOD_TOKEN), "{body}");

    // A dry run imports nothing; the send imports the eight values; a resend adds nothing.
    let send =
        |dry_run: bool, suppress: bool| json!({"from": FROM, "to": TO, "suppress": suppress, "dry_run": dry_run});
    let path = format!("{BASE}/pepfar_kp_prev/send");
    let (status, body) = admin.post(&path, &send(true, false)).await?;
    assert_eq!(
        (status, body["sent"].as_bool(), body["summary"]["imported"].as_i64()),
        (200, Some(false), Some(8)),
        "{body}"
    );
    assert!(fake.values().is_empty(), "a dry run stores nothing");
    let (status, body) = admin.post(&path, &send(false, false)).await?;
    assert_eq!(
        (status, body["sent"].as_bool(), body["summary"]["imported"].as_i64()),
        (200, Some(true), Some(8)),
        "{body}"
    );
    let stored = fake.values();
    assert_eq!(stored.len(), 8);
    let key = |de: &str, ou: &str, coc: &str| {
        (de.to_string(), "202610".to_string(), ou.to_string(), coc.to_string(), "aMechanism1".to_string())
    };
    assert_eq!(stored.get(&key("aKpPrevTot1", "aSiteDropIn", "")).map(String::as_str), Some("2"));
    let (status, body) = admin.post(&path, &send(false, false)).await?;
    assert_eq!(
        (status, body["sent"].as_bool(), body["summary"]["imported"].as_i64(), body["summary"]["ignored"].as_i64()),
        (200, Some(true), Some(0), Some(8)),
        "{body}"
    );
    assert_eq!(fake.values(), stored, "sent again: the same eight values, nothing added");
    // With small numbers hidden, only zeros go, and the stored numbers are not overwritten.
    let (status, body) = admin.post(&path, &send(false, true)).await?;
    assert_eq!((status, body["values"].as_i64(), body["held_back"].as_i64()), (200, Some(2), Some(6)), "{body}");
    assert_eq!(fake.values(), stored);

    // Refusals, each with nothing imported.
    let (before, _) = fake.requests();
    let (status, body) = admin.post(&path, &json!({"from": "2026-12-01", "to": "2026-12-31", "dry_run": true})).await?;
    assert!(status == 422 && body["details"][0]["code"] == "period_not_over", "{body}");
    let (status, body) =
        admin.post(&path, &json!({"from": "2026-10-01", "to": "2026-11-30", "suppress": false})).await?;
    assert!(status == 422 && body["details"][0]["code"] == "not_a_dhis2_period", "{body}");
    let (status, body) = admin.post(&path, &json!({"from": FROM, "to": TO, "colour": "red"})).await?;
    assert_eq!(status, 422, "{body}");
    assert_eq!(fake.requests().0, before, "nothing reached DHIS2");
    admin.post(&format!("{BASE}/connection"), &connect(&fake.url, Some(READ_ONLY_TOKEN))).await?;
    let (status, body) = admin.post(&path, &send(false, false)).await?;
    assert!(status == 502 && body["message"].as_str().is_some_and(|m| m.contains("refused the token")), "{body}");
    admin.post(&format!("{BASE}/connection"), &connect("http://127.0.0.1:1", None)).await?;
    let (status, body) = admin.post(&path, &send(false, false)).await?;
    assert!(status == 502 && body["message"].as_str().is_some_and(|m| m.contains("could not reach")), "{body}");
    assert!(!body.to_string().contains(READ_ONLY_TOKEN));
    // A data element DHIS2 does not know: the dry run finds it, so nothing at all is imported.
    admin.post(&format!("{BASE}/connection"), &connect(&fake.url, Some(GOOD_TOKEN))).await?;
    let (status, _) = post_csv(&admin, &kp, &mapping(BOTH, "value,kp_prev,kp_type=fsw,aUnknownDE1,,\n")).await?;
    assert_eq!(status, 200);
    let (status, body) = admin.post(&path, &send(false, false)).await?;
    assert_eq!((status, body["sent"].as_bool()), (200, Some(false)), "{body}");
    assert!(body["summary"]["conflicts"][0].as_str().is_some_and(|c| c.starts_with("aUnknownDE1")), "{body}");
    assert_eq!(fake.values(), stored, "nothing sent half");
    // A site without an org unit: refused until the report leaves it out.
    post_csv(&admin, &kp, &mapping(&[(SITE_A, "aSiteDropIn")], "")).await?;
    let (status, body) = admin.post(&path, &send(true, false)).await?;
    assert!(
        status == 422
            && body["details"][0]["code"] == "site_without_org_unit"
            && body["message"].as_str().is_some_and(|m| m.contains(SITE_B)),
        "{body}"
    );
    let site_a = admin
        .get_json("/api/v1/dashboard/sites")
        .await?
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["name"] == SITE_A)
        .map(|s| s["id"].clone())
        .unwrap_or_default();
    let (status, body) = admin
        .post(&path, &json!({"from": FROM, "to": TO, "sites": [site_a], "suppress": false, "dry_run": true}))
        .await?;
    assert_eq!((status, body["values"].as_i64()), (200, Some(4)), "{body}");

    // A coordinator sends their own sites (the mapping and the connection stay the admins'):
    // the drop-in centre's coordinator sends it, and cannot send the street team's.
    let coordinator = WebClient::logged_in(&server, "dhis2-coord", Role::Coordinator, &[SITE_A]).await?;
    let (status, body) = coordinator.post(&path, &send(true, false)).await?;
    assert_eq!((status, body["values"].as_i64()), (200, Some(4)), "{body}");
    let site_b = admin
        .get_json("/api/v1/dashboard/sites")
        .await?
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["name"] == SITE_B)
        .map(|s| s["id"].clone())
        .unwrap_or_default();
    let (status, _) =
        coordinator.post(&path, &json!({"from": FROM, "to": TO, "sites": [site_b], "dry_run": true})).await?;
    assert_eq!(status, 403);
    let (status, _) = post_csv(&coordinator, &kp, &mapping(BOTH, "")).await?;
    assert_eq!(status, 403, "mappings are the admins'");
    let (status, _) = coordinator.post(&format!("{BASE}/connection"), &connect(&fake.url, Some(GOOD_TOKEN))).await?;
    assert_eq!(status, 403, "so is the connection");
    // Every export and send is in the audit log, never the token.
    let log = server.storage.audit_log().await?;
    for action in ["dhis2.mapping", "dhis2.connection", "dhis2.export", "dhis2.dry_run", "dhis2.send", "dhis2.result"] {
        assert!(log.iter().any(|r| r.action == action), "{action} not audited");
    }
    assert!(log.iter().all(|r| !format!("{r:?}").contains("d2pat_")), "a token is in the audit log");
    server.stop().await
}
