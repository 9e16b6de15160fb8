//! Tombstone clean-up and the full resync of a device that was offline across it: deleted
//! records never come back, on the server or on any tablet, and nothing the offline tablet
//! entered is lost (a change to a purged record is set aside in its rejected list, visible).

use outpost_core::Collection;
use outpost_server::settings::Settings;
use outpost_server::time::now_ms;
use outpost_tests::{Backend, SITE_A, SimDevice, TestServer, assert_converged};
use serde_json::json;

on_both_backends!(a_device_offline_across_the_clean_up_resyncs_and_resurrects_nothing);

async fn a_device_offline_across_the_clean_up_resyncs_and_resurrects_nothing(backend: Backend) -> anyhow::Result<()> {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let a = SimDevice::enroll(&server, SITE_A).await?;
    let b = SimDevice::enroll(&server, SITE_A).await?;
    let client = a.create(Collection::Clients, json!({"uic": "MAIV287", "gender": "woman"}))?;
    let gone = a.create(Collection::Clients, json!({"uic": "OLPE190", "gender": "man"}))?;
    let edited = a.create(Collection::Clients, json!({"uic": "NAVI185", "gender": "man"}))?;
    a.sync().await?;
    b.sync().await?;
    assert!(b.with(|s| s.get(Collection::Clients, gone))?.is_some());

    // B goes offline. A deletes two clients; long after, the server cleans the tombstones up.
    a.with(|s| s.delete(Collection::Clients, gone))?;
    a.with(|s| s.delete(Collection::Clients, edited))?;
    a.sync().await?;
    let report = server.storage.purge_tombstones(now_ms() + 1, now_ms()).await?;
    assert_eq!(report.purged, 2);
    assert_eq!(server.storage.purge_tombstones(now_ms() + 1, now_ms()).await?.purged, 0, "a second run finds none");

    // Meanwhile, offline, B edited one of them and registered a new client.
    b.update(Collection::Clients, edited, json!({"birth_year": 1985}))?;
    let new = b.create(Collection::Clients, json!({"uic": "KATE299", "gender": "woman"}))?;
    let synced = b.sync().await?;
    assert!(synced.resynced, "B's old cursor needed a full resync: {synced:?}");
    assert_eq!(synced.rejected, 1, "the edit of the purged client is set aside: {synced:?}");
    let rejected = b.with(|s| s.rejected_ops())?;
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].code, "record_purged");
    assert_eq!(rejected[0].op.record_id, edited);

    // Neither deleted client came back, anywhere; the new one and the untouched one are there.
    for id in [gone, edited] {
        assert!(server.storage.record("clients", id).await?.is_none(), "{id} is back on the server");
        assert!(b.with(|s| s.get(Collection::Clients, id))?.is_none(), "{id} is still on the offline tablet");
    }
    assert!(server.storage.record("clients", new).await?.is_some());
    assert!(b.with(|s| s.get(Collection::Clients, client))?.is_some());
    assert!(b.with(|s| s.check_consistency())?.is_empty());

    // A device that pulled after the deletions and a new device pull incrementally, no resync.
    assert!(!a.sync().await?.resynced);
    let c = SimDevice::enroll(&server, SITE_A).await?;
    assert!(!c.sync().await?.resynced);
    assert!(!b.sync().await?.resynced, "the resync is done once");
    assert_converged(&server, &[&b, &c]).await?;
    // A keeps its own two tombstones (a tablet drops them at its next full resync); apart from
    // them it holds exactly the server's records.
    for id in [gone, edited] {
        let local = a.with(|s| s.get(Collection::Clients, id))?;
        assert!(local.is_some_and(|state| state.deleted.is_some()), "{id} is a tombstone on A");
    }
    a.with(|s| s.begin_resync())?;
    a.sync().await?;
    assert_converged(&server, &[&a, &b, &c]).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incremental_pull_below_the_horizon_is_refused_with_its_code() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let a = SimDevice::enroll(&server, SITE_A).await?;
    let id = a.create(Collection::Clients, json!({"uic": "MAIV287", "gender": "woman"}))?;
    a.sync().await?;
    let stale_cursor = a.with(|s| s.cursor())?;
    a.with(|s| s.delete(Collection::Clients, id))?;
    a.sync().await?;
    server.storage.purge_tombstones(now_ms() + 1, now_ms()).await?;
    let token = a.with(|s| s.identity().map(|i| i.token.clone())).ok_or_else(|| anyhow::anyhow!("no token"))?;
    let reply = reqwest::Client::new()
        .get(format!("{}/api/v1/sync/pull?after={}", server.url(), stale_cursor))
        .bearer_auth(&token)
        .header(outpost_core::wire::PROTOCOL_HEADER, outpost_core::wire::PROTOCOL_VERSION.to_string())
        .send()
        .await?;
    assert_eq!(reply.status(), 410);
    let body: outpost_core::wire::ErrorBody = reply.json().await?;
    assert_eq!(body.code, "resync_required");
    Ok(())
}
