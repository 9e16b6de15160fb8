//! A tablet killed with SIGKILL in the middle of a save, a push or the apply of a pulled page.
//!
//! The tablet runs as its own process (`outpost-sim-device`) over an encrypted store file and
//! prints a line after every commit. It is killed at random moments (`OUTPOST_FAULT_SEED`
//! replays a run), reopened, and its store must be consistent: SQLite's integrity check is
//! clean, every entry it reported saved is there whole (a contact with all its lines, never
//! part of one), every outbox entry has its record, the cursor matches the pulled records
//! exactly, and a later sync brings it to the server's state with nothing lost or duplicated.

use anyhow::{Context, anyhow, ensure};
use outpost_core::{Collection, RecordId};
use outpost_device::{DeviceStore, StoreKey, SyncClient};
use outpost_server_store::Store;
use outpost_tests::faults::{DeviceProcess, KillableServer, Rng, fault_seed};
use outpost_tests::{SIM_DEVICE_KEY, SITE_A, ServerProcess, SimDevice, assert_converged_with};
use serde_json::json;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

type Result = anyhow::Result<()>;

/// How long a live device process may stay silent before the test calls it stalled.
const SILENCE: Duration = Duration::from_secs(30);

/// A tablet's store file, enrolled with a server.
struct Tablet {
    _dir: tempfile::TempDir,
    db: PathBuf,
}

impl Tablet {
    async fn enroll(server: &KillableServer) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let db = dir.path().join("tablet.db");
        let code = enrollment_code(server)?;
        let tablet = Self { _dir: dir, db };
        let (ok, lines) = DeviceProcess::run(&["enroll", tablet.path(), &server.url(), &code])?;
        ensure!(ok, "enrolment failed: {lines:?}");
        Ok(tablet)
    }

    fn path(&self) -> &str {
        self.db.to_str().unwrap_or_default()
    }

    fn open(&self) -> anyhow::Result<DeviceStore> {
        Ok(DeviceStore::open(&self.db, &StoreKey::from_bytes(SIM_DEVICE_KEY))?)
    }

    /// Runs the store's consistency check in a fresh process, as the app does on unlock.
    fn check(&self) -> anyhow::Result<String> {
        let (ok, lines) = DeviceProcess::run(&["check", self.path()])?;
        ensure!(ok, "the store is inconsistent after the kill: {lines:?}");
        lines.into_iter().find(|l| l.starts_with("ok ")).context("no summary from the check")
    }

    /// Syncs to the end in a process of its own.
    fn sync(&self) -> Result {
        let (ok, lines) = DeviceProcess::run(&["sync", self.path(), "200", "500"])?;
        ensure!(ok && lines.last().is_some_and(|l| l == "synced"), "sync failed: {:?}", lines.last());
        Ok(())
    }

    /// The store as a simulated device, to compare it with the server.
    fn as_device(&self, url: &str) -> anyhow::Result<SimDevice> {
        let store = self.open()?;
        let site = store.identity().and_then(|i| i.sites.first().cloned()).context("not enrolled")?;
        Ok(SimDevice { store: Mutex::new(store), client: SyncClient::new(url)?, site })
    }
}

fn enrollment_code(server: &KillableServer) -> anyhow::Result<String> {
    let data_dir = server.data_dir.display().to_string();
    let (ok, code, stderr) = ServerProcess::run_cli_output(&["enroll", "--data-dir", &data_dir, "--site", SITE_A])?;
    ensure!(ok, "{stderr}");
    Ok(code.trim().to_string())
}

fn saved_id(line: &str) -> anyhow::Result<RecordId> {
    let id = line.strip_prefix("saved ").ok_or_else(|| anyhow!("unexpected line {line:?}"))?;
    id.parse().map_err(|_| anyhow!("not an id: {line:?}"))
}

/// Every contact of the store, each checked to carry all three of its lines.
fn whole_contacts(store: &DeviceStore) -> anyhow::Result<BTreeSet<RecordId>> {
    let contacts: BTreeSet<RecordId> = store.list(Collection::Contacts)?.into_iter().map(|(id, _)| id).collect();
    for id in &contacts {
        let lines = store.contact_lines(*id)?.len();
        ensure!(lines == 3, "contact {id} was half-saved: {lines} of its 3 lines");
    }
    let lines = store.list(Collection::DistributionLines)?.len();
    ensure!(lines == contacts.len() * 3, "{lines} lines for {} contacts", contacts.len());
    Ok(contacts)
}

async fn count(storage: &Store, collection: &str) -> anyhow::Result<usize> {
    Ok(storage.snapshot().await?.iter().filter(|r| r.collection == collection).count())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tablet_killed_mid_save_keeps_every_saved_entry_whole() -> Result {
    let mut rng = Rng(fault_seed("device killed mid-save"));
    let dir = tempfile::tempdir()?;
    let server = KillableServer::start(dir.path()).await?;
    let tablet = Tablet::enroll(&server).await?;

    let mut saved = BTreeSet::new();
    for round in 0..6 {
        let process = DeviceProcess::spawn(&["save", tablet.path(), "1000000"])?;
        for _ in 0..5 + rng.below(80) {
            let line = process.next_line(SILENCE).context("the saving tablet stalled")?;
            saved.insert(saved_id(&line)?);
        }
        // Land the kill anywhere inside the next transactions.
        std::thread::sleep(Duration::from_micros(rng.below(4000)));
        for line in process.kill()? {
            saved.insert(saved_id(&line)?);
        }
        eprintln!("round {round}: {}", tablet.check()?);
        let store = tablet.open()?;
        let present = whole_contacts(&store)?;
        let lost: Vec<_> = saved.difference(&present).collect();
        ensure!(lost.is_empty(), "entries reported saved are gone after the kill: {lost:?}");
        // At most the one transaction that committed just before the kill went unreported.
        ensure!(present.len() <= saved.len() + 1, "{} contacts for {} reported saved", present.len(), saved.len());
        ensure!(store.pending_count()? == present.len() as u64 * 4, "an entry without its outbox entry");
        saved = present;
    }

    tablet.sync()?;
    let storage = server.storage().await?;
    storage.check().await?;
    assert_eq!(count(&storage, "contacts").await?, saved.len(), "each contact once on the server");
    assert_eq!(count(&storage, "distribution_lines").await?, saved.len() * 3);
    assert_converged_with(&storage, &[&tablet.as_device(&server.url())?]).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tablet_killed_mid_push_loses_and_duplicates_nothing() -> Result {
    let mut rng = Rng(fault_seed("device killed mid-push"));
    let dir = tempfile::tempdir()?;
    let server = KillableServer::start(dir.path()).await?;
    let tablet = Tablet::enroll(&server).await?;
    let (ok, lines) = DeviceProcess::run(&["save", tablet.path(), "1500"])?;
    ensure!(ok && lines.len() == 1500, "saving failed after {} entries", lines.len());
    let written = 1500 * 4;

    let mut kills = 0;
    for _ in 0..5 {
        let before = tablet.open()?.pending_count()?;
        if before == 0 {
            break;
        }
        let process = DeviceProcess::spawn(&["sync", tablet.path(), "100", "500"])?;
        let target = 1 + rng.below(before.div_ceil(100).max(2) - 1) * 100;
        loop {
            let line = process.next_line(SILENCE).context("the pushing tablet stalled")?;
            let done: Option<u64> =
                line.strip_prefix("push ").and_then(|p| p.split('/').next()).and_then(|d| d.parse().ok());
            if done.is_some_and(|d| d >= target) || !line.starts_with("push ") {
                break;
            }
        }
        std::thread::sleep(Duration::from_micros(rng.below(20_000)));
        process.kill()?;
        kills += 1;
        eprintln!("kill {kills}: {}", tablet.check()?);
        let store = tablet.open()?;
        ensure!(whole_contacts(&store)?.len() == 1500, "a saved entry vanished");
        let after = store.pending_count()?;
        ensure!(after <= before, "the outbox grew from {before} to {after}");
        // Whatever left the outbox is on the server: nothing is dropped in between.
        let storage = server.storage().await?;
        let on_server = count(&storage, "contacts").await? + count(&storage, "distribution_lines").await?;
        ensure!(on_server as u64 >= written as u64 - after, "{on_server} on the server, {after} still pending");
    }
    ensure!(kills > 0, "the push finished before any kill");

    tablet.sync()?;
    let storage = server.storage().await?;
    storage.check().await?;
    assert_eq!(count(&storage, "contacts").await? + count(&storage, "distribution_lines").await?, written);
    assert_converged_with(&storage, &[&tablet.as_device(&server.url())?]).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tablet_killed_mid_pull_keeps_its_cursor_true_to_its_data() -> Result {
    let mut rng = Rng(fault_seed("device killed mid-pull"));
    let dir = tempfile::tempdir()?;
    let server = KillableServer::start(dir.path()).await?;
    // Another tablet fills the site with 2 000 contacts (8 000 records).
    let other = SimDevice::enroll_with_code(&server.url(), &enrollment_code(&server)?).await?;
    for i in 0..2000 {
        other.with(|s| {
            s.write_batch(|b| {
                let site = other.site_id();
                let contact = b.create(
                    Collection::Contacts,
                    site,
                    outpost_tests::object(json!({"setting": "street_outreach", "occurred_at": "2026-11-02T10:00:00Z"})),
                )?;
                b.create(
                    Collection::DistributionLines,
                    site,
                    outpost_tests::object(
                        json!({"contact_id": contact.to_string(), "commodity": "syringe_1ml", "quantity": 1 + i % 9}),
                    ),
                )
            })
        })?;
    }
    other.sync().await?;

    let tablet = Tablet::enroll(&server).await?;
    let token = tablet.open()?.identity().map(|i| i.token.clone()).context("no token")?;
    let client = SyncClient::new(&server.url())?;
    let mut kills = 0;
    for _ in 0..5 {
        // 2 000 contacts, their lines and the organisation's reference data.
        let remaining = 4000 + 40 - tablet.open()?.snapshot()?.len() as u64;
        if remaining < 300 {
            break;
        }
        let process = DeviceProcess::spawn(&["sync", tablet.path(), "100", "50"])?;
        let target = rng.below(remaining / 2);
        loop {
            let line = process.next_line(SILENCE).context("the pulling tablet stalled")?;
            let done: Option<u64> = line.strip_prefix("pull ").and_then(|d| d.parse().ok());
            if done.is_some_and(|d| d >= target) || line == "synced" {
                break;
            }
        }
        std::thread::sleep(Duration::from_micros(rng.below(3000)));
        process.kill()?;
        kills += 1;
        eprintln!("kill {kills}: {}", tablet.check()?);

        // The cursor matches the applied data exactly: the records the server holds up to the
        // cursor are on the tablet, and nothing beyond it.
        let store = tablet.open()?;
        let cursor = store.cursor()?;
        let mut expected = BTreeSet::new();
        let mut after = 0;
        while after < cursor {
            let page = client.pull(&token, after, 1000, false).await?;
            expected
                .extend(page.records.iter().filter(|r| r.seq <= cursor).map(|r| (r.collection.clone(), r.record_id)));
            if !page.has_more {
                break;
            }
            after = page.next_cursor;
        }
        let local: BTreeSet<_> = store.snapshot()?.into_keys().collect();
        ensure!(
            local == expected,
            "cursor {cursor}: {} records on the tablet, {} expected",
            local.len(),
            expected.len()
        );
    }
    ensure!(kills > 0, "no kill landed");

    tablet.sync()?;
    let storage = server.storage().await?;
    assert_converged_with(&storage, &[&tablet.as_device(&server.url())?, &other]).await?;
    Ok(())
}
