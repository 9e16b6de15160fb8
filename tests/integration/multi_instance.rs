//! Several server processes over one PostgreSQL database: devices sync through any of them, at
//! random and concurrently, and everything converges with nothing lost or duplicated.

use outpost_core::Collection;
use outpost_device::SyncClient;
use outpost_server::services::tokens::{hash_enrollment_code, new_enrollment_code};
use outpost_server::time::now_ms;
use outpost_server_store::postgres::Postgres;
use outpost_tests::{
    SITE_A, ServerProcess, SimDevice, assert_converged_with, fast_retries, postgres_url, unique_schema,
};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_processes_over_one_postgres_database_converge() -> anyhow::Result<()> {
    let Some(url) = postgres_url() else {
        eprintln!("multi-instance test skipped: OUTPOST_TEST_DATABASE_URL is not set");
        return Ok(());
    };
    let schema = unique_schema();
    let storage = outpost_server_store::Store::new(
        Postgres::connect(&url, Some(&schema), 4).await.map_err(|e| anyhow::anyhow!("{e}"))?,
        outpost_tests::server_key(),
    )
    .await?;
    storage.seed_demo(now_ms()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let first = ServerProcess::spawn(&url, &schema).await?;
    let second = ServerProcess::spawn(&url, &schema).await?;
    let urls = [first.url(), second.url()];

    let site_a = storage.site_by_name(SITE_A).await?.map(|s| s.id).ok_or_else(|| anyhow::anyhow!("no site A"))?;
    let mut devices = Vec::new();
    for n in 0..4 {
        let code = new_enrollment_code();
        let now = now_ms();
        storage
            .create_enrollment_code(site_a, &hash_enrollment_code(&code), now + 3_600_000, now, None)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        devices.push(SimDevice::enroll_with_code(&urls[n % 2], &code).await?);
    }
    // A shared client record everyone edits, and each device's own events.
    let client = devices[0].create(Collection::Clients, json!({"uic": "MAIV287", "gender": "not_stated"}))?;
    devices[0].sync().await?;
    let mut created = 1;
    for round in 0..6 {
        for (n, device) in devices.iter().enumerate() {
            device.sync().await?;
            let visit = device
                .create(Collection::Contacts, json!({"setting": "window", "occurred_at": "2026-11-25T10:00:00Z"}))?;
            device.create(
                Collection::DistributionLines,
                json!({"contact_id": visit.to_string(), "commodity": "syringe_1ml", "quantity": 1 + round + n}),
            )?;
            created += 2;
            let gender = ["woman", "man", "non_binary", "trans_man"][(round + n) % 4];
            device.update(Collection::Clients, client, json!({"gender": gender}))?;
        }
        // Everyone syncs at once, each through a server picked at random.
        let syncs = devices.iter().enumerate().map(|(n, d)| {
            let url = &urls[(now_ms() as usize + 3 * n + round) % 2];
            async move {
                let other = SyncClient::new(url)?;
                other.sync(&d.store, &fast_retries(), &mut |_| {}).await.map_err(anyhow::Error::from)
            }
        });
        for result in futures::future::join_all(syncs).await {
            result?;
        }
    }
    for _ in 0..2 {
        for device in &devices {
            device.sync().await?;
        }
    }
    let refs: Vec<&SimDevice> = devices.iter().collect();
    assert_converged_with(&storage, &refs).await?;
    let snapshot = storage.snapshot().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let device_records = snapshot
        .iter()
        .filter(|r| ["clients", "contacts", "distribution_lines"].contains(&r.collection.as_str()))
        .count();
    assert_eq!(device_records, created, "nothing lost, nothing duplicated");
    storage.check().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    drop((first, second));
    outpost_tests::drop_schema(&url, &schema).await?;
    Ok(())
}
