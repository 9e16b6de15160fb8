//! Property test: several devices make random edits, sync in a random order and sometimes lose
//! the server's reply; after a final round of syncs every device and the server hold the same
//! state, every write is either present or superseded by a later one, and nothing is duplicated.

use outpost_core::hlc::Hlc;
use outpost_core::wire::PushRequest;
use outpost_core::{Collection, RecordId};
use outpost_server::settings::Settings;
use outpost_tests::{Backend, SITE_A, SimDevice, TestServer, assert_converged, postgres_url};
use proptest::prelude::*;
use serde_json::json;
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
enum Action {
    CreateClient { device: usize, gender: usize },
    CreateContact { device: usize },
    Edit { device: usize, pick: usize, gender: usize },
    Delete { device: usize, pick: usize },
    GiveKit { device: usize, pick: usize, quantity: u32 },
    Sync { device: usize },
    SyncLosingReply { device: usize },
}

const DEVICES: usize = 3;
const GENDERS: &[&str] = &["woman", "man", "trans_woman", "non_binary", "not_stated"];

fn action() -> impl Strategy<Value = Action> {
    let d = 0..DEVICES;
    prop_oneof![
        (d.clone(), 0..GENDERS.len()).prop_map(|(device, gender)| Action::CreateClient { device, gender }),
        d.clone().prop_map(|device| Action::CreateContact { device }),
        (d.clone(), any::<usize>(), 0..GENDERS.len()).prop_map(|(device, pick, gender)| Action::Edit {
            device,
            pick,
            gender
        }),
        (d.clone(), any::<usize>()).prop_map(|(device, pick)| Action::Delete { device, pick }),
        (d.clone(), any::<usize>(), 1..50u32).prop_map(|(device, pick, quantity)| Action::GiveKit {
            device,
            pick,
            quantity
        }),
        d.clone().prop_map(|device| Action::Sync { device }),
        d.prop_map(|device| Action::SyncLosingReply { device }),
    ]
}

/// Every local write, to check afterwards that none was lost.
#[derive(Default)]
struct Ledger {
    created: BTreeMap<(Collection, RecordId), Hlc>,
    field_writes: Vec<(Collection, RecordId, String, Hlc)>,
    deletes: Vec<(Collection, RecordId)>,
}

fn live(device: &SimDevice, collection: Collection) -> Vec<RecordId> {
    device.with(|s| s.list(collection)).map(|v| v.into_iter().map(|(id, _)| id).collect()).unwrap_or_default()
}

fn stamp_of(device: &SimDevice, collection: Collection, id: RecordId, field: &str) -> Option<Hlc> {
    device.with(|s| s.get(collection, id)).ok().flatten().and_then(|st| st.fields.get(field).map(|f| f.stamp))
}

async fn run(backend: Backend, actions: Vec<Action>) -> anyhow::Result<()> {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let mut devices = Vec::new();
    for _ in 0..DEVICES {
        devices.push(SimDevice::enroll(&server, SITE_A).await?);
    }
    let mut ledger = Ledger::default();
    for action in actions {
        match action {
            Action::CreateClient { device, gender } => {
                let d = &devices[device];
                let id = d.create(Collection::Clients, json!({"uic": "MAIV287", "gender": GENDERS[gender]}))?;
                let stamp =
                    stamp_of(d, Collection::Clients, id, "gender").ok_or_else(|| anyhow::anyhow!("no stamp"))?;
                ledger.created.insert((Collection::Clients, id), stamp);
                ledger.field_writes.push((Collection::Clients, id, "gender".into(), stamp));
            }
            Action::CreateContact { device } => {
                let d = &devices[device];
                let id = d.create(
                    Collection::Contacts,
                    json!({"setting": "window", "occurred_at": "2026-11-25T10:00:00Z"}),
                )?;
                let stamp =
                    stamp_of(d, Collection::Contacts, id, "setting").ok_or_else(|| anyhow::anyhow!("no stamp"))?;
                ledger.created.insert((Collection::Contacts, id), stamp);
            }
            Action::Edit { device, pick, gender } => {
                let d = &devices[device];
                let clients = live(d, Collection::Clients);
                if clients.is_empty() {
                    continue;
                }
                let id = clients[pick % clients.len()];
                d.update(Collection::Clients, id, json!({"gender": GENDERS[gender]}))?;
                let stamp =
                    stamp_of(d, Collection::Clients, id, "gender").ok_or_else(|| anyhow::anyhow!("no stamp"))?;
                ledger.field_writes.push((Collection::Clients, id, "gender".into(), stamp));
            }
            Action::Delete { device, pick } => {
                let d = &devices[device];
                let clients = live(d, Collection::Clients);
                if clients.is_empty() {
                    continue;
                }
                let id = clients[pick % clients.len()];
                d.with(|s| s.delete(Collection::Clients, id))?;
                ledger.deletes.push((Collection::Clients, id));
            }
            Action::GiveKit { device, pick, quantity } => {
                let d = &devices[device];
                let contacts = live(d, Collection::Contacts);
                if contacts.is_empty() {
                    continue;
                }
                let contact = contacts[pick % contacts.len()];
                let id = d.create(
                    Collection::DistributionLines,
                    json!({"contact_id": contact.to_string(), "commodity": "syringe_1ml", "quantity": quantity}),
                )?;
                let stamp = stamp_of(d, Collection::DistributionLines, id, "quantity")
                    .ok_or_else(|| anyhow::anyhow!("no stamp"))?;
                ledger.created.insert((Collection::DistributionLines, id), stamp);
            }
            Action::Sync { device } => {
                devices[device].sync().await?;
            }
            Action::SyncLosingReply { device } => {
                let d = &devices[device];
                let token =
                    d.with(|s| s.identity().map(|i| i.token.clone())).ok_or_else(|| anyhow::anyhow!("no token"))?;
                let ops = d.with(|s| s.pending_ops(50))?;
                if !ops.is_empty() {
                    // Committed on the server, reply lost: the outbox keeps everything.
                    d.client.push(&token, &PushRequest { ops }).await?;
                }
            }
        }
    }
    for _ in 0..2 {
        for d in &devices {
            d.sync().await?;
        }
    }
    let refs: Vec<&SimDevice> = devices.iter().collect();
    assert_converged(&server, &refs).await?;

    let snapshot = server.storage.snapshot().await?;
    let server_records: BTreeMap<(String, RecordId), _> =
        snapshot.into_iter().map(|r| ((r.collection, r.id), r.state)).collect();
    for (collection, id) in ledger.created.keys() {
        anyhow::ensure!(server_records.contains_key(&(collection.name().to_string(), *id)), "{collection} {id} lost");
    }
    for (collection, id, field, stamp) in &ledger.field_writes {
        let state = &server_records[&(collection.name().to_string(), *id)];
        if state.deleted.is_some() {
            // A deletion supersedes every write: a tombstone keeps no field (an edit that met it
            // is in the conflict log).
            continue;
        }
        let kept = state.fields.get(field).map(|f| f.stamp);
        anyhow::ensure!(kept >= Some(*stamp), "write {field}@{stamp} on {id} neither applied nor superseded");
    }
    for (collection, id) in &ledger.deletes {
        anyhow::ensure!(server_records[&(collection.name().to_string(), *id)].deleted.is_some(), "delete of {id} lost");
    }
    let device_created =
        server_records.keys().filter(|(c, _)| c == "clients" || c == "contacts" || c == "distribution_lines").count();
    anyhow::ensure!(device_created == ledger.created.len(), "duplicated or invented records");
    server.stop().await
}

fn run_blocking(backend: Backend, actions: Vec<Action>) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(run(backend, actions))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, max_shrink_iters: 64, ..ProptestConfig::default() })]

    #[test]
    fn devices_and_sqlite_server_converge_and_lose_nothing(actions in proptest::collection::vec(action(), 1..40)) {
        let result = run_blocking(Backend::Sqlite, actions);
        prop_assert!(result.is_ok(), "{:?}", result.err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, max_shrink_iters: 32, ..ProptestConfig::default() })]

    #[test]
    fn devices_and_postgres_server_converge_and_lose_nothing(actions in proptest::collection::vec(action(), 1..40)) {
        if postgres_url().is_some() {
            let result = run_blocking(Backend::Postgres, actions);
            prop_assert!(result.is_ok(), "{:?}", result.err());
        }
    }
}
