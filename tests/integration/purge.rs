//! Tombstone clean-up and the full resync of a device that was offline across it: deleted
//! records never come back, on the server or on any tablet, and nothing the offline tablet
//! entered is lost (a change to a purged record is set aside in its rejected list, visible).

use outpost_core::Collection;
use outpost_device::sync::{RESYNC_WINDOW_MS, SyncOptions};
use outpost_server::settings::Settings;
use outpost_server::time::now_ms;
use outpost_tests::{Backend, SITE_A, SITE_B, SimDevice, TestServer, assert_converged, fast_retries};
use serde_json::json;

on_both_backends!(
    a_device_offline_across_the_clean_up_resyncs_and_resurrects_nothing,
    a_deleted_record_keeps_nothing_and_the_clean_up_takes_its_traces,
    a_resync_of_many_pages_finishes_past_the_newest_clean_up,
);

/// Small pages, so the newest cleaned-up deletion lies many pages beyond the start of a resync.
fn small_pages() -> SyncOptions {
    SyncOptions { pull_limit: 2, ..fast_retries() }
}

/// A full resync pulls page after page from 0: every page but the last lies below the newest
/// cleaned-up deletion, and none of them may send the tablet back to the start (it never
/// finished before). Its last page moves the cursor past that deletion, so neither the resync
/// nor a tablet of another site whose records all lie below it resyncs again and again.
async fn a_resync_of_many_pages_finishes_past_the_newest_clean_up(backend: Backend) -> anyhow::Result<()> {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let a = SimDevice::enroll(&server, SITE_A).await?;
    let b = SimDevice::enroll(&server, SITE_A).await?;
    let other_site = SimDevice::enroll(&server, SITE_B).await?;
    let mut clients = Vec::new();
    for (i, code) in ["MAIV287", "OLPE190", "NAVI185", "KATE299", "IRPE170", "ANSI288"].iter().enumerate() {
        clients.push(a.create(Collection::Clients, json!({"uic": code, "gender": "woman", "birth_year": 1980 + i}))?);
    }
    a.sync().await?;
    b.client.sync(&b.store, &small_pages(), &mut |_| {}).await?;
    other_site.sync().await?;

    // B goes offline; A deletes a client late, after more work, and the clean-up takes it.
    for code in ["OLAN191", "PEVA277", "SEMI180"] {
        a.create(Collection::Clients, json!({"uic": code, "gender": "man"}))?;
    }
    a.sync().await?;
    a.with(|s| s.delete(Collection::Clients, clients[0]))?;
    a.sync().await?;
    assert_eq!(server.storage.purge_tombstones(now_ms() + 1, now_ms()).await?.purged, 1);

    let synced = b.client.sync(&b.store, &small_pages(), &mut |_| {}).await?;
    assert!(synced.resynced, "B's cursor lies below the clean-up: {synced:?}");
    assert!(!b.with(|s| s.resync_in_progress())?, "the resync did not finish: {synced:?}");
    assert!(b.with(|s| s.get(Collection::Clients, clients[0]))?.is_none(), "the deleted client stayed on B");
    assert!(b.with(|s| s.check_consistency())?.is_empty());
    for run in 0..2 {
        let again = b.client.sync(&b.store, &small_pages(), &mut |_| {}).await?;
        assert!(!again.resynced, "B resynced again (run {run}): {again:?}");
    }
    assert_converged(&server, &[&a, &b]).await?;

    // The other site never had the deleted client; once told to resync (the clean-up is
    // organisation-wide) it is past the clean-up and stays there.
    other_site.client.sync(&other_site.store, &small_pages(), &mut |_| {}).await?;
    let again = other_site.client.sync(&other_site.store, &small_pages(), &mut |_| {}).await?;
    assert!(!again.resynced, "a tablet of another site resyncs at every sync: {again:?}");
    let fresh = SimDevice::enroll(&server, SITE_B).await?;
    fresh.client.sync(&fresh.store, &small_pages(), &mut |_| {}).await?;
    let again = fresh.client.sync(&fresh.store, &small_pages(), &mut |_| {}).await?;
    assert!(!again.resynced, "a new tablet of another site resyncs at its second sync: {again:?}");

    // A resync interrupted for longer than the window starts again from the beginning (a
    // deletion could have been cleaned up behind it) and still finishes.
    b.with(|s| s.begin_resync())?;
    b.with(|s| s.set_clock_offset_ms(RESYNC_WINDOW_MS as i64 + 60_000));
    assert!(!b.with(|s| s.resync_fresh(RESYNC_WINDOW_MS))?);
    let restarted = b.client.sync(&b.store, &small_pages(), &mut |_| {}).await?;
    assert!(restarted.resynced && !b.with(|s| s.resync_in_progress())?, "{restarted:?}");
    b.with(|s| s.set_clock_offset_ms(0));
    assert_converged(&server, &[&a, &b]).await?;
    Ok(())
}

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

    // A cursor beyond every sequence number the server gave out (its database was restored
    // from an older backup): the numbers will be given again, so only a pull from 0 is sure.
    let pull = |after: u64| {
        reqwest::Client::new()
            .get(format!("{}/api/v1/sync/pull?after={after}", server.url()))
            .bearer_auth(&token)
            .header(outpost_core::wire::PROTOCOL_HEADER, outpost_core::wire::PROTOCOL_VERSION.to_string())
            .send()
    };
    let current = a.with(|s| s.cursor())?;
    assert_eq!(pull(current).await?.status(), 200, "the device's own cursor is served");
    let reply = pull(current + 1_000).await?;
    assert_eq!(reply.status(), 410);
    assert_eq!(reply.json::<outpost_core::wire::ErrorBody>().await?.code, "resync_required");
    Ok(())
}
