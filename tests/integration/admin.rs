//! Device lifecycle, sites and the audit log, through the storage and the admin CLI.

use outpost_core::Collection;
use outpost_server::settings::Settings;
use outpost_server::time::now_ms;
use outpost_server_store::audit::{AuditEvent, verify_audit_chain};
use outpost_tests::{Backend, SITE_A, ServerProcess, SimDevice, TestServer};
use serde_json::json;

type Result = anyhow::Result<()>;

async fn a_revoked_device_is_refused_and_told_to_wipe(backend: Backend) -> Result {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let a = SimDevice::enroll(&server, SITE_A).await?;
    a.create(Collection::Contacts, json!({"setting": "window", "occurred_at": "2026-11-25T10:00:00Z"}))?;
    a.sync().await?;
    let id = a.with(|s| s.identity().map(|i| i.device_id)).ok_or_else(|| anyhow::anyhow!("no id"))?;
    server.storage.revoke_device(id, now_ms()).await?;
    server.storage.revoke_device(id, now_ms()).await?;

    a.create(Collection::Contacts, json!({"setting": "window", "occurred_at": "2026-11-25T11:00:00Z"}))?;
    let error = a.client.sync(&a.store, &outpost_tests::fast_retries(), &mut |_| {}).await.err();
    match error {
        Some(outpost_device::SyncError::Unauthorized { code, .. }) => assert_eq!(code, "device_revoked"),
        other => anyhow::bail!("expected device_revoked, got {other:?}"),
    }
    let devices = server.storage.list_devices().await?;
    assert!(devices.iter().any(|d| d.id == id && d.revoked_ms.is_some()));
    let unknown = outpost_core::DeviceId(uuid::Uuid::now_v7());
    assert!(server.storage.revoke_device(unknown, now_ms()).await.is_err(), "an unknown device is an error");
    assert_eq!(server.storage.snapshot().await?.iter().filter(|r| r.collection == "contacts").count(), 1);
    server.stop().await
}

async fn a_new_site_reaches_only_its_own_devices(backend: Backend) -> Result {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let a = SimDevice::enroll(&server, SITE_A).await?;
    let fields = |v: serde_json::Value| v.as_object().cloned().unwrap_or_default();
    let site = server.storage.add_site(fields(json!({"name": "Night bus", "pwid_estimate": 300})), now_ms()).await?;
    assert!(server.storage.add_site(fields(json!({"name": "Night bus"})), now_ms()).await.is_err(), "names are unique");
    let sites = server.storage.list_sites().await?;
    assert!(sites.iter().any(|s| s.id == site.id && s.active_devices == 0));
    let bus = SimDevice::enroll(&server, "Night bus").await?;
    bus.sync().await?;
    a.sync().await?;
    assert_eq!(bus.with(|s| s.list(Collection::Sites))?.len(), 1);
    let names = |d: &SimDevice| -> anyhow::Result<Vec<serde_json::Value>> {
        Ok(d.with(|s| s.list(Collection::Sites))?.into_iter().map(|(_, st)| st.values()["name"].clone()).collect())
    };
    assert_eq!(names(&bus)?, vec![json!("Night bus")]);
    assert_eq!(names(&a)?, vec![json!(SITE_A)]);
    server.stop().await
}

async fn the_audit_chain_grows_and_verifies(backend: Backend) -> Result {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    SimDevice::enroll(&server, SITE_A).await?;
    for n in 0..3 {
        server.storage.append_audit(AuditEvent::new("cli", "site.add", format!("site {n}"), ""), now_ms()).await?;
    }
    let rows = server.storage.audit_log().await?;
    assert_eq!(verify_audit_chain(&rows, server.storage.key()).map(|s| s.entries), Ok(4));
    assert_eq!(rows[0].action, "enroll", "enrolment is audited");
    assert_eq!(rows[0].address.as_deref(), Some("127.0.0.1"), "with the address it came from");
    server.stop().await
}

on_both_backends!(
    a_revoked_device_is_refused_and_told_to_wipe,
    a_new_site_reaches_only_its_own_devices,
    the_audit_chain_grows_and_verifies
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_cli_manages_devices_and_sites_and_audit_verify_names_a_tampered_row() -> Result {
    let server = TestServer::start().await?;
    let db = server.sqlite_path().ok_or_else(|| anyhow::anyhow!("not sqlite"))?;
    let url = format!("sqlite://{}", db.display());
    let cli = |args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--database-url", url.as_str()]);
        ServerProcess::run_cli_output(&all)
    };
    let a = SimDevice::enroll(&server, SITE_A).await?;
    let id = a.with(|s| s.identity().map(|i| i.device_id.to_string())).ok_or_else(|| anyhow::anyhow!("no id"))?;

    let (ok, out, err) = cli(&["device", "list"])?;
    assert!(ok && out.contains(&id) && out.contains("active"), "{out}{err}");
    let (ok, _, err) = cli(&["site", "add", "--name", "Night bus", "--pwid-estimate", "300"])?;
    assert!(ok, "{err}");
    let (ok, _, err) = cli(&["site", "add", "--name", "Night bus"])?;
    assert!(!ok && err.contains("already exists"), "{err}");
    let (ok, _, err) = cli(&["site", "add", "--name", "   "])?;
    assert!(!ok && err.contains("a name is needed"), "{err}");
    let (ok, out, _) = cli(&["site", "list"])?;
    assert!(ok && out.contains("Night bus") && out.contains(SITE_A), "{out}");
    let (ok, _, err) = cli(&["device", "rename", "--id", &id, "--name", "Van 2"])?;
    assert!(ok, "{err}");
    let (ok, _, err) = cli(&["device", "revoke", "--id", &id])?;
    assert!(ok, "{err}");
    let (ok, _, err) = cli(&["device", "revoke", "--id", "not-a-uuid"])?;
    assert!(!ok && err.contains("invalid value"), "{err}");
    let (ok, _, err) = cli(&["device", "revoke", "--id", &uuid::Uuid::nil().to_string()])?;
    assert!(!ok && err.contains("no tablet"), "{err}");
    let (ok, out, _) = cli(&["device", "list"])?;
    assert!(ok && out.contains("Van 2") && out.contains("revoked"), "{out}");
    let (ok, out, err) = cli(&["audit", "verify"])?;
    assert!(ok && out.contains("intact: 4 entries"), "{out}{err}");

    // Someone edits the log directly: verification fails and names the row.
    let conn = outpost_device::rusqlite::Connection::open(&db)?;
    conn.execute("UPDATE audit_log SET detail = 'nothing happened' WHERE id = 3", [])?;
    drop(conn);
    let (ok, _, err) = cli(&["audit", "verify"])?;
    assert!(!ok && err.contains("audit entry 3"), "{err}");
    server.stop().await
}
