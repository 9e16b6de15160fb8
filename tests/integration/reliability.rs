//! Faults: a server killed with SIGKILL at random moments during large pushes, responses lost
//! after the server committed, requests cut mid-body, reset and hung connections. In every case
//! each operation ends up on the server exactly once, the device converges, and the database
//! passes its integrity check, without anyone doing anything but letting sync retry.
//!
//! The kill test prints its random seed; `OUTPOST_FAULT_SEED=N` replays a run.

use outpost_core::Collection;
use outpost_device::{SyncClient, SyncOptions};
use outpost_server::settings::Settings;
use outpost_server_store::Store;
use outpost_tests::faults::{Fault, FaultProxy, KillableServer, Rng, fault_seed};
use outpost_tests::{Backend, SITE_A, ServerProcess, SimDevice, TestServer, assert_converged, assert_converged_with};
use serde_json::json;
use std::time::Duration;

type Result = anyhow::Result<()>;

/// Writes `contacts` contacts with three distribution lines each; returns the record count.
fn write_contacts(device: &SimDevice, contacts: usize) -> anyhow::Result<usize> {
    for i in 0..contacts {
        let contact = device.create(
            Collection::Contacts,
            json!({"setting": "window", "occurred_at": format!("2026-11-{:02}T10:00:00Z", 1 + i % 28)}),
        )?;
        for commodity in ["syringe_1ml", "alcohol_swab", "condom_external"] {
            device.create(
                Collection::DistributionLines,
                json!({"contact_id": contact.to_string(), "commodity": commodity, "quantity": 1 + i % 10}),
            )?;
        }
    }
    Ok(contacts * 4)
}

async fn count(storage: &Store, collection: &str) -> anyhow::Result<usize> {
    Ok(storage.snapshot().await?.iter().filter(|r| r.collection == collection).count())
}

fn patient() -> SyncOptions {
    SyncOptions {
        push_batch: 100,
        max_attempts: 1000,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(200),
        ..SyncOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_at_random_moments_loses_and_duplicates_nothing() -> Result {
    let mut rng = Rng(fault_seed("server kill test"));
    let dir = tempfile::tempdir()?;
    let mut server = KillableServer::start(dir.path()).await?;
    let data_dir = dir.path().display().to_string();
    let (ok, code, stderr) = ServerProcess::run_cli_output(&["enroll", "--data-dir", &data_dir, "--site", SITE_A])?;
    anyhow::ensure!(ok, "{stderr}");
    let device = SimDevice::enroll_with_code(&server.url(), code.trim()).await?;
    let written = write_contacts(&device, 1500)?;

    // Sync runs on its own while the server is killed and restarted at random moments: while
    // idle, while reading a batch, while merging, while committing, after committing.
    let mut ignore = |_| {};
    let options = patient();
    let (synced, killed) = tokio::join!(device.client.sync(&device.store, &options, &mut ignore), async {
        let mut kills = 0;
        for _ in 0..8 {
            tokio::time::sleep(Duration::from_millis(10 + rng.below(120))).await;
            server.kill()?;
            kills += 1;
            tokio::time::sleep(Duration::from_millis(rng.below(150))).await;
            server.restart().await?;
        }
        anyhow::Ok(kills)
    });
    eprintln!("killed the server {} times", killed?);
    let report = synced?;
    eprintln!("{report:?}");
    assert!(report.retries > 0, "the kills interrupted the sync: {report:?}");
    // A sync that finished before the last kill leaves nothing behind; one more is a no-op.
    device.sync().await?;
    assert_eq!(device.with(|s| s.pending_count())?, 0, "every operation was acknowledged");

    let storage = server.storage().await?;
    storage.check().await?;
    assert_eq!(
        count(&storage, "contacts").await? + count(&storage, "distribution_lines").await?,
        written,
        "{report:?}"
    );
    assert_converged_with(&storage, &[&device]).await?;
    Ok(())
}

async fn cut_reset_and_lost_replies_lose_nothing(backend: Backend) -> Result {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let proxy = FaultProxy::start(server.addr).await?;
    let code = server.enrollment_code(SITE_A).await?;
    let device = SimDevice::enroll_with_code(&proxy.url(), &code).await?;
    // Two attempts: changing the fault closes the client's pooled connection, which may cost
    // the first attempt before the fault itself is met.
    let once = SyncOptions { max_attempts: 2, ..patient() };
    let mut ignore = |_| {};

    // The server commits the batch but the reply never arrives: the outbox keeps it.
    let first = write_contacts(&device, 5)?;
    proxy.set(Fault::CutResponseAfter(0));
    assert!(device.client.sync(&device.store, &once, &mut ignore).await.is_err());
    assert_eq!(count(&server.storage, "distribution_lines").await?, 15, "the server did commit");
    assert_eq!(device.with(|s| s.pending_count())? as usize, first, "but the device has no acknowledgement");

    // A request cut in the middle of its body: nothing of it is applied.
    let second = write_contacts(&device, 5)?;
    proxy.set(Fault::CutRequestAfter(700));
    assert!(device.client.sync(&device.store, &once, &mut ignore).await.is_err());
    assert_eq!(count(&server.storage, "distribution_lines").await?, 15, "a truncated body applies nothing");

    // A reset connection, then a half-sent reply.
    proxy.set(Fault::Reset);
    assert!(device.client.sync(&device.store, &once, &mut ignore).await.is_err());
    proxy.set(Fault::CutResponseAfter(40));
    assert!(device.client.sync(&device.store, &once, &mut ignore).await.is_err());

    // The network heals: one sync, and every record is there exactly once.
    proxy.set(Fault::Pass);
    device.sync().await?;
    assert_eq!(device.with(|s| s.pending_count())?, 0);
    assert_eq!(count(&server.storage, "contacts").await?, 10);
    assert_eq!(count(&server.storage, "distribution_lines").await?, 30, "{first} + {second} records, none twice");
    assert_converged(&server, &[&device]).await?;
    server.stop().await
}

on_both_backends!(cut_reset_and_lost_replies_lose_nothing);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hung_and_slow_connections_recover_without_anyone_doing_anything() -> Result {
    let server = TestServer::start().await?;
    let proxy = FaultProxy::start(server.addr).await?;
    let code = server.enrollment_code(SITE_A).await?;
    let device = SimDevice::enroll_with_code(&proxy.url(), &code).await?;
    let written = write_contacts(&device, 20)?;
    // Requests give up after 300 ms, like the app's do after 60 s.
    let client = SyncClient::with_timeout(&proxy.url(), Duration::from_millis(300))?;

    // The network swallows every packet for a second, then turns slow but working.
    proxy.set(Fault::Blackhole);
    let mut ignore = |_| {};
    let options = SyncOptions { max_attempts: 30, initial_backoff: Duration::from_millis(50), ..patient() };
    let (report, ()) = tokio::join!(client.sync(&device.store, &options, &mut ignore), async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        proxy.set(Fault::Delay(Duration::from_millis(100)));
    });
    let report = report?;
    assert!(report.retries > 0, "the hung requests timed out and were retried: {report:?}");
    assert_eq!(report.pushed as usize, written);
    assert_eq!(device.with(|s| s.pending_count())?, 0);
    assert_converged(&server, &[&device]).await?;
    server.stop().await
}
