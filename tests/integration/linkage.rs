//! Linkage to care recorded later (issue 17, item 3): a reactive test waits on the tablet's
//! follow-up list until the worker records that the person was linked to care, weeks after the
//! contact if need be; the report counts each linkage in the period it happened, whatever
//! period the test was in; what is not a reactive test waiting for linkage is refused.

use outpost_core::{Collection, RecordId};
use outpost_device::StoreError;
use outpost_server::services::accounts::Role;
use outpost_server::settings::Settings;
use outpost_tests::{Backend, SITE_A, SimDevice, TestServer, WebClient, assert_converged};
use serde_json::json;

on_both_backends!(a_linkage_recorded_later_counts_in_the_period_it_happened);

async fn value(web: &WebClient, from: &str, to: &str, key: &str) -> anyhow::Result<f64> {
    let report = web.get_json(&format!("/api/v1/dashboard/indicators?from={from}&to={to}&suppress=false")).await?;
    report["indicators"]
        .as_array()
        .and_then(|all| all.iter().find(|i| i["key"] == key))
        .and_then(|i| i["value"].as_f64())
        .ok_or_else(|| anyhow::anyhow!("no {key} in {report}"))
}

async fn a_linkage_recorded_later_counts_in_the_period_it_happened(backend: Backend) -> anyhow::Result<()> {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let a = SimDevice::enroll(&server, SITE_A).await?;
    let client = a.create(Collection::Clients, json!({"uic": "MAIV287", "gender": "woman"}))?;
    let test = |day: &str, kind: &str, result: &str, linked: bool| -> anyhow::Result<RecordId> {
        let contact = a.create(
            Collection::Contacts,
            json!({"setting": "window", "occurred_at": format!("{day}T10:00:00Z"), "client_id": client.to_string()}),
        )?;
        // Linked at the test, as a tablet before `linked_at` wrote it: counted at the contact.
        a.create(
            Collection::TestResults,
            json!({"contact_id": contact.to_string(), "client_id": client.to_string(), "test": kind, "result": result,
                   "linked_to_care": linked}),
        )
    };
    let september = test("2026-09-28", "hiv_rapid", "reactive", false)?;
    test("2026-10-05", "hcv_rapid", "reactive", true)?;
    let negative = test("2026-10-03", "hiv_rapid", "non_reactive", false)?;
    let late_october = test("2026-10-20", "syphilis", "reactive", false)?;

    // The follow-up list: the reactive tests not linked yet, oldest first.
    let open = |device: &SimDevice| -> anyhow::Result<Vec<RecordId>> {
        let site = device.site_id();
        Ok(device.with(|s| s.open_linkages(site, 50))?.into_iter().map(|l| l.id).collect())
    };
    assert_eq!(open(&a)?, vec![september, late_october]);
    let waiting = a.with(|s| s.open_linkages(a.site_id(), 50))?;
    assert_eq!((waiting[0].test.as_str(), waiting[0].client_uic.as_deref()), ("hiv_rapid", Some("MAIV287")));
    assert_eq!(waiting[0].tested_at, "2026-09-28T10:00:00Z");

    // Recorded on 10 October; refused for a test that is not reactive, one linked already and
    // one that does not exist, changing nothing.
    a.with(|s| s.record_linkage(september, "2026-10-10T09:00:00Z"))?;
    let again = a.with(|s| s.record_linkage(september, "2026-10-11T09:00:00Z"));
    assert!(matches!(&again, Err(StoreError::Invalid(p)) if p[0].code == "already_linked"), "{again:?}");
    let negative = a.with(|s| s.record_linkage(negative, "2026-10-11T09:00:00Z"));
    assert!(matches!(&negative, Err(StoreError::Invalid(p)) if p[0].code == "not_reactive"), "{negative:?}");
    let unknown = a.with(|s| s.record_linkage(RecordId(uuid::Uuid::now_v7()), "2026-10-11T09:00:00Z"));
    assert!(matches!(unknown, Err(StoreError::NotFound { .. })), "{unknown:?}");
    assert_eq!(open(&a)?, vec![late_october]);
    let linked = a.with(|s| s.get(Collection::TestResults, september))?.ok_or_else(|| anyhow::anyhow!("gone"))?;
    assert_eq!(linked.values()["linked_at"], "2026-10-10T09:00:00Z");
    assert_eq!(a.sync().await?.rejected, 0);

    // September's test, linked in October, counts in October; the test itself stays September's.
    let web = WebClient::logged_in(&server, "coord", Role::Coordinator, &[SITE_A]).await?;
    assert_eq!(value(&web, "2026-09-01", "2026-09-30", "linked_to_care").await?, 0.0);
    assert_eq!(value(&web, "2026-09-01", "2026-09-30", "tests_done").await?, 1.0);
    assert_eq!(value(&web, "2026-10-01", "2026-10-31", "linked_to_care").await?, 2.0);
    assert_eq!(value(&web, "2026-10-01", "2026-10-31", "tests_done").await?, 3.0);

    // The October test linked in November leaves October as it was.
    a.with(|s| s.record_linkage(late_october, "2026-11-02T09:00:00Z"))?;
    assert_eq!(a.sync().await?.rejected, 0);
    assert!(open(&a)?.is_empty());
    assert_eq!(value(&web, "2026-10-01", "2026-10-31", "linked_to_care").await?, 2.0);
    assert_eq!(value(&web, "2026-11-01", "2026-11-30", "linked_to_care").await?, 1.0);
    // A second tablet of the site sees nothing left to follow up.
    let b = SimDevice::enroll(&server, SITE_A).await?;
    b.sync().await?;
    assert!(open(&b)?.is_empty());
    assert_converged(&server, &[&a, &b]).await?;
    server.stop().await
}
