//! Server settings: one struct, filled from defaults, then the environment and command line
//! (`OUTPOST_*` variables mirror the flags). Secrets never appear in `Debug` output.

use clap::Args;
use outpost_server_store::keys::{KeyError, ServerKey};
use std::net::SocketAddr;
use std::path::PathBuf;

/// The environment variable that holds the server key (instead of the key file).
pub const SERVER_KEY_VARIABLE: &str = "OUTPOST_SERVER_KEY";

/// Settings shared by every subcommand that opens the database.
#[derive(Clone, Args)]
pub struct StorageSettings {
    /// Directory holding the embedded SQLite database (`outpost.db`) when no database URL is given.
    #[arg(long, env = "OUTPOST_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,
    /// `sqlite://PATH` or `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`. Defaults to the
    /// SQLite file in the data directory.
    #[arg(long, env = "OUTPOST_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Most connections to PostgreSQL per server instance.
    #[arg(long, env = "OUTPOST_DB_MAX_CONNECTIONS", default_value_t = 16, global = true)]
    pub max_connections: usize,
}

impl std::fmt::Debug for StorageSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A PostgreSQL URL may hold a password: show only its scheme.
        let url =
            self.database_url.as_deref().map(|u| u.split("://").next().unwrap_or("?").to_string() + "://<hidden>");
        f.debug_struct("StorageSettings")
            .field("data_dir", &self.data_dir)
            .field("database_url", &url)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

impl StorageSettings {
    /// Path of the default SQLite database file.
    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join("outpost.db")
    }

    /// The database URL in effect.
    pub fn url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", self.sqlite_path().display()))
    }

    /// Where the data lives, for logs: the SQLite path or the PostgreSQL host, never a password.
    pub fn describe(&self) -> String {
        match &self.database_url {
            None => self.sqlite_path().display().to_string(),
            Some(url) => match url.split_once("://") {
                Some((scheme, rest)) => format!("{scheme}://{}", rest.rsplit('@').next().unwrap_or(rest)),
                None => "<invalid URL>".into(),
            },
        }
    }

    /// The server key: `OUTPOST_SERVER_KEY` (64 hexadecimal characters) when set, otherwise
    /// `server.key` in the data directory, created on first use. Never a command-line flag (other
    /// users of the machine could read it in the process list).
    pub fn server_key(&self) -> Result<ServerKey, KeyError> {
        match std::env::var(SERVER_KEY_VARIABLE) {
            Ok(text) if !text.trim().is_empty() => ServerKey::from_hex(&text),
            _ => ServerKey::load_or_create(&self.data_dir),
        }
    }

    /// Opens the configured storage with the server key, bringing its schema up to date.
    pub async fn open(&self) -> Result<outpost_server_store::Store, outpost_server_store::DbError> {
        outpost_server_store::Store::open(&self.url(), self.max_connections, self.server_key()?).await
    }
}

/// Settings of the HTTP server.
#[derive(Clone, Debug, Args)]
pub struct Settings {
    /// Address to listen on.
    #[arg(long, env = "OUTPOST_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "OUTPOST_MAX_BODY_BYTES", default_value_t = 8 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Device tokens expire after this many days without a sync.
    #[arg(long, env = "OUTPOST_TOKEN_TTL_DAYS", default_value_t = 180)]
    pub token_ttl_days: u64,
    /// Stamps further ahead of the server clock than this are clamped to it (milliseconds).
    #[arg(long, env = "OUTPOST_MAX_CLOCK_AHEAD_MS", default_value_t = 5 * 60 * 1000)]
    pub max_clock_ahead_ms: u64,
    /// Seconds a request may take before the server answers 408.
    #[arg(long, env = "OUTPOST_REQUEST_TIMEOUT_SECS", default_value_t = 60)]
    pub request_timeout_secs: u64,
    /// Seconds a client has to send a request's headers; a kept-alive connection waiting this
    /// long for its next request is closed too.
    #[arg(long, env = "OUTPOST_HEADER_READ_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_read_timeout_secs: u64,
    /// Seconds a connection may move no byte while none of its requests is being handled
    /// (a client that stopped reading its reply) before it is closed.
    #[arg(long, env = "OUTPOST_IDLE_TIMEOUT_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub idle_timeout_secs: u64,
    /// Most connections open at once; further ones wait until one closes. Lowered at start to
    /// what the process's open-file limit allows.
    #[arg(long, env = "OUTPOST_CONNECTION_LIMIT", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub connection_limit: u64,
    /// Most pushes, pulls and restores handled at once; more wait (see `--sync-queue`).
    #[arg(long, env = "OUTPOST_SYNC_CONCURRENCY", default_value_t = 32, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000))]
    pub sync_concurrency: usize,
    /// Most sync requests waiting for a slot (each up to 5 seconds); beyond that the server
    /// answers `503 server_busy` with `Retry-After` at once.
    #[arg(long, env = "OUTPOST_SYNC_QUEUE", default_value_t = 512, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=1_000_000))]
    pub sync_queue: usize,
    /// Deleted records are kept as tombstones this many days, then removed (devices that have
    /// not synced since then resync in full). 0 keeps them for ever.
    #[arg(long, env = "OUTPOST_TOMBSTONE_RETENTION_DAYS", default_value_t = outpost_server_store::purge::DEFAULT_RETENTION_DAYS)]
    pub tombstone_retention_days: u64,
    /// Directory of the built dashboard (`npm run build` in `ui/` writes `ui/dist-dashboard`).
    #[arg(long, env = "OUTPOST_DASHBOARD_DIR", default_value = "ui/dist-dashboard")]
    pub dashboard_dir: PathBuf,
    /// A reverse proxy in front of the server (an address or a CIDR range, repeatable; comma
    /// separated in the variable): only requests from it may say, in `X-Forwarded-For` or
    /// `Forwarded`, which client they come from. Without it the connection's address is the
    /// client's, and clients' headers are ignored.
    #[arg(long = "trusted-proxy", env = "OUTPOST_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_net)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The address tablets reach this server at (`https://outpost.example.org`), printed on
    /// enrolment cards and in their QR codes. Without it, the address the coordinator's browser
    /// used is printed.
    #[arg(long, env = "OUTPOST_PUBLIC_URL")]
    pub public_url: Option<String>,
}

/// An address (`10.0.0.5`) or a CIDR range (`10.0.0.0/24`, `fd00::/8`).
pub fn parse_net(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{text:?} is not an address or a CIDR range (10.0.0.5, 10.0.0.0/24, fd00::/8)"))
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 8 * 1024 * 1024,
            token_ttl_days: 180,
            max_clock_ahead_ms: 5 * 60 * 1000,
            request_timeout_secs: 60,
            header_read_timeout_secs: 10,
            idle_timeout_secs: 30,
            connection_limit: 1024,
            sync_concurrency: 32,
            sync_queue: 512,
            tombstone_retention_days: outpost_server_store::purge::DEFAULT_RETENTION_DAYS,
            dashboard_dir: PathBuf::from("ui/dist-dashboard"),
            trusted_proxies: Vec::new(),
            public_url: None,
        }
    }
}

impl Settings {
    /// The limits on connections, fitted to `open_files` (the process's open-file limit).
    pub fn connection_limits(&self, open_files: Option<u64>) -> crate::connections::ConnectionLimits {
        let wanted = usize::try_from(self.connection_limit).unwrap_or(usize::MAX);
        crate::connections::ConnectionLimits {
            header_read_timeout: std::time::Duration::from_secs(self.header_read_timeout_secs),
            idle_timeout: std::time::Duration::from_secs(self.idle_timeout_secs),
            max_connections: crate::connections::fitting_limit(wanted, open_files),
        }
    }

    /// Token lifetime in milliseconds.
    pub fn token_ttl_ms(&self) -> u64 {
        self.token_ttl_days.saturating_mul(24 * 3600 * 1000)
    }
}
