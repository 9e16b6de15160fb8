//! Sync scenarios between devices and the server.

use outpost_core::Collection;
use outpost_core::wire::PushRequest;
use outpost_device::{Progress, SyncOptions, SyncPhase};
use outpost_server::settings::Settings;
use outpost_tests::{Backend, SITE_A, SITE_B, SimDevice, TestServer, assert_converged, fast_retries};
use serde_json::json;

type Result = anyhow::Result<()>;

fn contact(setting: &str) -> serde_json::Value {
    json!({"setting": setting, "occurred_at": "2026-11-25T10:00:00Z", "services": ["kit"]})
}

async fn offline_edits_on_two_devices_converge(backend: Backend) -> Result {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let a = SimDevice::enroll(&server, SITE_A).await?;
    let b = SimDevice::enroll(&server, SITE_A).await?;

    let client = a.create(Collection::Clients, json!({"uic": "MAIV287", "gender": "woman", "birth_year": 1987}))?;
    let visit = a.create(
        Collection::Contacts,
        json!({"client_id": client.to_string(), "setting": "window", "occurred_at": "2026-11-25T09:00:00Z"}),
    )?;
    a.create(
        Collection::DistributionLines,
        json!({"contact_id": visit.to_string(), "commodity": "syringe_1ml", "quantity": 10}),
    )?;
    b.create(Collection::Clients, json!({"uic": "OLPE190", "gender": "man"}))?;
    b.create(Collection::Contacts, contact("street_outreach"))?;

    a.sync().await?;
    b.sync().await?;
    a.sync().await?;
    assert_converged(&server, &[&a, &b]).await?;
    assert_eq!(b.with(|s| s.find_clients("MA", 10))?.len(), 1, "b sees a's client");
    let history = b.with(|s| s.client_history(client, 10))?;
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].items.get("syringe_1ml"), Some(&10));
    server.stop().await
}

async fn same_field_edited_on_both_devices_has_one_winner_and_a_logged_loser(backend: Backend) -> Result {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let a = SimDevice::enroll(&server, SITE_A).await?;
    let b = SimDevice::enroll(&server, SITE_A).await?;
    let client = a.create(Collection::Clients, json!({"uic": "MAIV287", "gender": "not_stated"}))?;
    a.sync().await?;
    b.sync().await?;

    a.update(Collection::Clients, client, json!({"gender": "woman"}))?;
    b.update(Collection::Clients, client, json!({"gender": "trans_woman"}))?;
    b.sync().await?;
    a.sync().await?;
    b.sync().await?;

    assert_converged(&server, &[&a, &b]).await?;
    let winner =
        a.with(|s| s.get(Collection::Clients, client))?.and_then(|st| st.fields.get("gender").map(|f| f.value.clone()));
    // a edited after b (a's clock is later or equal, ties broken by device id): both agree.
    let conflicts = server.storage.conflicts(Default::default()).await?;
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!(conflicts[0].field, "gender");
    assert_eq!(Some(conflicts[0].winner.value.clone()), winner);
    let mut values = [conflicts[0].winner.value.clone(), conflicts[0].loser.value.clone()];
    values.sort_by_key(|v| v.to_string());
    assert_eq!(values, [json!("trans_woman"), json!("woman")]);
    server.stop().await
}

async fn delete_wins_over_a_concurrent_edit_which_waits_in_the_conflict_log(backend: Backend) -> Result {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let a = SimDevice::enroll(&server, SITE_A).await?;
    let b = SimDevice::enroll(&server, SITE_A).await?;
    let visit = a.create(Collection::Contacts, contact("window"))?;
    a.sync().await?;
    b.sync().await?;

    a.with(|s| s.delete(Collection::Contacts, visit))?;
    b.update(Collection::Contacts, visit, json!({"note": "asked about OST"}))?;
    a.sync().await?;
    b.sync().await?;
    a.sync().await?;

    assert_converged(&server, &[&a, &b]).await?;
    for device in [&a, &b] {
        let state =
            device.with(|s| s.get(Collection::Contacts, visit))?.ok_or_else(|| anyhow::anyhow!("record gone"))?;
        assert!(state.deleted.is_some(), "the delete holds on every device");
        assert!(state.fields.is_empty(), "a tombstone keeps no field: {state:?}");
        assert!(device.with(|s| s.contacts_between("2026-11-25T00:00:00Z", "2026-11-26T00:00:00Z", 10))?.is_empty());
    }
    let conflicts = server.storage.conflicts(Default::default()).await?;
    // The edit is not lost: it waits in the conflict log for a coordinator to see (until the
    // tombstone's clean-up).
    assert!(
        conflicts.iter().any(|c| c.field == "_deleted" && c.loser.value == json!({"note": "asked about OST"})),
        "{conflicts:?}"
    );
    // A deleted record cannot be edited locally any more.
    assert!(a.update(Collection::Contacts, visit, json!({"note": "x"})).is_err());
    server.stop().await
}

async fn many_pages_pull_into_a_fresh_device_with_progress(backend: Backend) -> Result {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let a = SimDevice::enroll(&server, SITE_A).await?;
    for i in 0..1200 {
        a.create(
            Collection::Contacts,
            json!({"setting": "window", "occurred_at": format!("2026-11-{:02}T10:00:00Z", 1 + i % 28)}),
        )?;
    }
    let options = SyncOptions { push_batch: 250, pull_limit: 100, ..fast_retries() };
    let mut pushes = Vec::new();
    a.client.sync(&a.store, &options, &mut |p| pushes.push(p)).await?;
    let last_push = pushes.iter().rev().find(|p| p.phase == SyncPhase::Push).copied();
    assert_eq!(last_push, Some(Progress { phase: SyncPhase::Push, done: 1200, total: 1200 }));
    assert!(pushes.iter().filter(|p| p.phase == SyncPhase::Push).count() >= 5, "pushed in batches");

    let fresh = SimDevice::enroll(&server, SITE_A).await?;
    let mut pulls = Vec::new();
    let report = fresh.client.sync(&fresh.store, &options, &mut |p| pulls.push(p)).await?;
    let pull_steps: Vec<Progress> = pulls.into_iter().filter(|p| p.phase == SyncPhase::Pull).collect();
    assert!(pull_steps.len() >= 12, "{} pages", pull_steps.len());
    assert!(pull_steps.windows(2).all(|w| w[0].done < w[1].done), "progress only moves forward");
    let last = pull_steps.last().copied().ok_or_else(|| anyhow::anyhow!("no progress"))?;
    assert_eq!(last.done, last.total);
    assert_eq!(report.pulled, last.done);
    a.sync().await?;
    assert_converged(&server, &[&a, &fresh]).await?;
    server.stop().await
}

async fn a_push_retried_after_its_response_was_lost_is_not_duplicated(backend: Backend) -> Result {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let a = SimDevice::enroll(&server, SITE_A).await?;
    let visit = a.create(Collection::Contacts, contact("window"))?;
    a.create(
        Collection::DistributionLines,
        json!({"contact_id": visit.to_string(), "commodity": "syringe_1ml", "quantity": 10}),
    )?;
    a.create(Collection::SharpsReturns, json!({"contact_id": visit.to_string(), "count": 7}))?;

    // The server commits, but the reply never reaches the device: the outbox keeps the ops.
    let token = a.with(|s| s.identity().map(|i| i.token.clone())).ok_or_else(|| anyhow::anyhow!("not enrolled"))?;
    let ops = a.with(|s| s.pending_ops(100))?;
    let first = a.client.push(&token, &PushRequest { ops: ops.clone() }).await?;
    assert_eq!(first.acked.len(), 3);
    let before = server.storage.snapshot().await?;
    assert_eq!(a.with(|s| s.pending_count())?, 3);

    // The device retries the same batch, then syncs normally.
    let again = a.client.push(&token, &PushRequest { ops }).await?;
    assert_eq!(again.acked, first.acked, "a replay is acknowledged again");
    a.sync().await?;
    let after = server.storage.snapshot().await?;
    assert_eq!(before, after, "nothing was applied twice");
    let lines = after.iter().filter(|r| r.collection == "distribution_lines").count();
    assert_eq!(lines, 1);
    assert_converged(&server, &[&a]).await?;
    server.stop().await
}

async fn a_device_of_site_a_never_receives_site_b_records(backend: Backend) -> Result {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let a = SimDevice::enroll(&server, SITE_A).await?;
    let b = SimDevice::enroll(&server, SITE_B).await?;
    b.create(Collection::Clients, json!({"uic": "ZHYU390", "gender": "man"}))?;
    b.create(Collection::Contacts, contact("street_outreach"))?;
    b.sync().await?;
    a.create(Collection::Contacts, contact("window"))?;
    a.sync().await?;
    b.sync().await?;

    let seen_by_a = a.with(|s| s.snapshot())?;
    assert!(a.with(|s| s.find_clients("ZH", 10))?.is_empty());
    for (collection, id) in seen_by_a.keys() {
        let row = server.storage.snapshot().await?.into_iter().find(|r| &r.collection == collection && r.id == *id);
        let site = row.and_then(|r| r.site_id);
        assert!(site.is_none() || site == Some(a.site_id()), "{collection} {id} of another site reached site A");
    }
    let sites = a.with(|s| s.list(Collection::Sites))?;
    assert_eq!(sites.len(), 1, "a device only learns its own site");
    assert!(!a.with(|s| s.list(Collection::Commodities))?.is_empty(), "reference data reaches every device");
    assert_converged(&server, &[&a, &b]).await?;
    server.stop().await
}

async fn stock_levels_follow_movements_and_distributions(backend: Backend) -> Result {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let a = SimDevice::enroll(&server, SITE_A).await?;
    let b = SimDevice::enroll(&server, SITE_A).await?;
    a.create(
        Collection::StockMovements,
        json!({"commodity": "syringe_1ml", "quantity": 500, "kind": "received", "occurred_at": "2026-11-01T09:00:00Z"}),
    )?;
    a.create(Collection::StockMovements, json!({"commodity": "syringe_1ml", "quantity": 20, "kind": "expired_damaged", "occurred_at": "2026-11-02T09:00:00Z"}))?;
    let visit = b.create(Collection::Contacts, contact("window"))?;
    let line = b.create(
        Collection::DistributionLines,
        json!({"contact_id": visit.to_string(), "commodity": "syringe_1ml", "quantity": 30}),
    )?;
    b.create(Collection::DistributionLines, json!({"contact_id": visit.to_string(), "commodity": "syringe_1ml", "quantity": 10, "reverses": line.to_string()}))?;
    a.sync().await?;
    b.sync().await?;
    a.sync().await?;
    for device in [&a, &b] {
        let levels = device.with(|s| s.stock_levels(device.site_id()))?;
        let syringes =
            levels.iter().find(|l| l.commodity == "syringe_1ml").ok_or_else(|| anyhow::anyhow!("no level"))?;
        assert_eq!((syringes.received, syringes.distributed, syringes.level), (480, 20, 460));
    }
    // A contact entered by mistake and deleted gave nothing: its lines stop counting, on the
    // tablets as on the dashboard.
    let mistake = b.create(Collection::Contacts, contact("window"))?;
    b.create(
        Collection::DistributionLines,
        json!({"contact_id": mistake.to_string(), "commodity": "syringe_1ml", "quantity": 50}),
    )?;
    b.with(|s| s.delete(Collection::Contacts, mistake))?;
    b.sync().await?;
    a.sync().await?;
    let dashboard =
        outpost_server::services::reports::stock(&server.storage, &[a.site_id()], outpost_server::time::now_ms())
            .await?;
    let on_dashboard = dashboard.levels.iter().find(|l| l.commodity == "syringe_1ml").map(|l| l.level);
    assert_eq!(on_dashboard, Some(460));
    for device in [&a, &b] {
        let levels = device.with(|s| s.stock_levels(device.site_id()))?;
        let level = levels.iter().find(|l| l.commodity == "syringe_1ml").map(|l| l.level);
        assert_eq!(level, Some(460), "the deleted contact's syringes still count on a tablet");
    }

    // Batches expiring soon: listed while the site holds the commodity, soonest first; one far
    // off or of an item the site no longer holds is not.
    let now = outpost_server::time::now_ms();
    let in_days = |days: i64| outpost_server::time::date_of(now.saturating_add_signed(days * 86_400_000));
    for (commodity, quantity, batch, expiry) in [
        ("naloxone_nasal", 10, "NX-1", in_days(20)),
        ("naloxone_nasal", 10, "NX-2", in_days(-5)),
        ("naloxone_nasal", 10, "NX-3", in_days(400)),
        ("tourniquet", 5, "T-1", in_days(10)),
    ] {
        a.create(
            Collection::StockMovements,
            json!({"commodity": commodity, "quantity": quantity, "kind": "received", "occurred_at": "2026-11-02T09:00:00Z",
                "batch": batch, "expiry_date": expiry}),
        )?;
    }
    a.create(
        Collection::StockMovements,
        json!({"commodity": "tourniquet", "quantity": 5, "kind": "lost", "occurred_at": "2026-11-02T10:00:00Z"}),
    )?;
    a.sync().await?;
    let stock =
        outpost_server::services::reports::stock(&server.storage, &[a.site_id()], outpost_server::time::now_ms())
            .await?;
    let listed: Vec<(&str, Option<&str>, i64)> =
        stock.expiring.iter().map(|b| (b.commodity.as_str(), b.batch.as_deref(), b.days_left)).collect();
    assert_eq!(listed, [("naloxone_nasal", Some("NX-2"), -5), ("naloxone_nasal", Some("NX-1"), 20)]);
    // The tablet lists the same batches with its levels, by core's window.
    let levels = a.with(|s| s.stock_levels(a.site_id()))?;
    let on_tablet = |code: &str| -> Vec<Option<String>> {
        levels
            .iter()
            .find(|l| l.commodity == code)
            .map_or_else(Vec::new, |l| l.expiring.iter().map(|b| b.batch.clone()).collect())
    };
    assert_eq!(on_tablet("naloxone_nasal"), [Some("NX-2".to_string()), Some("NX-1".to_string())]);
    assert_eq!(on_tablet("tourniquet"), Vec::<Option<String>>::new(), "none left: nothing to expire");

    // A stock count on tablet B: syringes as shown (nothing to correct), 12 cookers found,
    // filters 0 (never recorded: nothing to correct). One correction, on both tablets and the
    // dashboard, and the status by core's rule everywhere.
    let counts = |c: &[(&str, i64)]| -> Vec<outpost_device::workflows::StockCount> {
        c.iter()
            .map(|(commodity, counted)| outpost_device::workflows::StockCount {
                commodity: commodity.to_string(),
                counted: *counted,
            })
            .collect()
    };
    let written = b.with(|s| {
        s.record_stock_count(&counts(&[("syringe_1ml", 460), ("cooker", 12), ("filter", 0)]), "2026-11-03T09:00:00Z")
    })?;
    assert_eq!(written, 1);
    // Bad counts are refused whole: nothing is written.
    for bad in [
        counts(&[("cooker", 3), ("filter", -1)]),
        counts(&[("cooker", 3), ("cooker", 4)]),
        counts(&[("cooker", 100_001)]),
    ] {
        let refused = b.with(|s| s.record_stock_count(&bad, "2026-11-03T10:00:00Z"));
        assert!(matches!(refused, Err(outpost_device::StoreError::Invalid(_))), "{refused:?}");
    }
    b.sync().await?;
    a.sync().await?;
    let dashboard =
        outpost_server::services::reports::stock(&server.storage, &[a.site_id()], outpost_server::time::now_ms())
            .await?;
    for device in [&a, &b] {
        let levels = device.with(|s| s.stock_levels(device.site_id()))?;
        let cookers = levels.iter().find(|l| l.commodity == "cooker").ok_or_else(|| anyhow::anyhow!("no cookers"))?;
        assert_eq!(cookers.level, 12, "the count's correction, and only it");
        assert!(levels.iter().all(|l| l.commodity != "filter"), "a count matching nothing recorded writes nothing");
        for level in &levels {
            let on_dashboard = dashboard.levels.iter().find(|d| d.commodity == level.commodity);
            assert_eq!(on_dashboard.map(|d| d.status.as_str()), Some(level.status.as_str()), "{}", level.commodity);
        }
    }
    server.stop().await
}

async fn sync_retries_with_back_off_until_the_server_is_back(backend: Backend) -> Result {
    let mut server = TestServer::start_on(backend, Settings::default()).await?;
    let a = SimDevice::enroll(&server, SITE_A).await?;
    a.create(Collection::Contacts, contact("street_outreach"))?;
    server.halt().await?;

    // No server at all: the sync gives up after its attempts, the outbox is intact.
    let quick = SyncOptions { max_attempts: 2, ..fast_retries() };
    let error = a.client.sync(&a.store, &quick, &mut |_| {}).await.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("cannot be reached"), "{error}");
    assert_eq!(a.with(|s| s.pending_count())?, 1);

    // The server comes back while the device is backing off: the same sync call succeeds.
    let options = SyncOptions { max_attempts: 8, ..fast_retries() };
    let mut ignore = |_| {};
    let (report, resumed) = tokio::join!(a.client.sync(&a.store, &options, &mut ignore), async {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        server.resume().await
    });
    resumed?;
    let report = report?;
    assert!(report.retries > 0, "{report:?}");
    assert_eq!(report.pushed, 1);
    assert_converged(&server, &[&a]).await?;
    server.stop().await
}

async fn a_device_whose_token_expired_re_enrols_without_losing_unsent_work(backend: Backend) -> Result {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let a = SimDevice::enroll(&server, SITE_A).await?;
    let client = a.create(Collection::Clients, json!({"uic": "MAIV287", "gender": "woman"}))?;
    a.sync().await?;
    let old_id = a.with(|s| s.identity().map(|i| i.device_id)).ok_or_else(|| anyhow::anyhow!("no id"))?;
    server.storage.expire_token(old_id).await?;

    // Months offline: work piles up, then the token is found expired.
    a.update(Collection::Clients, client, json!({"birth_year": 1987}))?;
    let visit = a.create(Collection::Contacts, contact("window"))?;
    a.create(
        Collection::DistributionLines,
        json!({"contact_id": visit.to_string(), "commodity": "syringe_1ml", "quantity": 10}),
    )?;
    let error = a.client.sync(&a.store, &fast_retries(), &mut |_| {}).await.err();
    assert!(
        matches!(error, Some(outpost_device::SyncError::Unauthorized { ref code, .. }) if code == "token_expired"),
        "{error:?}"
    );
    assert_eq!(a.with(|s| s.pending_count())?, 3);

    // A new code from the coordinator: same store, new identity, nothing lost.
    let code = server.enrollment_code(SITE_A).await?;
    let enrolled = a.client.re_enroll(&a.store, &code, "re-enrolled tablet").await?;
    assert_ne!(enrolled.device_id, old_id);
    let report = a.sync().await?;
    assert_eq!((report.pushed, report.rejected), (3, 0));
    let stored = server.storage.record("clients", client).await?.ok_or_else(|| anyhow::anyhow!("client missing"))?;
    assert_eq!(stored.fields["birth_year"].value, json!(1987));
    assert!(server.storage.record("contacts", visit).await?.is_some());
    // Later edits carry the new identity and win as usual.
    a.update(Collection::Clients, client, json!({"gender": "trans_woman"}))?;
    a.sync().await?;
    let stored = server.storage.record("clients", client).await?.ok_or_else(|| anyhow::anyhow!("client missing"))?;
    assert_eq!(stored.fields["gender"].stamp.device, enrolled.device_id);
    assert_converged(&server, &[&a]).await?;
    server.stop().await
}

on_both_backends!(
    a_device_whose_token_expired_re_enrols_without_losing_unsent_work,
    offline_edits_on_two_devices_converge,
    same_field_edited_on_both_devices_has_one_winner_and_a_logged_loser,
    delete_wins_over_a_concurrent_edit_which_waits_in_the_conflict_log,
    many_pages_pull_into_a_fresh_device_with_progress,
    a_push_retried_after_its_response_was_lost_is_not_duplicated,
    a_device_of_site_a_never_receives_site_b_records,
    stock_levels_follow_movements_and_distributions,
    sync_retries_with_back_off_until_the_server_is_back
);
