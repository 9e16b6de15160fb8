//! Forms as data, end to end on both backends: a form imported from XLSForm sheets is published
//! (each publication a new version), reaches tablets by pull, and every survey response a tablet
//! pushes for it is checked against the version it names; an old version stays answerable after
//! a new one is published.

use outpost_core::Collection;
use outpost_core::forms::xlsform::{Sheet, import};
use outpost_core::records::{FormStatus, PublishedForm};
use outpost_server::services::forms::{self, PublishError};
use outpost_server::settings::Settings;
use outpost_server::time::now_ms;
use outpost_tests::{Backend, SITE_A, SimDevice, TestServer};
use serde_json::json;

type Result = anyhow::Result<()>;

fn sheet(name: &str, rows: &[&[&str]]) -> Sheet {
    Sheet { name: name.into(), rows: rows.iter().map(|r| r.iter().map(|c| (*c).to_string()).collect()).collect() }
}

fn monitoring(id: &str, max_age: &str) -> Vec<Sheet> {
    vec![
        sheet(
            "survey",
            &[
                &["type", "name", "label", "constraint", "required", "relevant"],
                &["integer", "age", "Age", &format!(". >= 15 and . <= {max_age}"), "yes", ""],
                &["select_one yes_no", "injects", "Injects?", "", "yes", ""],
                &["integer", "years", "Years injecting", ". <= ${age}", "", "${injects} = 'yes'"],
            ],
        ),
        sheet("choices", &[&["list_name", "name", "label"], &["yes_no", "yes", "Yes"], &["yes_no", "no", "No"]]),
        sheet("settings", &[&["form_id", "version"], &[id, "2026-12"]]),
    ]
}

fn response(version: u32, answers: serde_json::Value) -> serde_json::Value {
    json!({"survey_id": "monitoring", "survey_version": version, "occurred_at": "2026-12-05T10:00:00Z", "answers": answers})
}

async fn published_forms_reach_tablets_and_check_their_responses(backend: Backend) -> Result {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let v1 = import(&monitoring("monitoring", "99"), "upload").map_err(|e| anyhow::anyhow!("{e:?}"))?.form;
    let v2 = import(&monitoring("monitoring", "120"), "upload").map_err(|e| anyhow::anyhow!("{e:?}"))?.form;
    assert_eq!(forms::publish(&server.storage, &v1, now_ms()).await?, 1);
    assert_eq!(forms::publish(&server.storage, &v2, now_ms()).await?, 2, "publishing again makes the next version");
    let bad_id = import(&monitoring("Spec test", "99"), "upload").map_err(|e| anyhow::anyhow!("{e:?}"))?.form;
    assert!(matches!(forms::publish(&server.storage, &bad_id, now_ms()).await, Err(PublishError::BadId(_))));

    // Tablets receive every version as reference data.
    let tablet = SimDevice::enroll(&server, SITE_A).await?;
    tablet.sync().await?;
    let mut received: Vec<PublishedForm> = tablet
        .with(|s| s.list(Collection::Forms))?
        .into_iter()
        .map(|(_, state)| serde_json::from_value(serde_json::Value::Object(state.values())))
        .collect::<std::result::Result<_, _>>()?;
    received.retain(|f| f.form_id == "monitoring");
    received.sort_by_key(|f| f.version);
    assert_eq!(
        received.iter().map(|f| (f.version, f.status)).collect::<Vec<_>>(),
        [(1, FormStatus::Published), (2, FormStatus::Published)]
    );
    assert_eq!(received[0].definition, v1.def);
    assert_eq!(received[0].source_version.as_deref(), Some("2026-12"));

    // Responses: each version checks its own rules; hidden, unknown and wrong answers are refused.
    let c = Collection::SurveyResponses;
    tablet.create(c, response(1, json!({"age": 40, "injects": "no"})))?;
    tablet.create(c, response(2, json!({"age": 110, "injects": "yes", "years": 30})))?; // 110 is fine in v2
    tablet.create(c, response(1, json!({"age": 110, "injects": "no"})))?; // not in v1
    tablet.create(c, response(3, json!({"age": 40, "injects": "no"})))?;
    tablet.create(c, response(1, json!({"age": 40, "injects": "no", "years": 3})))?;
    tablet.create(c, response(1, json!({"age": 40})))?;
    // The shipped default form is published by every server; a form never published is refused.
    tablet.create(c, json!({"survey_id": "cbm_default", "survey_version": 1, "occurred_at": "2026-12-05T10:00:00Z", "answers": {"q1": "well"}}))?;
    tablet.create(
        c,
        json!({"survey_id": "no_such_form", "survey_version": 1, "occurred_at": "2026-12-05T10:00:00Z", "answers": {}}),
    )?;
    tablet.sync().await?;

    let stored = server.storage.snapshot().await?.into_iter().filter(|r| r.collection == c.name()).count();
    assert_eq!(stored, 3, "the two valid responses and the default form's");
    let refused: Vec<(u64, String)> =
        tablet.with(|s| s.rejected_ops())?.into_iter().map(|r| (r.op.op_seq, r.code)).collect();
    let codes: Vec<&str> = refused.iter().map(|(_, code)| code.as_str()).collect();
    assert_eq!(
        codes,
        ["constraint", "unknown_form_version", "not_relevant", "required", "unknown_form"],
        "{refused:?}"
    );
    let pending = tablet.with(|s| s.pending_count())?;
    assert_eq!(pending, 0, "refused responses are set aside, the rest are sent");

    // Retiring version 1 reaches the tablet; answers to it are still accepted.
    assert!(server.storage.retire_form("monitoring", 1, now_ms()).await?);
    assert!(!server.storage.retire_form("monitoring", 1, now_ms()).await?, "retiring twice changes nothing");
    assert!(server.storage.retire_form("monitoring", 9, now_ms()).await.is_err(), "an unknown version is an error");
    tablet.create(c, response(1, json!({"age": 50, "injects": "no"})))?;
    tablet.sync().await?;
    let statuses: Vec<(u32, FormStatus)> = tablet
        .with(|s| s.published_forms())?
        .into_iter()
        .filter(|f| f.form_id == "monitoring")
        .map(|f| (f.version, f.status))
        .collect();
    assert_eq!(statuses, [(1, FormStatus::Retired), (2, FormStatus::Published)]);
    let stored = server.storage.snapshot().await?.into_iter().filter(|r| r.collection == c.name()).count();
    assert_eq!(stored, 4, "a response to a retired version is accepted");
    assert_eq!(tablet.with(|s| s.rejected_ops())?.len(), 5, "nothing more refused");

    // The tablet offers the newest published version of each survey, and saves a response only
    // when core's check (the server's own) finds nothing wrong.
    let offered: Vec<(String, u32)> =
        tablet.with(|s| s.offered_forms(None))?.into_iter().map(|f| (f.form_id, f.version)).collect();
    assert_eq!(offered, [("cbm_default".to_string(), 1), ("monitoring".to_string(), 2)]);
    let answers = |v: serde_json::Value| v.as_object().cloned().unwrap_or_default();
    let saved = tablet.with(|s| {
        let form = s.compiled_form("monitoring", 2)?;
        s.save_form_response(&form, 2, &answers(json!({"age": 105, "injects": "no"})), "2026-12-05T10:00:00Z")
    });
    assert!(saved.is_ok(), "{saved:?}");
    let refused = tablet.with(|s| {
        let form = s.compiled_form("monitoring", 2)?;
        s.save_form_response(
            &form,
            2,
            &answers(json!({"age": 105, "injects": "no", "years": 2})),
            "2026-12-05T10:00:00Z",
        )
    });
    assert!(
        matches!(refused, Err(outpost_device::error::StoreError::Answers(ref p)) if p[0].code == "not_relevant"),
        "{refused:?}"
    );
    assert!(matches!(
        tablet.with(|s| s.compiled_form("monitoring", 7)),
        Err(outpost_device::error::StoreError::UnknownForm { .. })
    ));
    tablet.sync().await?;
    assert_eq!(tablet.with(|s| s.rejected_ops())?.len(), 5, "the server accepts what the tablet's check passed");

    // Contact questions: answers stored with a contact, checked against their form like a
    // survey's; a survey's id there, or a contact-questions form answered as a survey, is refused.
    server.publish_xlsform(&outpost_tests::fixtures::contact_questions()).await?;
    tablet.sync().await?;
    let contact = |form: &str, answers: serde_json::Value| {
        json!({"setting": "street_outreach", "occurred_at": "2026-12-05T10:00:00Z",
               "form_answers": {form: {"version": 1, "answers": answers}}})
    };
    let cc = Collection::Contacts;
    tablet.create(cc, contact("drug_use", json!({"where_used": "street", "days_injected": 12})))?;
    tablet.create(cc, contact("drug_use", json!({"where_used": "street", "days_injected": 31})))?;
    tablet.create(cc, contact("drug_use", json!({"where_used": "home", "days_injected": 3})))?;
    tablet.create(cc, contact("cbm_default", json!({"q1": "well"})))?;
    tablet.create(
        c,
        json!({"survey_id": "drug_use", "survey_version": 1, "occurred_at": "2026-12-05T10:00:00Z", "answers": {}}),
    )?;
    tablet.sync().await?;
    let codes: Vec<String> = tablet.with(|s| s.rejected_ops())?.into_iter().skip(5).map(|r| r.code).collect();
    assert_eq!(codes, ["constraint", "not_relevant", "wrong_form_kind", "wrong_form_kind"]);
    let stored: Vec<serde_json::Value> = server
        .storage
        .snapshot()
        .await?
        .into_iter()
        .filter(|r| r.collection == cc.name())
        .filter_map(|r| r.state.values().get("form_answers").cloned())
        .collect();
    assert_eq!(stored, [json!({"drug_use": {"version": 1, "answers": {"where_used": "street", "days_injected": 12}}})]);
    // The tablet's own save checks the same way before anything is written.
    let input = |days: u32| -> outpost_device::workflows::ContactInput {
        serde_json::from_value(json!({"client": null, "setting": "window", "questions": [
            {"form_id": "drug_use", "version": 1, "answers": {"where_used": "street", "days_injected": days}}]}))
        .unwrap_or_else(|e| panic!("{e}"))
    };
    assert!(tablet.with(|s| s.save_contact(&input(30), None, "2026-12-05T11:00:00Z")).is_ok());
    let refused = tablet.with(|s| s.save_contact(&input(31), None, "2026-12-05T11:00:00Z"));
    assert!(matches!(refused, Err(outpost_device::error::StoreError::Answers(_))), "{refused:?}");
    server.stop().await
}

on_both_backends!(published_forms_reach_tablets_and_check_their_responses);

/// A workbook of `sheets` (rows of cell texts), as a coordinator's spreadsheet program saves it.
fn workbook(sheets: &[(&str, &[&[&str]])]) -> anyhow::Result<Vec<u8>> {
    let mut book = rust_xlsxwriter::Workbook::new();
    for (name, rows) in sheets {
        let sheet = book.add_worksheet().set_name(*name)?;
        for (r, cells) in rows.iter().enumerate() {
            for (c, text) in cells.iter().enumerate() {
                sheet.write_string(r as u32, c as u16, *text)?;
            }
        }
    }
    Ok(book.save_to_buffer()?)
}

/// The dashboard's forms API refuses every bad upload and request with its own code, changes
/// nothing when it refuses, and keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_forms_api_refuses_bad_uploads_and_requests() -> Result {
    use outpost_server::services::accounts::Role;
    let server = TestServer::start_on(Backend::Sqlite, Settings::default()).await?;
    let web = outpost_tests::WebClient::logged_in(&server, "coord", Role::Coordinator, &[SITE_A]).await?;
    let code = |reply: &serde_json::Value| reply["code"].as_str().unwrap_or_default().to_string();
    let forms_before = web.get_json("/api/v1/dashboard/forms").await?;

    // Not a workbook, an empty body, a file over the body limit, a zip bomb.
    let (status, reply) = web.post_bytes("/api/v1/dashboard/forms/check?name=notes.txt", b"hello".to_vec()).await?;
    assert_eq!((status, code(&reply)), (422, "not_a_workbook".into()), "{reply}");
    let (status, reply) = web.post_bytes("/api/v1/dashboard/forms/check", Vec::new()).await?;
    assert_eq!((status, code(&reply)), (422, "not_a_workbook".into()), "{reply}");
    let (status, _) = web.post_bytes("/api/v1/dashboard/forms/check", vec![b'P'; 9 * 1024 * 1024]).await?;
    assert_eq!(status, 413, "over the body limit");
    let bomb = {
        let mut out = std::io::Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut out);
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("xl/worksheets/sheet1.xml", options)?;
        let zeros = vec![0u8; 1024 * 1024];
        for _ in 0..101 {
            std::io::Write::write_all(&mut zip, &zeros)?;
        }
        zip.finish()?;
        out.into_inner()
    };
    let (status, reply) = web.post_bytes("/api/v1/dashboard/forms/check?name=bomb.xlsx", bomb).await?;
    assert_eq!((status, code(&reply)), (413, "form_too_large".into()), "{reply}");
    let (status, reply) = web.post_bytes("/api/v1/dashboard/forms/check?color=red", b"x".to_vec()).await?;
    assert_eq!((status, code(&reply)), (400, "invalid_query".into()), "{reply}");

    // A readable workbook with problems: every one named by sheet, row and column; publishing it
    // is refused whole, with the same problems.
    let broken = workbook(&[(
        "survey",
        &[
            &["type", "name", "label", "relevant"],
            &["select_one colours", "colour", "Favourite colour?", ""],
            &["integer", "age", "Age?", "${nobody} > 3"],
            &["text", "age", "Again?", ""],
        ],
    )])?;
    let (status, reply) = web.post_bytes("/api/v1/dashboard/forms/check?name=broken.xlsx", broken.clone()).await?;
    assert_eq!(status, 200, "{reply}");
    assert!(reply["form"].is_null());
    let rows: Vec<(i64, String)> = reply["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| (e["row"].as_i64().unwrap_or(-1), e["sheet"].as_str().unwrap_or("").to_string()))
        .collect();
    // (References are resolved once the sheets' own problems are fixed: row 3's comes next.)
    for row in [2, 4] {
        assert!(rows.contains(&(row, "survey".into())), "row {row} is named: {reply}");
    }
    let (status, reply) = web.post_bytes("/api/v1/dashboard/forms/publish?name=broken.xlsx", broken).await?;
    assert_eq!((status, code(&reply)), (422, "invalid_form".into()), "{reply}");
    assert!(reply["details"].as_array().is_some_and(|d| d.len() == 2), "{reply}");
    let bad_id = workbook(&[
        ("survey", &[&["type", "name", "label"], &["text", "x", "X?"]]),
        ("settings", &[&["form_id"], &["Bad Id"]]),
    ])?;
    let (status, reply) = web.post_bytes("/api/v1/dashboard/forms/publish", bad_id).await?;
    assert_eq!((status, code(&reply)), (422, "invalid_form_id".into()), "{reply}");
    assert_eq!(web.get_json("/api/v1/dashboard/forms").await?, forms_before, "nothing was published");

    // Preview: a definition that does not compile, a wrong day, a body of the wrong shape.
    let mut form = forms_before[0]["definition"].clone();
    let (status, reply) = web
        .post("/api/v1/dashboard/forms/preview", &json!({"form": form, "answers": {"q1": "well"}, "language": "ru"}))
        .await?;
    assert_eq!(status, 200, "{reply}");
    assert!(reply["shown"].as_array().is_some_and(|s| s.contains(&json!("q1"))), "{reply}");
    let (status, reply) = web
        .post(
            "/api/v1/dashboard/forms/preview",
            &json!({"form": form, "answers": {}, "language": "en", "today": "yesterday"}),
        )
        .await?;
    assert_eq!((status, code(&reply)), (422, "invalid_field".into()), "{reply}");
    form["items"][2]["relevant"] = json!("${nobody} = 1");
    let (status, reply) =
        web.post("/api/v1/dashboard/forms/preview", &json!({"form": form, "answers": {}, "language": "en"})).await?;
    assert_eq!((status, code(&reply)), (422, "invalid_form".into()), "{reply}");
    let (status, reply) = web.post("/api/v1/dashboard/forms/preview", &json!({"form": 3})).await?;
    assert_eq!((status, code(&reply)), (422, "invalid_body".into()), "{reply}");

    // Retiring: an unknown version, a version that is not a number, twice.
    let (status, reply) = web.post("/api/v1/dashboard/forms/cbm_default/7/retire", &json!({})).await?;
    assert_eq!((status, code(&reply)), (404, "not_found".into()), "{reply}");
    let (status, reply) = web.post("/api/v1/dashboard/forms/cbm_default/seven/retire", &json!({})).await?;
    assert_eq!((status, code(&reply)), (400, "invalid_query".into()), "{reply}");
    let (status, _) = web.post("/api/v1/dashboard/forms/cbm_default/1/retire", &json!({})).await?;
    assert_eq!(status, 200);
    let (status, reply) = web.post("/api/v1/dashboard/forms/cbm_default/1/retire", &json!({})).await?;
    assert_eq!((status, code(&reply)), (409, "conflict".into()), "{reply}");

    // Still serving, and the retirement is what changed.
    let forms = web.get_json("/api/v1/dashboard/forms").await?;
    assert_eq!(forms[0]["status"], "retired");
    server.stop().await
}
