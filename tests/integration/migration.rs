//! Moving an office from SQLite to PostgreSQL with `outpost-server export` and `import` loses
//! nothing: records, stamps, sequence numbers, devices and their tokens, enrolment codes and
//! conflicts, accounts (passwords, second factors, sites, tablets' workers) arrive intact, and
//! the tablets keep syncing from where they were.

use outpost_core::Collection;
use outpost_device::SyncClient;
use outpost_server::services::accounts::{self, Role};
use outpost_server_store::postgres::Postgres;
use outpost_tests::{
    SITE_A, ServerProcess, SimDevice, TEST_PASSWORD, TestServer, WebClient, assert_converged_with, fast_retries,
    postgres_url, unique_schema,
};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_office_moves_from_sqlite_to_postgres_without_loss() -> anyhow::Result<()> {
    let Some(url) = postgres_url() else {
        eprintln!("migration test skipped: OUTPOST_TEST_DATABASE_URL is not set");
        return Ok(());
    };
    let office = TestServer::start().await?;
    let a = SimDevice::enroll(&office, SITE_A).await?;
    let b = SimDevice::enroll(&office, SITE_A).await?;
    let client =
        a.create(Collection::Clients, json!({"uic": "MAIV287", "gender": "not_stated", "birth_year": 1987}))?;
    let visit = a.create(
        Collection::Contacts,
        json!({"client_id": client.to_string(), "setting": "window", "occurred_at": "2026-11-20T10:00:00Z"}),
    )?;
    a.create(
        Collection::DistributionLines,
        json!({"contact_id": visit.to_string(), "commodity": "syringe_1ml", "quantity": 10}),
    )?;
    a.sync().await?;
    b.sync().await?;
    a.update(Collection::Clients, client, json!({"gender": "woman"}))?;
    b.update(Collection::Clients, client, json!({"gender": "trans_woman"}))?;
    a.sync().await?;
    b.sync().await?;
    // Accounts move too: a coordinator with a second factor, and a worker the unused code is for.
    let now = outpost_server::time::now_ms();
    accounts::create_user(&office.storage, "coord", TEST_PASSWORD, Role::Coordinator, &[SITE_A.into()], now).await?;
    accounts::enable_totp(&office.storage, "coord").await?;
    accounts::create_user(&office.storage, "ivan", TEST_PASSWORD, Role::OutreachWorker, &[SITE_A.into()], now).await?;
    let unused_code = office.enrollment_code_for(SITE_A, "ivan").await?;
    let accounts_before = office.storage.export().await?.accounts;
    assert_eq!(accounts_before.users.len(), 2);
    // Who is who moves too: a merge (a record), a pair judged two people (a table), the index.
    let twice = a.create(Collection::Clients, json!({"uic": "MAIV287", "gender": "woman"}))?;
    let other = a.create(Collection::Clients, json!({"uic": "MAIV288", "gender": "woman"}))?;
    a.sync().await?;
    let org = office.storage.org_settings().await?.id;
    office.storage.merge_clients(org, twice, client, now).await?;
    office.storage.dismiss_pair(org, client, other, "user:coord", now).await?;
    office.storage.set_client_index(true).await?;
    // A deleted record whose tombstone was cleaned up: its key moves too.
    let purged = a.create(Collection::Clients, json!({"uic": "OLPE190", "gender": "man"}))?;
    a.sync().await?;
    a.with(|s| s.delete(Collection::Clients, purged))?;
    a.sync().await?;
    let now = outpost_server::time::now_ms();
    assert_eq!(office.storage.purge_tombstones(now + 1, now).await?.purged, 1);
    let purged_before = office.storage.purged_keys().await?;
    // One change stays unsynced across the move.
    b.create(Collection::Contacts, json!({"setting": "street_outreach", "occurred_at": "2026-11-21T10:00:00Z"}))?;

    let before = office.storage.export().await?;
    assert!(!before.conflicts.is_empty(), "the office has a conflict to carry over");
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("office.json");
    let sqlite_url =
        format!("sqlite://{}", office.sqlite_path().ok_or_else(|| anyhow::anyhow!("not sqlite"))?.display());
    let file_arg = file.display().to_string();
    let (ok, stderr) = ServerProcess::run_cli(&["export", "--database-url", &sqlite_url, "--out", &file_arg])?;
    assert!(ok, "{stderr}");
    let (ok, stderr) = ServerProcess::run_cli(&["export", "--database-url", &sqlite_url, "--out", &file_arg])?;
    assert!(!ok && stderr.contains("must not exist"), "an export never overwrites: {stderr}");
    office.stop().await?;

    let schema = unique_schema();
    let postgres = outpost_server_store::Store::new(
        Postgres::connect(&url, Some(&schema), 4).await.map_err(|e| anyhow::anyhow!("{e}"))?,
        outpost_tests::server_key(),
    )
    .await?;
    let pg_url = ServerProcess::schema_url(&url, &schema);
    let (ok, stderr) = ServerProcess::run_cli(&["import", "--database-url", &pg_url, "--in", &file_arg])?;
    assert!(ok, "{stderr}");
    let (ok, stderr) = ServerProcess::run_cli(&["import", "--database-url", &pg_url, "--in", &file_arg])?;
    assert!(!ok && stderr.contains("already holds data"), "importing twice is refused: {stderr}");
    let mut after = postgres.export().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    // The audit log carries on: the move itself (export, import) is recorded after what was there.
    let audit = std::mem::take(&mut after.audit_log);
    assert_eq!(audit[..before.audit_log.len()], before.audit_log[..]);
    let actions: Vec<&str> = audit[before.audit_log.len()..].iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["export", "import"]);
    assert!(
        outpost_server_store::audit::verify_audit_chain(&audit, &outpost_tests::server_key()).is_ok(),
        "the chain still verifies after the move"
    );
    let mut before_tables = before.clone();
    before_tables.audit_log.clear();
    assert_eq!(before.duplicate_dismissals.len(), 1);
    assert_eq!(after, before_tables, "every table arrives intact");
    assert!(postgres.org_settings().await?.client_index, "the organisation's client index stays on");
    assert!(postgres.people(org).await?.is_merged_away(twice), "the merge arrives");
    assert_eq!(after.accounts, accounts_before, "accounts arrive intact");
    assert_eq!(postgres.purged_keys().await?, purged_before, "purged keys arrive intact");

    // The tablets keep their tokens and cursors and sync with the new server.
    let server = ServerProcess::spawn(&url, &schema).await?;
    let new_client = SyncClient::new(&server.url())?;
    for device in [&a, &b] {
        new_client.sync(&device.store, &fast_retries(), &mut |_| {}).await?;
    }
    new_client.sync(&a.store, &fast_retries(), &mut |_| {}).await?;
    assert_converged_with(&postgres, &[&a, &b]).await?;
    let fresh = SimDevice::enroll_with_code(&server.url(), &unused_code).await?;
    fresh.sync().await?;
    assert_converged_with(&postgres, &[&fresh]).await?;
    let moved = postgres.export().await?.accounts;
    assert_eq!(moved.device_users.len(), 1, "the new tablet belongs to the worker its code was for");
    let (status, body) = WebClient::new(&server.url()).login("ivan", TEST_PASSWORD, None).await?;
    assert_eq!(status, 200, "passwords keep working after the move: {body}");
    postgres.check().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    drop(server);
    outpost_tests::drop_schema(&url, &schema).await?;
    Ok(())
}

#[test]
fn migrate_prepares_a_database_and_rejects_bad_urls() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("new/outpost.db").display());
    let (ok, stderr) = ServerProcess::run_cli(&["migrate", "--database-url", &url])?;
    assert!(ok, "{stderr}");
    assert!(dir.path().join("new/outpost.db").exists());
    let (ok, stderr) = ServerProcess::run_cli(&["migrate", "--database-url", "mysql://nope"])?;
    assert!(!ok && stderr.contains("sqlite:// or postgres://"), "{stderr}");
    Ok(())
}
