//! Server settings: one struct, filled from defaults, then the environment and command line
//! (`OUTPOST_*` variables mirror the flags). Secrets never appear in `Debug` output.

use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Settings shared by every subcommand that opens the database.
#[derive(Clone, Debug, Args)]
pub struct StorageSettings {
    /// Directory holding the embedded SQLite database (`outpost.db`).
    #[arg(long, env = "OUTPOST_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
}

impl StorageSettings {
    /// Path of the SQLite database file.
    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join("outpost.db")
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
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 8 * 1024 * 1024,
            token_ttl_days: 180,
            max_clock_ahead_ms: 5 * 60 * 1000,
            request_timeout_secs: 60,
        }
    }
}

impl Settings {
    /// Token lifetime in milliseconds.
    pub fn token_ttl_ms(&self) -> u64 {
        self.token_ttl_days.saturating_mul(24 * 3600 * 1000)
    }
}
