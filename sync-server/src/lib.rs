//! Outpost sync server.
//!
//! Devices enrol with a one-time code, then push their outbox and pull changes for the sites
//! they are enrolled for. Each pushed batch is validated as a whole, then merged in one storage
//! transaction (replays ignored, server sequence numbers assigned) and acknowledged only after
//! commit. Storage sits behind [`db::Storage`]; SQLite is the embedded default.
//!
//! Entry points made for tests: [`api::app`] builds the router without a socket and [`launch`]
//! serves it on a listener the caller bound (port 0 in tests).

pub mod accounts;
pub mod api;
pub mod dashboard;
pub mod db;
pub mod error;
pub mod limits;
pub mod purge;
pub mod reports;
pub mod settings;
pub mod time;
pub mod tokens;
pub mod web;

use crate::db::Storage;
use crate::settings::Settings;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Shared state of every request handler.
#[derive(Debug)]
pub struct AppState<S> {
    pub storage: S,
    pub settings: Settings,
    /// Failed enrolment attempts per address.
    pub enrol_failures: limits::FailureLimiter,
    /// Failed logins per address.
    pub login_failures: limits::FailureLimiter,
    /// Failed logins per account name.
    pub account_failures: limits::FailureLimiter<String>,
}

impl<S> AppState<S> {
    pub fn new(storage: S, settings: Settings) -> Self {
        Self {
            storage,
            settings,
            enrol_failures: limits::FailureLimiter::default(),
            login_failures: limits::FailureLimiter::default(),
            account_failures: limits::FailureLimiter::default(),
        }
    }
}

/// Serves the API on `listener` until `shutdown` completes.
pub async fn launch<S: Storage>(
    storage: S,
    settings: Settings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let state = Arc::new(AppState::new(storage, settings));
    let purger = tokio::spawn(purge_loop(state.clone()));
    let router = api::app(state);
    let served = axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await;
    purger.abort();
    served
}

/// Removes tombstones older than the retention period, a minute after start and every six
/// hours after that. A failed run is logged and tried again next time.
async fn purge_loop<S: Storage>(state: Arc<AppState<S>>) {
    let days = state.settings.tombstone_retention_days;
    if days == 0 {
        return;
    }
    tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    loop {
        let now = time::now_ms();
        let before = now.saturating_sub(days.saturating_mul(24 * 3600 * 1000));
        if let Err(e) = purge::purge_tombstones(&state.storage, before, now).await {
            tracing::error!(error = %e, "tombstone clean-up failed; it runs again in six hours");
        }
        tokio::time::sleep(std::time::Duration::from_secs(6 * 3600)).await;
    }
}
