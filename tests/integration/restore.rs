//! Issue 18, item 20: the server is restored from a backup older than the tablets' last sync.
//! Tablets notice (the server holds fewer of their operations than it acknowledged), send back
//! everything they hold and pull everything again: nothing they had sent is lost, nothing is
//! duplicated, and later work syncs as usual. Bad restore requests are refused whole.

use outpost_core::Collection;
use outpost_core::wire::{ErrorBody, PROTOCOL_HEADER, PROTOCOL_VERSION, RestoreRequest};
use outpost_device::SyncClient;
use outpost_server::settings::Settings;
use outpost_tests::{Backend, SITE_A, SITE_B, SimDevice, TestServer, assert_converged};
use serde_json::json;

on_both_backends!(a_server_restored_from_an_older_backup_gets_back_what_the_tablets_hold);

async fn a_server_restored_from_an_older_backup_gets_back_what_the_tablets_hold(
    backend: Backend,
) -> anyhow::Result<()> {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let mut a = SimDevice::enroll(&server, SITE_A).await?;
    let mut b = SimDevice::enroll(&server, SITE_A).await?;
    let first = a.create(Collection::Clients, json!({"uic": "MAIV287", "gender": "woman"}))?;
    a.sync().await?;
    b.sync().await?;

    // The nightly backup; then a day of work that only the tablets will remember.
    let backup = server.storage.export().await?;
    a.update(Collection::Clients, first, json!({"birth_year": 1987}))?;
    let second = a.create(Collection::Clients, json!({"uic": "OLPE190", "gender": "man"}))?;
    let visit = a.create(
        Collection::Contacts,
        json!({"setting": "window", "occurred_at": "2026-12-05T10:00:00Z", "client_id": second.to_string()}),
    )?;
    let line = a.create(
        Collection::DistributionLines,
        json!({"contact_id": visit.to_string(), "commodity": "syringe_1ml", "quantity": 10}),
    )?;
    a.sync().await?;
    let third = b.create(Collection::Clients, json!({"uic": "NAVI185", "gender": "man"}))?;
    b.sync().await?;
    a.sync().await?;
    let before = server.storage.snapshot().await?.len();
    server.stop().await?;

    // The disk fails; the server comes back from the backup, at the same address for the
    // tablets (their tokens are in the backup).
    let restored = TestServer::restored_from(backend, Settings::default(), backup).await?;
    assert!(restored.storage.record("clients", second).await?.is_none(), "the backup is older than the work");
    a.client = SyncClient::new(&restored.url())?;
    b.client = SyncClient::new(&restored.url())?;

    let report = a.sync().await?;
    assert!(report.restored >= 4 && report.resynced, "A sent back what the server lost: {report:?}");
    let report = b.sync().await?;
    assert!(report.resynced, "B noticed too: {report:?}");
    let again = a.sync().await?;
    assert!(again.restored == 0 && !again.resynced, "a second sync finds nothing to send back: {again:?}");

    // Everything is back, once.
    let rows = restored.storage.snapshot().await?;
    assert_eq!(rows.len(), before, "records lost or duplicated by the restore");
    let client = restored.storage.record("clients", first).await?.ok_or_else(|| anyhow::anyhow!("lost"))?;
    assert_eq!(client.values().get("birth_year"), Some(&json!(1987)), "the edit after the backup is back");
    for (collection, id) in [
        (Collection::Clients, second),
        (Collection::Clients, third),
        (Collection::Contacts, visit),
        (Collection::DistributionLines, line),
    ] {
        assert!(restored.storage.record(collection.name(), id).await?.is_some(), "{collection} {id} is lost");
    }
    assert_converged(&restored, &[&a, &b]).await?;

    // Work goes on: new changes sync once, a new tablet gets everything.
    let fourth = b.create(Collection::Clients, json!({"uic": "KATE299", "gender": "woman"}))?;
    let pushed = b.sync().await?;
    assert_eq!((pushed.pushed, pushed.rejected, pushed.restored), (1, 0, 0), "{pushed:?}");
    a.sync().await?;
    assert!(a.with(|s| s.get(Collection::Clients, fourth))?.is_some());
    let c = SimDevice::enroll(&restored, SITE_A).await?;
    c.sync().await?;
    assert_converged(&restored, &[&a, &b, &c]).await?;
    let log = restored.storage.audit_log().await?;
    assert!(log.iter().any(|r| r.action == "sync.restore"), "the restore is not audited");
    restored.stop().await
}

/// Restores that are not what a tablet holds are refused whole, each problem named, and change
/// nothing: server data, another site's records, too many records, stamps from the future, no
/// token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_restore_is_refused_and_changes_nothing() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let a = SimDevice::enroll(&server, SITE_A).await?;
    let client = a.create(Collection::Clients, json!({"uic": "MAIV287", "gender": "woman"}))?;
    a.sync().await?;
    let token = a.with(|s| s.identity().map(|i| i.token.clone())).ok_or_else(|| anyhow::anyhow!("no token"))?;
    let held = a.with(|s| s.held_records(None, 10))?;
    assert_eq!(held.len(), 1, "only what tablets write is sent back: {held:?}");
    let before = server.storage.snapshot().await?;
    let post = |body: serde_json::Value, token: Option<&str>| {
        let mut request = reqwest::Client::new()
            .post(format!("{}/api/v1/sync/restore", server.url()))
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    let good = serde_json::to_value(RestoreRequest { acked_through: 1, records: held.clone() })?;
    let with = |change: &dyn Fn(&mut serde_json::Value)| {
        let mut body = good.clone();
        change(&mut body["records"][0]);
        body
    };
    let other_site = server.site_id(SITE_B).await?;
    let cases: Vec<(serde_json::Value, u16, &str)> = vec![
        (with(&|r| r["collection"] = json!("commodities")), 422, "read_only_collection"),
        (with(&|r| r["collection"] = json!("nonsense")), 422, "unknown_collection"),
        (with(&|r| r["site_id"] = json!(other_site.to_string())), 403, "site_not_enrolled"),
        (with(&|r| r["state"]["fields"]["gender"]["v"] = json!("robot")), 422, "not_allowed"),
    ];
    for (body, status, code) in cases {
        let reply = post(body.clone(), Some(&token)).await?;
        assert_eq!(reply.status().as_u16(), status, "{body}");
        let error: ErrorBody = reply.json().await?;
        assert!(error.details.iter().any(|d| d.code == code), "{code} expected: {error:?}");
    }
    let too_many = json!({"acked_through": 1, "records": vec![held[0].clone(); 501]});
    let reply = post(too_many, Some(&token)).await?;
    assert_eq!(reply.status(), 413);
    assert_eq!(reply.json::<ErrorBody>().await?.code, "too_many_records");
    assert_eq!(post(good.clone(), None).await?.status(), 401);
    let reply = post(json!({"acked_through": 1, "records": [], "extra": true}), Some(&token)).await?;
    assert_eq!(reply.status(), 422);
    assert_eq!(server.storage.snapshot().await?, before, "a refused restore changed the server");

    // The good one, twice: nothing new (the server holds it all), the mark stays.
    for _ in 0..2 {
        let reply = post(good.clone(), Some(&token)).await?;
        assert_eq!(reply.status(), 200);
        let done: outpost_core::wire::RestoreResponse = reply.json().await?;
        assert_eq!((done.restored, done.applied_through), (0, 1));
    }
    assert!(server.storage.record("clients", client).await?.is_some());
    assert_eq!(server.storage.snapshot().await?, before);

    // A stamp from a clock far ahead is moved back to the server's, as a push's is.
    let device = held[0].state.fields.get("uic").map(|f| f.stamp.device).ok_or_else(|| anyhow::anyhow!("no uic"))?;
    let ahead = with(&|r| {
        r["state"]["fields"]["birth_year"] =
            json!({"v": 1987, "t": outpost_core::Hlc::new(4_000_000_000_000, 0, device).to_string()});
    });
    assert_eq!(post(ahead, Some(&token)).await?.status(), 200);
    let stored = server.storage.record("clients", client).await?.ok_or_else(|| anyhow::anyhow!("lost"))?;
    let stamp = stored.fields.get("birth_year").map(|f| f.stamp.wall_ms).unwrap_or_default();
    assert!(stamp > 0 && stamp <= outpost_server::time::now_ms() + 5 * 60 * 1000, "not clamped: {stamp}");
    server.stop().await
}

/// A record the restored server refuses (here: a client code of the scheme the organisation
/// chose after the backup) is left out, the rest is sent, and the tablet keeps the refused one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_the_restored_server_refuses_stays_on_the_tablet_and_the_rest_gets_through() -> anyhow::Result<()> {
    use outpost_server::services::admin::{Actor, org};
    let server = TestServer::start().await?;
    let mut a = SimDevice::enroll(&server, SITE_A).await?;
    let backup = server.storage.export().await?;
    // After the backup the programme chose another scheme (no client yet) and registered one.
    let current = org::get(&server.storage).await?;
    let surname = current.built_in_schemes.iter().find(|s| s.name == "surname_day_year").cloned();
    let form = org::OrganisationForm {
        name: current.name.clone(),
        default_language: current.default_language.clone(),
        uic_scheme: surname.ok_or_else(|| anyhow::anyhow!("no scheme"))?,
        retention_days: None,
        client_index: false,
        nsp_target: None,
    };
    org::change(&server.storage, &Actor::cli(), &form).await?;
    a.sync().await?;
    let client = a.create(Collection::Clients, json!({"uic": "PET10785", "gender": "man"}))?;
    let visit = a.create(Collection::Contacts, json!({"setting": "window", "occurred_at": "2026-12-05T10:00:00Z"}))?;
    a.sync().await?;
    server.stop().await?;

    let restored = TestServer::restored_from(Backend::Sqlite, Settings::default(), backup).await?;
    a.client = SyncClient::new(&restored.url())?;
    let report = a.sync().await?;
    assert!(report.resynced && report.rejected == 1, "{report:?}");
    assert!(restored.storage.record("contacts", visit).await?.is_some(), "the rest did not get through");
    assert!(restored.storage.record("clients", client).await?.is_none(), "the refused client was stored");
    assert!(a.with(|s| s.get(Collection::Clients, client))?.is_some(), "the tablet dropped the refused client");
    assert!(!a.with(|s| s.restore_pending())?);
    restored.stop().await
}
