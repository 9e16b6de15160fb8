//! Full and read-only disks, on the server and on the tablet, on real (loop-mounted ext4) disks.
//!
//! * Server, disk full: pushes get `507 storage_full`, nothing of the batch is stored, the
//!   server keeps answering, and a sync left running recovers by itself once space returns.
//! * Server, disk turned read-only by a filesystem error: pushes get `503 storage_unwritable`;
//!   a server started on it refuses to start with a clear message; after the operator repairs
//!   the disk and restarts the server, every acknowledged operation is there and the tablet's
//!   pending ones arrive, each once.
//! * Tablet, disk full or read-only: the save fails with its own error (the app says so and
//!   keeps the form), nothing is half-saved, everything saved before is intact, and saving works
//!   again when space returns or the disk is repaired.

use anyhow::{Context, ensure};
use outpost_core::Collection;
use outpost_device::{DeviceStore, StoreError, StoreKey, SyncClient, SyncError, SyncOptions};
use outpost_tests::faults::{DeviceProcess, KillableServer, LoopDisk};
use outpost_tests::{SIM_DEVICE_KEY, SITE_A, ServerProcess, SimDevice, assert_converged_with, object};
use serde_json::json;
use std::sync::Mutex;
use std::time::Duration;

type Result = anyhow::Result<()>;

fn enrollment_code(server: &KillableServer) -> anyhow::Result<String> {
    let data_dir = server.data_dir.display().to_string();
    let (ok, code, stderr) = ServerProcess::run_cli_output(&["enroll", "--data-dir", &data_dir, "--site", SITE_A])?;
    ensure!(ok, "{stderr}");
    Ok(code.trim().to_string())
}

/// Saves `n` contacts, each with two distribution lines, in one transaction each.
fn save_contacts(store: &mut DeviceStore, n: usize) -> std::result::Result<usize, StoreError> {
    let site = store.identity().and_then(|i| i.sites.first()).map(|s| s.id).ok_or(StoreError::NotEnrolled)?;
    for i in 0..n {
        store.write_batch(|b| {
            let contact = b.create(
                Collection::Contacts,
                site,
                object(json!({"setting": "window", "occurred_at": "2026-11-03T09:00:00Z", "note": "x".repeat(300)})),
            )?;
            for commodity in ["syringe_1ml", "naloxone_nasal"] {
                b.create(
                    Collection::DistributionLines,
                    site,
                    object(json!({"contact_id": contact.to_string(), "commodity": commodity, "quantity": 1 + i % 5})),
                )?;
            }
            Ok(())
        })?;
    }
    Ok(n * 3)
}

fn records(storage_rows: &[outpost_server_store::records::SnapshotRow]) -> usize {
    storage_rows.iter().filter(|r| matches!(r.collection.as_str(), "contacts" | "distribution_lines")).count()
}

fn quick() -> SyncOptions {
    SyncOptions {
        push_batch: 500,
        max_attempts: 2,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(20),
        ..SyncOptions::default()
    }
}

async fn healthy(url: &str) -> bool {
    reqwest::get(format!("{url}/healthz")).await.is_ok_and(|r| r.status().is_success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_server_disk_refuses_clearly_and_recovers_when_space_returns() -> Result {
    let disk = LoopDisk::new(24)?;
    let server = KillableServer::start(&disk.path().join("data")).await?;
    let device = SimDevice::enroll_with_code(&server.url(), &enrollment_code(&server)?).await?;
    let first = device.with(|s| save_contacts(s, 50))?;
    device.sync().await?;

    let filled = disk.fill()?;
    eprintln!("filled the disk with {filled} bytes");
    let second = device.with(|s| save_contacts(s, 3000))?;
    let refused = device.client.sync(&device.store, &quick(), &mut |_| {}).await;
    match refused {
        Err(SyncError::Server { status: 507, message, .. }) => ensure!(message.contains("disk is full"), "{message}"),
        other => anyhow::bail!("expected the server to say its disk is full, got {other:?}"),
    }
    ensure!(healthy(&server.url()).await, "the server stopped answering");
    ensure!(device.with(|s| s.pending_count())? == second as u64, "the refused batches stay in the outbox");

    // A sync left running keeps retrying; space returns; it finishes by itself.
    let patient = SyncOptions {
        max_attempts: 1000,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        ..quick()
    };
    let mut ignore = |_| {};
    let (synced, freed) = tokio::join!(device.client.sync(&device.store, &patient, &mut ignore), async {
        tokio::time::sleep(Duration::from_millis(700)).await;
        disk.free()
    });
    freed?;
    let report = synced?;
    ensure!(report.retries > 0, "the sync met the full disk before space returned: {report:?}");

    let storage = server.storage().await?;
    storage.check().await?;
    ensure!(records(&storage.snapshot().await?) == first + second, "every operation once on the server");
    assert_converged_with(&storage, &[&device]).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_disk_turned_read_only_loses_nothing_acknowledged() -> Result {
    let mut disk = LoopDisk::new(24)?;
    let data_dir = disk.path().join("data");
    let mut server = KillableServer::start(&data_dir).await?;
    let device = SimDevice::enroll_with_code(&server.url(), &enrollment_code(&server)?).await?;
    let first = device.with(|s| save_contacts(s, 200))?;
    device.sync().await?;

    disk.fail_read_only()?;
    let second = device.with(|s| save_contacts(s, 100))?;
    match device.client.sync(&device.store, &quick(), &mut |_| {}).await {
        Err(SyncError::Server { status: 503, message, .. }) => ensure!(message.contains("cannot write"), "{message}"),
        other => anyhow::bail!("expected the server to say it cannot write, got {other:?}"),
    }
    ensure!(healthy(&server.url()).await, "the server stopped answering");
    ensure!(device.with(|s| s.pending_count())? == second as u64, "the refused batch stays in the outbox");

    // A server started on the read-only disk says why it cannot serve.
    server.kill()?;
    let mut refused = std::process::Command::new(ServerProcess::binary()?)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data_dir)
        .env(outpost_tests::SERVER_KEY_VARIABLE, outpost_tests::TEST_SERVER_KEY)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let mut waited = 0;
    let status = loop {
        if let Some(status) = refused.try_wait()? {
            break status;
        }
        if waited > 100 {
            refused.kill()?;
            anyhow::bail!("a server started on a read-only disk and kept running");
        }
        waited += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = refused.stderr.take() {
        std::io::Read::read_to_string(&mut pipe, &mut stderr)?;
    }
    ensure!(!status.success(), "a server on a read-only disk exited successfully");
    ensure!(stderr.contains("read-only"), "unclear refusal: {stderr}");

    // The operator repairs the disk and starts the server again: nothing acknowledged is lost.
    disk.repair()?;
    server.restart().await?;
    let storage = server.storage().await?;
    storage.check().await?;
    ensure!(records(&storage.snapshot().await?) == first, "everything acknowledged before the error is there");
    device.sync().await?;
    ensure!(records(&storage.snapshot().await?) == first + second, "every operation once on the server");
    assert_converged_with(&storage, &[&device]).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_or_read_only_tablet_disk_refuses_the_save_and_keeps_everything_else() -> Result {
    let dir = tempfile::tempdir()?;
    let server = KillableServer::start(dir.path()).await?;
    let mut disk = LoopDisk::new(16)?;
    let db = disk.path().join("tablet.db");
    let path = db.display().to_string();
    let (ok, lines) = DeviceProcess::run(&["enroll", &path, &server.url(), &enrollment_code(&server)?])?;
    ensure!(ok, "enrolment failed: {lines:?}");
    let key = StoreKey::from_bytes(SIM_DEVICE_KEY);

    let mut store = DeviceStore::open(&db, &key)?;
    let mut saved = save_contacts(&mut store, 100)?;
    disk.fill()?;
    // The write-ahead log reuses the room it already has; the disk runs out within a few
    // hundred entries.
    let error = loop {
        match save_contacts(&mut store, 1) {
            Ok(n) => saved += n,
            Err(e) => break e,
        }
        ensure!(saved < 100_000, "the tablet kept saving on a full disk");
    };
    ensure!(matches!(error, StoreError::DiskFull), "expected a disk-full error, got {error:?}");
    ensure!(error.to_string().contains("storage is full"), "{error}");
    disk.free()?;
    ensure!(store.check_consistency()?.is_empty(), "{:?}", store.check_consistency()?);
    ensure!(store.pending_count()? == saved as u64, "nothing half-saved, nothing lost");
    saved += save_contacts(&mut store, 10)?;

    disk.fail_read_only()?;
    let error = save_contacts(&mut store, 1).err().context("the tablet saved on a read-only disk")?;
    ensure!(matches!(error, StoreError::StorageUnwritable), "expected an unwritable-storage error, got {error:?}");
    drop(store);
    disk.repair()?;

    let store = DeviceStore::open(&db, &key)?;
    ensure!(store.check_consistency()?.is_empty(), "{:?}", store.check_consistency()?);
    ensure!(store.pending_count()? == saved as u64, "everything saved before the error is there");
    let url = server.url();
    let site = store.identity().and_then(|i| i.sites.first().cloned()).context("not enrolled")?;
    let device = SimDevice { store: Mutex::new(store), client: SyncClient::new(&url)?, site };
    device.sync().await?;
    let storage = server.storage().await?;
    ensure!(records(&storage.snapshot().await?) == saved, "every saved entry reached the server once");
    assert_converged_with(&storage, &[&device]).await?;
    Ok(())
}
