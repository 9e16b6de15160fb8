//! Test harness shared by the integration tests and the benchmarks: a real server on a loopback
//! port over a real SQLite file, and simulated devices built on `outpost-device`.

use anyhow::{Context, Result, anyhow};
use outpost_core::wire::SiteRef;
use outpost_core::{Collection, RecordId, SiteId};
use outpost_device::{DeviceStore, SyncClient, SyncOptions, SyncReport};
use outpost_server::db::Storage;
use outpost_server::db::sqlite::SqliteStorage;
use outpost_server::settings::Settings;
use outpost_server::time::now_ms;
use outpost_server::tokens::{hash_enrollment_code, new_enrollment_code};
use serde_json::{Map, Value};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;
use tempfile::TempDir;
use tokio::sync::oneshot;

/// A running server on `127.0.0.1:<random port>` with its own data directory.
pub struct TestServer {
    pub addr: SocketAddr,
    pub storage: SqliteStorage,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _dir: TempDir,
}

/// The two sites of the demo organisation.
pub const SITE_A: &str = "Drop-in centre";
pub const SITE_B: &str = "Street outreach team";

impl TestServer {
    /// Starts a server with default settings and the demo organisation.
    pub async fn start() -> Result<Self> {
        Self::start_with(Settings::default()).await
    }

    /// Starts a server with the given settings (the listen address is ignored: port 0).
    pub async fn start_with(settings: Settings) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let storage = SqliteStorage::open(&dir.path().join("outpost.db")).map_err(|e| anyhow!("{e}"))?;
        storage.seed_demo(now_ms()).await.map_err(|e| anyhow!("{e}"))?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(outpost_server::launch(storage.clone(), settings, listener, async {
            let _ = rx.await;
        }));
        Ok(Self { addr, storage, shutdown: Some(tx), task: Some(task), _dir: dir })
    }

    /// The base URL devices use.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A fresh one-time enrolment code for a site of the demo organisation.
    pub async fn enrollment_code(&self, site: &str) -> Result<String> {
        let code = new_enrollment_code();
        let now = now_ms();
        self.storage
            .create_enrollment_code(site, &hash_enrollment_code(&code), now + 3_600_000, now)
            .await
            .map_err(|e| anyhow!("{e}"))?;
        Ok(code)
    }

    /// Stops the server and waits for it.
    pub async fn stop(mut self) -> Result<()> {
        self.halt().await
    }

    /// Stops serving, keeping the database, so the server can be started again.
    pub async fn halt(&mut self) -> Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await??;
        }
        Ok(())
    }

    /// Serves again on the same address over the same database after [`Self::halt`].
    pub async fn resume(&mut self) -> Result<()> {
        let listener = tokio::net::TcpListener::bind(self.addr).await?;
        let (tx, rx) = oneshot::channel();
        self.task =
            Some(tokio::spawn(outpost_server::launch(self.storage.clone(), Settings::default(), listener, async {
                let _ = rx.await;
            })));
        self.shutdown = Some(tx);
        Ok(())
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A simulated tablet: an in-memory device store and a sync client.
pub struct SimDevice {
    pub store: Mutex<DeviceStore>,
    pub client: SyncClient,
    pub site: SiteRef,
}

impl SimDevice {
    /// Enrols a new device for `site` on `server`.
    pub async fn enroll(server: &TestServer, site: &str) -> Result<Self> {
        let store = Mutex::new(DeviceStore::open_in_memory()?);
        let client = SyncClient::new(&server.url())?;
        let code = server.enrollment_code(site).await?;
        let enrolled = client.enroll(&store, &code, "simulated tablet").await?;
        let site = enrolled.sites.first().cloned().context("enrolment returned no site")?;
        Ok(Self { store, client, site })
    }

    /// Runs the store closure with the lock held.
    pub fn with<T>(&self, f: impl FnOnce(&mut DeviceStore) -> T) -> T {
        let mut guard = self.store.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }

    /// Creates a record at this device's site.
    pub fn create(&self, collection: Collection, fields: Value) -> Result<RecordId> {
        let site = self.site.id;
        Ok(self.with(|s| s.create(collection, site, object(fields)))?)
    }

    /// Updates fields of a record.
    pub fn update(&self, collection: Collection, id: RecordId, fields: Value) -> Result<()> {
        Ok(self.with(|s| s.update(collection, id, object(fields)))?)
    }

    /// A full sync with quick retries.
    pub async fn sync(&self) -> Result<SyncReport> {
        Ok(self.client.sync(&self.store, &fast_retries(), &mut |_| {}).await?)
    }

    /// This device's site.
    pub fn site_id(&self) -> SiteId {
        self.site.id
    }
}

/// Sync options with short back-off, for tests.
pub fn fast_retries() -> SyncOptions {
    SyncOptions {
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        ..SyncOptions::default()
    }
}

/// The fields of a JSON object (an empty map for anything else).
pub fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Checks that every device holds exactly the server's records within its scope (its sites and
/// organisation-wide reference data), with identical merged states.
pub async fn assert_converged(server: &TestServer, devices: &[&SimDevice]) -> Result<()> {
    let rows = server.storage.snapshot().await.map_err(|e| anyhow!("{e}"))?;
    for (n, device) in devices.iter().enumerate() {
        let local = device.with(|s| s.snapshot())?;
        let expected: std::collections::BTreeMap<_, _> = rows
            .iter()
            .filter(|r| r.site_id.is_none() || r.site_id == Some(device.site_id()))
            .map(|r| ((r.collection.clone(), r.id), r.state.clone()))
            .collect();
        if local != expected {
            let missing: Vec<_> = expected.keys().filter(|k| !local.contains_key(*k)).collect();
            let extra: Vec<_> = local.keys().filter(|k| !expected.contains_key(*k)).collect();
            let differing: Vec<_> =
                expected.iter().filter(|(k, v)| local.get(*k).is_some_and(|l| l != *v)).map(|(k, _)| k).collect();
            return Err(anyhow!(
                "device {n} diverges from the server: missing {missing:?}, extra {extra:?}, differing {differing:?}"
            ));
        }
        let pending = device.with(|s| s.pending_count())?;
        if pending != 0 {
            return Err(anyhow!("device {n} still has {pending} pending operations"));
        }
    }
    Ok(())
}
