//! One person, counted once (issue 20, item 18): the same person registered on two tablets at
//! two sites, offline, and twice at one site, is offered for review; a coordinator merges the
//! records and every report and tablet shows one person, also for work a tablet recorded
//! against the merged record before it heard of the merge; the undo takes it all back; bad
//! requests and other sites' records are refused and change nothing; all of it audited without
//! codes.

use outpost_core::{Collection, RecordId};
use outpost_server::services::accounts::Role;
use outpost_server::settings::Settings;
use outpost_tests::{Backend, SITE_A, SITE_B, SimDevice, TestServer, WebClient, assert_converged};
use serde_json::{Value, json};

on_both_backends!(merged_records_are_one_person_in_every_report_and_on_every_tablet_until_undone);

const REVIEW: &str = "/api/v1/dashboard/admin/duplicates";
const MERGES: &str = "/api/v1/dashboard/admin/merges";

/// A raw indicator value (suppression off) for a period.
async fn indicator(web: &WebClient, period: &str, key: &str) -> anyhow::Result<f64> {
    let report = web.get_json(&format!("/api/v1/dashboard/indicators?{period}&suppress=false")).await?;
    report["indicators"]
        .as_array()
        .and_then(|all| all.iter().find(|i| i["key"] == key))
        .and_then(|i| i["value"].as_f64())
        .ok_or_else(|| anyhow::anyhow!("no {key} in {report}"))
}

/// A client with one contact given ten syringes.
fn visit(device: &SimDevice, client: RecordId, at: &str) -> anyhow::Result<RecordId> {
    let contact = device.create(
        Collection::Contacts,
        json!({"setting": "window", "occurred_at": at, "client_id": client.to_string()}),
    )?;
    device.create(
        Collection::DistributionLines,
        json!({"contact_id": contact.to_string(), "commodity": "syringe_1ml", "quantity": 10}),
    )?;
    Ok(contact)
}

fn register(device: &SimDevice, code: &str, first_seen: &str) -> anyhow::Result<RecordId> {
    let client = device.create(
        Collection::Clients,
        json!({"uic": code, "gender": "woman", "birth_year": 1987, "first_seen_at": first_seen}),
    )?;
    visit(device, client, first_seen)?;
    Ok(client)
}

fn pair_ids(review: &Value) -> Vec<(String, String, String)> {
    review["pairs"]
        .as_array()
        .map(|pairs| {
            pairs
                .iter()
                .map(|p| {
                    let id = |side: &str| p[side]["id"].as_str().unwrap_or_default().to_string();
                    (id("keep"), id("merge"), p["reason"].as_str().unwrap_or_default().to_string())
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn merged_records_are_one_person_in_every_report_and_on_every_tablet_until_undone(
    backend: Backend,
) -> anyhow::Result<()> {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let a = SimDevice::enroll(&server, SITE_A).await?;
    let b = SimDevice::enroll(&server, SITE_B).await?;
    // Offline, the same woman is registered at the drop-in centre on the 2nd and by the street
    // team on the 10th; at the drop-in centre she is registered a second time on the 12th with
    // a slip in the code (two letters swapped).
    let at_a = register(&a, "MAIV287", "2026-11-02T10:00:00Z")?;
    let at_b = register(&b, "MAIV287", "2026-11-10T10:00:00Z")?;
    let slip = register(&a, "MIAV287", "2026-11-12T10:00:00Z")?;
    let other = register(&a, "OLPE190", "2026-11-03T10:00:00Z")?;
    for device in [&a, &b] {
        assert_eq!(device.sync().await?.rejected, 0);
    }
    let admin = WebClient::logged_in(&server, "admin", Role::Admin, &[]).await?;
    let month = "from=2026-11-01&to=2026-11-30";
    let late = "from=2026-11-05&to=2026-11-30";
    assert_eq!(indicator(&admin, month, "people_reached").await?, 4.0);
    assert_eq!(indicator(&admin, late, "new_clients").await?, 2.0, "before merging: the 10th and the 12th are new");

    // The coordinator of both sites is offered both pairs, the same code first; the record
    // first seen earlier is the one to keep. A coordinator of one site sees only its pair.
    let both = WebClient::logged_in(&server, "coord", Role::Coordinator, &[SITE_A, SITE_B]).await?;
    let review = both.get_json(REVIEW).await?;
    let (a_id, b_id, slip_id) = (at_a.to_string(), at_b.to_string(), slip.to_string());
    assert_eq!(
        pair_ids(&review),
        vec![
            (a_id.clone(), b_id.clone(), "same_code".to_string()),
            (a_id.clone(), slip_id.clone(), "near_code".to_string()),
            (b_id.clone(), slip_id.clone(), "near_code".to_string()),
        ],
        "{review}"
    );
    assert_eq!(review["pairs"][0]["keep"]["site"], SITE_A, "{review}");
    assert_eq!(review["pairs"][0]["merge"]["seen_at"], json!([SITE_B]), "{review}");
    assert_eq!(review["pairs"][1]["shared_sites"], json!([SITE_A]), "seen at one site: {review}");
    let one_site = WebClient::logged_in(&server, "coord_a", Role::Coordinator, &[SITE_A]).await?;
    assert_eq!(pair_ids(&one_site.get_json(REVIEW).await?), vec![(a_id.clone(), slip_id.clone(), "near_code".into())]);

    // Refused, and nothing merged: another site's record, the same record twice, ids that are
    // none, unknown fields, a record that does not exist; and by a worker.
    let (status, body) = one_site.post(MERGES, &json!({"keep": a_id, "merge": b_id})).await?;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")), "{body}");
    let (status, body) = both.post(MERGES, &json!({"keep": a_id, "merge": a_id})).await?;
    assert_eq!((status, body["details"][0]["code"].as_str()), (422, Some("same_record")), "{body}");
    let (status, body) = both.post(MERGES, &json!({"keep": "nobody", "merge": "x"})).await?;
    assert_eq!((status, body["details"].as_array().map(Vec::len)), (422, Some(2)), "{body}");
    let (status, body) = both.post(MERGES, &json!({"keep": a_id, "merge": b_id, "why": "same"})).await?;
    assert_eq!((status, body["code"].as_str()), (422, Some("invalid_body")), "{body}");
    let unknown = RecordId(uuid::Uuid::now_v7()).to_string();
    let (status, _) = both.post(MERGES, &json!({"keep": a_id, "merge": unknown})).await?;
    assert_eq!(status, 404);
    let worker = WebClient::logged_in(&server, "worker", Role::OutreachWorker, &[SITE_A]).await?;
    let (status, _) = worker.post(MERGES, &json!({"keep": a_id, "merge": slip_id})).await?;
    assert_eq!(status, 403);
    assert!(server.storage.people(server.storage.org_settings().await?.id).await?.is_empty());

    // Merged: the street team's record and the slip into the drop-in centre's.
    let (status, review) = both.post(MERGES, &json!({"keep": a_id, "merge": b_id})).await?;
    assert_eq!(status, 200, "{review}");
    assert_eq!(pair_ids(&review), vec![(a_id.clone(), slip_id.clone(), "near_code".into())], "{review}");
    let (status, body) = both.post(MERGES, &json!({"keep": b_id, "merge": a_id})).await?;
    assert_eq!((status, body["code"].as_str()), (409, Some("clash")), "merged twice: {body}");
    let (status, review) = both.post(MERGES, &json!({"keep": a_id, "merge": slip_id})).await?;
    assert_eq!(status, 200, "{review}");
    assert!(pair_ids(&review).is_empty(), "{review}");
    assert_eq!(review["merges"].as_array().map(Vec::len), Some(2), "{review}");
    let street_merge = review["merges"][1]["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(review["merges"][1]["merged"]["id"], b_id.as_str(), "{review}");

    // Before the drop-in centre's tablet hears of the merge, it serves the slipped record again.
    visit(&a, slip, "2026-11-20T10:00:00Z")?;
    for device in [&a, &b] {
        assert_eq!(device.sync().await?.rejected, 0);
    }
    assert_eq!(indicator(&admin, month, "people_reached").await?, 2.0, "one woman and one man");
    assert_eq!(indicator(&admin, late, "people_reached").await?, 1.0);
    assert_eq!(indicator(&admin, late, "new_clients").await?, 0.0, "first seen on the 2nd: not new after the 5th");
    // The tablet shows one person: the kept code, her whole history, her contacts under it.
    let found = a.with(|s| s.find_clients("M", 10))?;
    assert_eq!(found.iter().map(|c| c.id).collect::<Vec<_>>(), vec![at_a], "{found:?}");
    assert!(a.with(|s| s.near_matches("MAIV288"))?.iter().all(|c| c.id != slip));
    let history = a.with(|s| s.client_history(slip, 50))?;
    assert_eq!(history.len(), 3, "her contacts under both records at this site: {history:?}");
    assert!(history.iter().all(|c| c.client_id == Some(at_a) && c.client_uic.as_deref() == Some("MAIV287")));
    // The street team's tablet does not hold the kept record: its own record stays as it is.
    assert_eq!(b.with(|s| s.find_clients("MAIV", 10))?.iter().map(|c| c.id).collect::<Vec<_>>(), vec![at_b]);
    assert_converged(&server, &[&a]).await?;

    // Undone: two records again, in the reports, the review and on the tablet.
    let (status, review) = both.post(&format!("{MERGES}/{street_merge}/undo"), &json!({})).await?;
    assert_eq!(status, 200, "{review}");
    assert_eq!(pair_ids(&review), vec![(a_id.clone(), b_id.clone(), "same_code".into())], "{review}");
    let (status, body) = both.post(&format!("{MERGES}/{street_merge}/undo"), &json!({})).await?;
    assert_eq!((status, body["code"].as_str()), (409, Some("clash")), "undone twice: {body}");
    let (status, _) = both.post(&format!("{MERGES}/not-a-merge/undo"), &json!({})).await?;
    assert_eq!(status, 404);
    assert_eq!(indicator(&admin, late, "people_reached").await?, 2.0);
    assert_eq!(indicator(&admin, late, "new_clients").await?, 1.0, "the street team's record is new again");
    a.sync().await?;
    assert_eq!(a.with(|s| s.find_clients("M", 10))?.len(), 1, "the slip stays merged");

    // Two people after all: the pair is no longer offered.
    let (status, review) =
        both.post("/api/v1/dashboard/admin/duplicates/dismiss", &json!({"a": b_id, "b": a_id})).await?;
    assert_eq!(status, 200, "{review}");
    assert!(pair_ids(&review).is_empty(), "{review}");

    let log = server.storage.audit_log().await?;
    for action in ["client.merge", "client.unmerge", "client.not_duplicate"] {
        assert!(log.iter().any(|r| r.action == action && r.actor == "user:coord"), "{action} not audited");
    }
    assert_eq!(log.iter().filter(|r| r.action == "client.merge").count(), 2, "refusals are not merges");
    assert!(log.iter().all(|r| !format!("{r:?}").contains("MAIV287")), "a code is in the audit log");
    assert!(a.with(|s| s.get(Collection::Clients, other))?.is_some());
    server.stop().await
}

on_both_backends!(the_client_index_finds_a_person_of_another_site_and_a_merge_shows_one_on_every_tablet);

/// Turns the organisation's client index on or off from the dashboard, as an admin would.
async fn set_index(admin: &WebClient, on: bool) -> anyhow::Result<()> {
    let path = "/api/v1/dashboard/admin/organisation";
    let current = admin.get_json(path).await?;
    let (status, body) = admin
        .post(
            path,
            &json!({
                "name": current["name"], "default_language": current["default_language"],
                "uic_scheme": current["uic_scheme"], "retention_days": current["retention_days"],
                "client_index": on,
            }),
        )
        .await?;
    anyhow::ensure!(status == 200 && body["client_index"] == on, "{status} {body}");
    Ok(())
}

async fn the_client_index_finds_a_person_of_another_site_and_a_merge_shows_one_on_every_tablet(
    backend: Backend,
) -> anyhow::Result<()> {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let a = SimDevice::enroll(&server, SITE_A).await?;
    let b = SimDevice::enroll(&server, SITE_B).await?;
    let first = a.create(
        Collection::Clients,
        json!({"uic": "MAIV287", "gender": "woman", "birth_year": 1987, "key_groups": ["sex_work"],
               "first_seen_at": "2026-11-02T10:00:00Z"}),
    )?;
    visit(&a, first, "2026-11-02T10:00:00Z")?;
    a.sync().await?;
    b.sync().await?;
    // Off by default: the street team's tablet holds its own site's clients only.
    assert!(b.with(|s| s.find_clients("MAIV", 10))?.is_empty());
    assert_converged(&server, &[&a, &b]).await?;

    // On: the code typed at site B finds her, with the code, gender and year only.
    let admin = WebClient::logged_in(&server, "admin", Role::Admin, &[]).await?;
    set_index(&admin, true).await?;
    a.sync().await?;
    b.sync().await?;
    let found = b.with(|s| s.find_clients("MAIV", 10))?;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].id, found[0].other_site.as_deref()), (first, Some(SITE_A)));
    let held = b.with(|s| s.get(Collection::Clients, first))?.ok_or_else(|| anyhow::anyhow!("not held"))?;
    assert_eq!(held.fields.keys().collect::<Vec<_>>(), vec!["birth_year", "gender", "uic"], "{held:?}");
    assert!(a.with(|s| s.find_clients("MAIV", 10))?[0].other_site.is_none(), "her own site's tablet");
    // The street team serves her under her record: one person in the reports, nothing refused.
    visit(&b, first, "2026-11-15T22:00:00Z")?;
    assert_eq!(b.sync().await?.rejected, 0);
    assert_eq!(indicator(&admin, "from=2026-11-01&to=2026-11-30", "people_reached").await?, 1.0);
    assert_eq!(b.with(|s| s.client_history(first, 10))?.len(), 1, "its own contact with her");
    // Another site's client is read only on this tablet.
    let refused = b.with(|s| s.update(Collection::Clients, first, outpost_tests::object(json!({"birth_year": 1988}))));
    assert!(matches!(refused, Err(outpost_device::StoreError::SiteNotEnrolled(_))), "{refused:?}");
    assert_converged(&server, &[&a, &b]).await?;

    // Both tablets register the same man offline; once synced, each holds both records; the
    // coordinator merges them and each tablet then shows one person.
    let at_a = a.create(
        Collection::Clients,
        json!({"uic": "OLPE190", "gender": "man", "first_seen_at": "2026-11-03T10:00:00Z"}),
    )?;
    let at_b = b.create(
        Collection::Clients,
        json!({"uic": "OLPE190", "gender": "man", "first_seen_at": "2026-11-04T10:00:00Z"}),
    )?;
    visit(&a, at_a, "2026-11-03T10:00:00Z")?;
    visit(&b, at_b, "2026-11-04T10:00:00Z")?;
    for device in [&a, &b, &a] {
        assert_eq!(device.sync().await?.rejected, 0);
    }
    for device in [&a, &b] {
        assert_eq!(device.with(|s| s.find_clients("OLPE", 10))?.len(), 2);
    }
    let coordinator = WebClient::logged_in(&server, "coord", Role::Coordinator, &[SITE_A, SITE_B]).await?;
    let (status, review) =
        coordinator.post(MERGES, &json!({"keep": at_a.to_string(), "merge": at_b.to_string()})).await?;
    assert_eq!(status, 200, "{review}");
    for device in [&a, &b] {
        device.sync().await?;
        let found = device.with(|s| s.find_clients("OLPE", 10))?;
        assert_eq!(found.iter().map(|c| c.id).collect::<Vec<_>>(), vec![at_a], "{found:?}");
        let history = device.with(|s| s.client_history(at_b, 10))?;
        assert!(history.iter().all(|c| c.client_id == Some(at_a)), "{history:?}");
    }
    assert_eq!(indicator(&admin, "from=2026-11-01&to=2026-11-30", "people_reached").await?, 2.0);
    assert_converged(&server, &[&a, &b]).await?;

    // Off again: the other site's clients leave the street team's tablet; its own work stays.
    set_index(&admin, false).await?;
    a.sync().await?;
    b.sync().await?;
    assert!(b.with(|s| s.get(Collection::Clients, first))?.is_none());
    assert_eq!(b.with(|s| s.find_clients("OLPE", 10))?.iter().map(|c| c.id).collect::<Vec<_>>(), vec![at_b]);
    assert_eq!(b.with(|s| s.contacts_between("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z", 10))?.len(), 2);
    assert_converged(&server, &[&a, &b]).await?;
    let log = server.storage.audit_log().await?;
    assert!(log.iter().any(|r| r.action == "org.change" && r.detail.contains("client index: off → on")));
    server.stop().await
}
