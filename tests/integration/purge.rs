//! Tombstone clean-up and the full resync of a device that was offline across it: deleted
//! records never come back, on the server or on any tablet, and nothing the offline tablet
//! entered is lost (a change to a purged record is set aside in its rejected list, visible).

use outpost_core::Collection;
use outpost_server::settings::Settings;
use outpost_server::time::now_ms;
use outpost_tests::{Backend, SITE_A, SimDevice, TestServer, assert_converged};
use serde_json::json;

on_both_backends!(
    a_device_offline_across_the_clean_up_resyncs_and_resurrects_nothing,
    a_deleted_record_keeps_nothing_and_the_clean_up_takes_its_traces,
);

/// Issue 18, item 7: a tombstone keeps no field (a deleted note is not sent on to any tablet),
/// the reports' projection drops the record at once, and the clean-up removes what the conflict
/// log kept of it.
async fn a_deleted_record_keeps_nothing_and_the_clean_up_takes_its_traces(backend: Backend) -> anyhow::Result<()> {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let a = SimDevice::enroll(&server, SITE_A).await?;
    let b = SimDevice::enroll(&server, SITE_A).await?;
    let contact = a.create(
        Collection::Contacts,
        json!({"setting": "window", "occurred_at": "2026-11-25T10:00:00Z", "note": "private words"}),
    )?;
    a.sync().await?;
    b.sync().await?;
    server.storage.refresh_projection().await?;
    let projected = || async {
        let rows = server
            .storage
            .query(outpost_server_store::Statement::query(
                "SELECT COUNT(*) FROM report_contacts WHERE id = ?",
                vec![outpost_server_store::SqlValue::Text(contact.to_string())],
            ))
            .await?;
        anyhow::Ok(outpost_server_store::RowExt::col::<i64>(rows[0].as_slice(), 0)?)
    };
    assert_eq!(projected().await?, 1);

    // B, offline, edits the note; A deletes the contact.
    b.update(Collection::Contacts, contact, json!({"note": "edited offline"}))?;
    a.with(|s| s.delete(Collection::Contacts, contact))?;
    a.sync().await?;
    let stored = server.storage.record("contacts", contact).await?.ok_or_else(|| anyhow::anyhow!("no tombstone"))?;
    assert!(stored.deleted.is_some() && stored.fields.is_empty(), "the tombstone keeps fields: {stored:?}");
    server.storage.refresh_projection().await?;
    assert_eq!(projected().await?, 0, "the deleted contact is still in the reports' projection");

    // B's edit meets the tombstone: reported, not stored; B's copy is emptied too.
    b.sync().await?;
    let on_b =
        b.with(|s| s.get(Collection::Contacts, contact))?.ok_or_else(|| anyhow::anyhow!("B lost the tombstone"))?;
    assert!(on_b.deleted.is_some() && on_b.fields.is_empty(), "B keeps the deleted contact's fields: {on_b:?}");
    let stored = server.storage.record("contacts", contact).await?.ok_or_else(|| anyhow::anyhow!("no tombstone"))?;
    assert!(stored.fields.is_empty(), "the late edit was stored in the tombstone: {stored:?}");
    // A tablet enrolled now receives the tombstone and nothing of the note.
    let c = SimDevice::enroll(&server, SITE_A).await?;
    c.sync().await?;
    let on_c = c.with(|s| s.get(Collection::Contacts, contact))?;
    assert!(
        on_c.as_ref().is_none_or(|state| state.fields.is_empty()),
        "a new tablet received the deleted note: {on_c:?}"
    );
    let export = serde_json::to_string(&server.storage.export().await?)?;
    assert!(!export.contains("private words"), "the deleted note is still on the server");
    assert!(export.contains("edited offline"), "the late edit is kept for review until the clean-up");

    // The clean-up removes the tombstone and the conflict entries that hold its old values.
    assert_eq!(server.storage.purge_tombstones(now_ms() + 1, now_ms()).await?.purged, 1);
    let export = serde_json::to_string(&server.storage.export().await?)?;
    assert!(!export.contains("edited offline"), "the conflict log still holds the deleted contact's values");
    assert!(export.contains(&contact.to_string()), "its key stays among the purged records");
    assert!(server.storage.conflicts(Default::default()).await?.iter().all(|c| c.record_id != contact));
    Ok(())
}

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
