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
    server.stop().await
}

on_both_backends!(published_forms_reach_tablets_and_check_their_responses);
