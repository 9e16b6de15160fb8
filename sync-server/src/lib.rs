//! Outpost sync server.
//!
//! Devices enrol with a one-time code, then push their outbox and pull changes for the sites
//! they are enrolled for. Each pushed batch is validated as a whole, then merged in one storage
//! transaction (replays ignored, server sequence numbers assigned) and acknowledged only after
//! commit. Coordinators use the dashboard over web sessions.
//!
//! * [`http`]: the router, extractors and handlers (no SQL);
//! * [`services`]: what the server does apart from HTTP (accounts, reports, transfers...);
//! * [`cli`]: the `outpost-server` commands;
//! * storage is `outpost-server-store` ([`Store`]), which knows nothing of HTTP.
//!
//! Entry points made for tests: [`http::app`] builds the router without a socket and [`launch`]
//! serves it on a listener the caller bound (port 0 in tests).

pub mod cli;
pub mod connections;
pub mod http;
pub mod services;
pub mod settings;
pub mod time;

pub use outpost_server_store::Store;

use crate::settings::Settings;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Shared state of every request handler.
#[derive(Debug)]
pub struct AppState {
    pub store: Store,
    pub settings: Settings,
    /// Failed enrolment attempts per address.
    pub enrol_failures: http::limits::FailureLimiter,
    /// Failed logins per address.
    pub login_failures: http::limits::FailureLimiter,
    /// Failed logins per account name.
    pub account_failures: http::limits::FailureLimiter<String>,
    /// Password checks run a bounded number at a time.
    pub password_checks: http::limits::PasswordGate,
    /// Compiled form versions (checks of pushed answers).
    pub forms: services::forms::FormCache,
    /// Back-pressure on the sync endpoints.
    pub sync_gate: http::limits::SyncGate,
}

impl AppState {
    pub fn new(store: Store, settings: Settings) -> Self {
        let sync_gate =
            http::limits::SyncGate::new(settings.sync_concurrency, settings.sync_queue, http::limits::SYNC_QUEUE_WAIT);
        Self {
            store,
            settings,
            enrol_failures: Default::default(),
            login_failures: Default::default(),
            account_failures: Default::default(),
            password_checks: Default::default(),
            forms: Default::default(),
            sync_gate,
        }
    }
}

/// Serves the API on `listener` (within the connection limits of [`connections`]) until
/// `shutdown` completes, cleaning tombstones up meanwhile.
pub async fn launch(
    store: Store,
    settings: Settings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    match services::forms::publish_defaults(&store, time::now_ms()).await {
        Ok(published) => {
            for (form, version) in published {
                tracing::info!(form, version, "published a default form");
            }
        }
        Err(e) => tracing::error!(error = %e, "could not publish the default forms"),
    }
    let purger = tokio::spawn(services::maintenance::purge_loop(store.clone(), settings.tombstone_retention_days));
    let open_files = connections::raise_open_file_limit();
    let limits = settings.connection_limits(open_files);
    if limits.max_connections < usize::try_from(settings.connection_limit).unwrap_or(usize::MAX) {
        tracing::warn!(
            open_files,
            connection_limit = limits.max_connections,
            "the open-file limit allows fewer connections than asked for"
        );
    }
    let router = http::app(Arc::new(AppState::new(store, settings)));
    let served = connections::serve(listener, router, limits, shutdown).await;
    purger.abort();
    served
}
