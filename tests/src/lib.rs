//! Test harness shared by the integration tests and the benchmarks: a real server on a loopback
//! port over a real SQLite file, and simulated devices built on `outpost-device`.

pub mod fake_dhis2;
pub mod faults;
pub mod fixtures;
pub mod generated;
pub mod webdriver;

use anyhow::{Context, Result, anyhow};
use outpost_core::wire::SiteRef;
use outpost_core::{Collection, RecordId, SiteId};
use outpost_device::{DeviceStore, SyncClient, SyncOptions, SyncReport};
use outpost_server::services::tokens::{hash_enrollment_code, new_enrollment_code};
use outpost_server::settings::Settings;
use outpost_server::time::now_ms;
use outpost_server_store::Store;
use outpost_server_store::postgres::Postgres;
use outpost_server_store::sqlite::Sqlite;
use serde_json::{Map, Value};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;
use tempfile::TempDir;
use tokio::sync::oneshot;

/// The key of every store `outpost-sim-device` opens (tests open the same files with it).
pub const SIM_DEVICE_KEY: [u8; 32] = [0x5a; 32];

/// Which storage a test server runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temporary directory.
    Sqlite,
    /// A fresh schema in the PostgreSQL database named by `OUTPOST_TEST_DATABASE_URL`.
    Postgres,
}

/// The PostgreSQL database for tests, if configured (`scripts/test.sh` sets it).
pub fn postgres_url() -> Option<String> {
    std::env::var("OUTPOST_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty())
}

/// The server key of every test's storage and of the server processes tests start (given to
/// them in `OUTPOST_SERVER_KEY`), so a test can open what a process wrote and the other way
/// round. Tests of the key itself make their own.
pub const TEST_SERVER_KEY: &str = "7e57000000000000000000000000000000000000000000000000000000007e57";

pub use outpost_server::settings::SERVER_KEY_VARIABLE;

/// [`TEST_SERVER_KEY`] as a key.
pub fn server_key() -> outpost_server_store::ServerKey {
    outpost_server_store::ServerKey::from_hex(TEST_SERVER_KEY).unwrap_or_else(|e| panic!("the test key: {e}"))
}

/// A fresh, uniquely named PostgreSQL schema for one test.
pub fn unique_schema() -> String {
    format!("t_{}", uuid::Uuid::now_v7().simple())
}

/// Opens empty storage of the given kind; the temporary directory holds a SQLite file.
pub async fn open_storage(backend: Backend, dir: &TempDir) -> Result<(Store, Option<String>)> {
    open_storage_at(backend, dir, postgres_url().as_deref()).await
}

/// [`open_storage`] with an explicit PostgreSQL URL.
pub async fn open_storage_at(backend: Backend, dir: &TempDir, url: Option<&str>) -> Result<(Store, Option<String>)> {
    match backend {
        Backend::Sqlite => {
            let storage = Sqlite::open(&dir.path().join("outpost.db")).map_err(|e| anyhow!("{e}"))?;
            Ok((Store::new(storage, server_key()).await?, None))
        }
        Backend::Postgres => {
            let url = url.context("no PostgreSQL URL: set OUTPOST_TEST_DATABASE_URL")?;
            let schema = unique_schema();
            let storage = Postgres::connect(url, Some(&schema), 8).await.map_err(|e| anyhow!("{e}"))?;
            Ok((Store::new(storage, server_key()).await?, Some(schema)))
        }
    }
}

/// Drops a test's PostgreSQL schema and everything in it.
pub async fn drop_schema(url: &str, schema: &str) -> Result<()> {
    Postgres::drop_schema(url, schema).await.map_err(|e| anyhow!("{e}"))
}

/// A running server on `127.0.0.1:<random port>` with its own database.
pub struct TestServer {
    pub addr: SocketAddr,
    pub storage: Store,
    pub backend: Backend,
    settings: Settings,
    schema: Option<String>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _dir: TempDir,
}

/// The two sites of the demo organisation.
pub const SITE_A: &str = "Drop-in centre";
pub const SITE_B: &str = "Street outreach team";

impl TestServer {
    /// Starts a server on SQLite with default settings and the demo organisation.
    pub async fn start() -> Result<Self> {
        Self::start_on(Backend::Sqlite, Settings::default()).await
    }

    /// Starts a server on SQLite with the given settings (the listen address is ignored).
    pub async fn start_with(settings: Settings) -> Result<Self> {
        Self::start_on(Backend::Sqlite, settings).await
    }

    /// Starts a server on the given backend with the demo organisation, on port 0.
    pub async fn start_on(backend: Backend, settings: Settings) -> Result<Self> {
        Self::start_at(backend, settings, postgres_url().as_deref(), None).await
    }

    /// [`Self::start_on`] with an explicit PostgreSQL URL and, optionally, the directory that
    /// holds the SQLite file (benchmarks put it on the disk they measure).
    pub async fn start_at(
        backend: Backend,
        settings: Settings,
        url: Option<&str>,
        parent: Option<&std::path::Path>,
    ) -> Result<Self> {
        let dir = match parent {
            Some(parent) => tempfile::tempdir_in(parent)?,
            None => tempfile::tempdir()?,
        };
        let (storage, schema) = open_storage_at(backend, &dir, url).await?;
        storage.seed_demo(now_ms()).await.map_err(|e| anyhow!("{e}"))?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let mut server = Self { addr, storage, backend, settings, schema, shutdown: None, task: None, _dir: dir };
        server.serve(listener);
        Ok(server)
    }

    /// A server on a new, empty database of `backend` into which `dump` is loaded: a restore
    /// from a backup (the devices' tokens in it stay valid).
    pub async fn restored_from(
        backend: Backend,
        settings: Settings,
        dump: outpost_server_store::dump::Dump,
    ) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let (storage, schema) = open_storage_at(backend, &dir, postgres_url().as_deref()).await?;
        storage.import(dump).await.map_err(|e| anyhow!("{e}"))?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let mut server = Self { addr, storage, backend, settings, schema, shutdown: None, task: None, _dir: dir };
        server.serve(listener);
        Ok(server)
    }

    /// Another server instance over the same database (multi-instance tests).
    pub async fn another_instance(&self) -> Result<Self> {
        let storage = match (self.backend, &self.schema) {
            (Backend::Postgres, Some(schema)) => {
                let url = postgres_url().context("OUTPOST_TEST_DATABASE_URL is not set")?;
                Store::new(Postgres::connect(&url, Some(schema), 8).await.map_err(|e| anyhow!("{e}"))?, server_key())
                    .await?
            }
            _ => return Err(anyhow!("several instances need PostgreSQL")),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let mut server = Self {
            addr: listener.local_addr()?,
            storage,
            backend: self.backend,
            settings: self.settings.clone(),
            // The first instance owns (and drops) the schema.
            schema: None,
            shutdown: None,
            task: None,
            _dir: tempfile::tempdir()?,
        };
        server.serve(listener);
        Ok(server)
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let (tx, rx) = oneshot::channel();
        self.task =
            Some(tokio::spawn(outpost_server::launch(self.storage.clone(), self.settings.clone(), listener, async {
                let _ = rx.await;
            })));
        self.shutdown = Some(tx);
    }

    /// The base URL devices use.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The SQLite database file, for a server on SQLite.
    pub fn sqlite_path(&self) -> Option<std::path::PathBuf> {
        (self.backend == Backend::Sqlite).then(|| self._dir.path().join("outpost.db"))
    }

    /// A fresh one-time enrolment code for a site of the demo organisation.
    pub async fn enrollment_code(&self, site: &str) -> Result<String> {
        let code = new_enrollment_code();
        let now = now_ms();
        let site = self.site_id(site).await?;
        self.storage
            .create_enrollment_code(site, &hash_enrollment_code(&code), now + 3_600_000, now, None)
            .await
            .map_err(|e| anyhow!("{e}"))?;
        Ok(code)
    }

    /// The id of a site by its name.
    pub async fn site_id(&self, name: &str) -> Result<outpost_core::SiteId> {
        self.storage.site_by_name(name).await?.map(|s| s.id).ok_or_else(|| anyhow!("no site {name:?}"))
    }

    /// Publishes a form given as XLSForm sheets (as the dashboard's upload does after reading the
    /// workbook); returns its version.
    pub async fn publish_xlsform(&self, sheets: &[outpost_core::forms::xlsform::Sheet]) -> Result<u32> {
        let imported = outpost_core::forms::xlsform::import(sheets, "form")
            .map_err(|errors| anyhow!("the form does not import: {}", errors[0]))?;
        outpost_server::services::forms::publish(&self.storage, &imported.form, now_ms())
            .await
            .map_err(|e| anyhow!("{e}"))
    }

    /// A fresh one-time enrolment code for a site, for the worker `username`: their tablet.
    pub async fn enrollment_code_for(&self, site: &str, username: &str) -> Result<String> {
        use outpost_server::services::admin::{Actor, tablets};
        let site = self.site_id(site).await?;
        let created = tablets::create_code(&self.storage, &Actor::cli(), site, Some(username), 1, None, now_ms())
            .await
            .map_err(|e| anyhow!("{e}"))?;
        Ok(created.code)
    }

    /// Stops the server, waits for it, and drops its PostgreSQL schema.
    pub async fn stop(mut self) -> Result<()> {
        self.halt().await?;
        if let (Some(schema), Some(url)) = (self.schema.take(), postgres_url()) {
            drop_schema(&url, &schema).await?;
        }
        Ok(())
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
        let code = server.enrollment_code(site).await?;
        Self::enroll_with_code(&server.url(), &code).await
    }

    /// Enrols a new device with a code, at the server at `url`.
    pub async fn enroll_with_code(url: &str, code: &str) -> Result<Self> {
        let store = Mutex::new(DeviceStore::open_in_memory()?);
        let client = SyncClient::new(url)?;
        let enrolled = client.enroll(&store, code, "simulated tablet").await?;
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
/// organisation-wide reference data, and other sites' clients as the client index carries them
/// when it is on), with identical merged states.
pub async fn assert_converged(server: &TestServer, devices: &[&SimDevice]) -> Result<()> {
    assert_converged_with(&server.storage, devices).await
}

/// [`assert_converged`] against any storage.
pub async fn assert_converged_with(storage: &Store, devices: &[&SimDevice]) -> Result<()> {
    let rows = storage.snapshot().await.map_err(|e| anyhow!("{e}"))?;
    // A tablet keeps its own tombstones of records the server has since cleaned up, until its
    // next full resync (docs/reliability.md); they are not a divergence.
    let purged: std::collections::BTreeSet<(String, String)> = storage
        .purged_keys()
        .await
        .map_err(|e| anyhow!("{e}"))?
        .into_iter()
        .map(|k| (k.collection, k.id.to_string()))
        .collect();
    // (A server without exactly one organisation has no index.)
    let index = storage.org_settings().await.is_ok_and(|o| o.client_index);
    for (n, device) in devices.iter().enumerate() {
        let mut local = device.with(|s| s.snapshot())?;
        local.retain(|(collection, id), state| {
            state.deleted.is_none() || !purged.contains(&(collection.clone(), id.to_string()))
        });
        // With the organisation's client index on, other sites' clients too, reduced by core's rule.
        let expected: std::collections::BTreeMap<_, _> = rows
            .iter()
            .filter_map(|r| {
                let key = (r.collection.clone(), r.id);
                if r.site_id.is_none() || r.site_id == Some(device.site_id()) {
                    Some((key, r.state.clone()))
                } else if index && r.collection == "clients" {
                    Some((key, outpost_core::people::index_state(&r.state)))
                } else if index && r.collection == "sites" {
                    Some((key, r.state.clone()))
                } else {
                    None
                }
            })
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

/// A real `outpost-server serve` process (built by `cargo build`), killed when dropped.
pub struct ServerProcess {
    pub addr: SocketAddr,
    child: std::process::Child,
    /// The database it serves.
    pub database_url: String,
}

impl ServerProcess {
    /// The `outpost-server` binary next to the test binaries.
    pub fn binary() -> Result<std::path::PathBuf> {
        built_binary("outpost-server")
    }

    /// A PostgreSQL URL whose connections use `schema`.
    pub fn schema_url(url: &str, schema: &str) -> String {
        let separator = if url.contains('?') { '&' } else { '?' };
        format!("{url}{separator}options=-c%20search_path%3D{schema}")
    }

    /// Runs `outpost-server ARGS` to completion; returns its exit success and standard error.
    pub fn run_cli(args: &[&str]) -> Result<(bool, String)> {
        Self::run_cli_output(args).map(|(ok, _, err)| (ok, err))
    }

    /// Runs `outpost-server ARGS` to completion; returns success, standard output and error.
    pub fn run_cli_output(args: &[&str]) -> Result<(bool, String, String)> {
        let output = std::process::Command::new(Self::binary()?)
            .args(args)
            .env("RUST_LOG", "warn")
            .env(SERVER_KEY_VARIABLE, TEST_SERVER_KEY)
            .output()?;
        Ok((
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ))
    }

    /// Starts a server process over the PostgreSQL `schema` at `url` and waits until it answers.
    pub async fn spawn(url: &str, schema: &str) -> Result<Self> {
        Self::spawn_with(&Self::schema_url(url, schema), Self::binary()?).await
    }

    /// Starts `binary serve` over `database_url` (`sqlite://PATH` or a PostgreSQL URL) and waits
    /// until it answers.
    pub async fn spawn_with(database_url: &str, binary: std::path::PathBuf) -> Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let child = std::process::Command::new(binary)
            .args(["serve", "--no-demo", "--listen", &addr.to_string(), "--database-url", database_url])
            .env("RUST_LOG", "warn")
            .env(SERVER_KEY_VARIABLE, TEST_SERVER_KEY)
            .stdout(std::process::Stdio::null())
            .spawn()?;
        let process = Self { addr, child, database_url: database_url.to_string() };
        let http = reqwest::Client::new();
        for _ in 0..100 {
            if http.get(format!("{}/healthz", process.url())).send().await.is_ok_and(|r| r.status().is_success()) {
                return Ok(process);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(anyhow!("outpost-server did not start on {addr}"))
    }

    /// The process id (to read its memory and CPU time).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The base URL devices use.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A binary of this workspace built by `cargo build`, next to the test binaries.
pub fn built_binary(name: &str) -> Result<std::path::PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe.parent().and_then(|d| d.parent()).context("test binary location")?;
    let binary = dir.join(name);
    if !binary.exists() {
        return Err(anyhow!("{} is missing: run `cargo build --workspace` first", binary.display()));
    }
    Ok(binary)
}

/// A dashboard user's browser, reduced to what the API sees: the session cookie and the CSRF
/// token from login.
pub struct WebClient {
    pub base: String,
    pub http: reqwest::Client,
    pub cookie: Option<String>,
    pub csrf: Option<String>,
}

impl WebClient {
    pub fn new(base: &str) -> Self {
        Self { base: base.to_string(), http: reqwest::Client::new(), cookie: None, csrf: None }
    }

    /// Logs in; returns the response status and body.
    pub async fn login(&mut self, username: &str, password: &str, totp: Option<&str>) -> Result<(u16, Value)> {
        let mut body = serde_json::json!({"username": username, "password": password});
        if let Some(code) = totp {
            body["totp"] = serde_json::json!(code);
        }
        let response = self.http.post(format!("{}/api/v1/auth/login", self.base)).json(&body).send().await?;
        let status = response.status().as_u16();
        if let Some(cookie) = response.headers().get("set-cookie").and_then(|v| v.to_str().ok()) {
            self.cookie = cookie.split(';').next().map(str::to_string);
        }
        let value: Value = response.json().await.unwrap_or(Value::Null);
        if let Some(csrf) = value.get("csrf_token").and_then(Value::as_str) {
            self.csrf = Some(csrf.to_string());
        }
        Ok((status, value))
    }

    /// Adds a user with the admin CLI's code path and logs in as them.
    pub async fn logged_in(
        server: &TestServer,
        username: &str,
        role: outpost_server::services::accounts::Role,
        sites: &[&str],
    ) -> Result<Self> {
        let sites: Vec<String> = sites.iter().map(|s| s.to_string()).collect();
        outpost_server::services::accounts::create_user(
            &server.storage,
            username,
            TEST_PASSWORD,
            role,
            &sites,
            now_ms(),
        )
        .await
        .map_err(|e| anyhow!("{e}"))?;
        let mut client = Self::new(&server.url());
        let (status, body) = client.login(username, TEST_PASSWORD, None).await?;
        anyhow::ensure!(status == 200, "login as {username} failed: {status} {body}");
        Ok(client)
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        if let Some(csrf) = &self.csrf {
            request = request.header("x-csrf-token", csrf);
        }
        request
    }

    /// GET `path`: status and body text.
    pub async fn get(&self, path: &str) -> Result<(u16, String)> {
        let response = self.request(reqwest::Method::GET, path).send().await?;
        Ok((response.status().as_u16(), response.text().await?))
    }

    /// GET `path` as JSON, requiring 200.
    pub async fn get_json(&self, path: &str) -> Result<Value> {
        let (status, text) = self.get(path).await?;
        anyhow::ensure!(status == 200, "GET {path}: {status} {text}");
        Ok(serde_json::from_str(&text)?)
    }

    /// POST JSON to `path`: status and body.
    pub async fn post(&self, path: &str, body: &Value) -> Result<(u16, Value)> {
        let response = self.request(reqwest::Method::POST, path).json(body).send().await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }

    /// POST text of a content type (a CSV file) to `path`: status and JSON body.
    pub async fn post_text(&self, path: &str, content_type: &str, text: &str) -> Result<(u16, Value)> {
        let response = self
            .request(reqwest::Method::POST, path)
            .header("content-type", content_type)
            .body(text.to_string())
            .send()
            .await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }

    /// POST a file's bytes to `path` (`application/octet-stream`): status and JSON body.
    pub async fn post_bytes(&self, path: &str, bytes: Vec<u8>) -> Result<(u16, Value)> {
        let response = self
            .request(reqwest::Method::POST, path)
            .header("content-type", "application/octet-stream")
            .body(bytes)
            .send()
            .await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }
}

/// The password every test account gets.
pub const TEST_PASSWORD: &str = "river-stone-42-lantern";
