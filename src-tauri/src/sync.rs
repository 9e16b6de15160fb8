//! Sync from the app: on demand (`sync_now`) and automatically in the background, with
//! progress events (`sync-progress`) and the status bar kept current. A revoked device wipes
//! its local data, as the coordinator intended.

use crate::error::CommandError;
use crate::state::AppState;
use outpost_device::{SyncClient, SyncOptions, SyncReport};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tauri::Emitter;

/// Runs one sync; one at a time.
pub async fn run(app: &tauri::AppHandle, state: Arc<AppState>) -> Result<SyncReport, CommandError> {
    let _gate = state.sync_gate.lock().await;
    let store = state.store()?;
    let url = {
        let guard = store.lock().unwrap_or_else(|p| p.into_inner());
        guard
            .identity()
            .map(|i| i.server_url.clone())
            .ok_or_else(|| CommandError::new("not_enrolled", "not enrolled"))?
    };
    set_status(app, &state, "syncing", None);
    let client = SyncClient::new(&url)?;
    let options = SyncOptions { max_attempts: 3, ..SyncOptions::default() };
    let emitter = app.clone();
    let mut progress = move |p: outpost_device::Progress| {
        let phase = match p.phase {
            outpost_device::SyncPhase::Push => "push",
            outpost_device::SyncPhase::Pull => "pull",
        };
        let _ = emitter.emit("sync-progress", json!({"phase": phase, "done": p.done, "total": p.total}));
    };
    let result = client.sync(&store, &options, &mut progress).await;
    drop(store);
    match result {
        Ok(report) => {
            set_status(app, &state, "idle", None);
            Ok(report)
        }
        Err(e) => {
            let error = CommandError::from(e);
            if error.code == "device_revoked" {
                let mut inner = state.guard();
                state.wipe(&mut inner)?;
            }
            let kind = if error.code == "offline" { "offline" } else { "error" };
            set_status(app, &state, kind, Some(error.clone()));
            Err(error)
        }
    }
}

fn set_status(app: &tauri::AppHandle, state: &AppState, kind: &'static str, error: Option<CommandError>) {
    {
        let mut inner = state.guard();
        inner.sync.state = kind;
        inner.sync.error = error.clone();
    }
    let _ = app.emit("sync-status", json!({"state": kind, "error": error}));
}

/// Starts one sync now without waiting for it (after enrolment, so the catalogue arrives at
/// once); a failure is left to the background loop to retry.
pub fn spawn_once(app: tauri::AppHandle, state: Arc<AppState>) {
    tauri::async_runtime::spawn(async move {
        if let Err(e) = run(&app, state).await {
            tracing::info!(error = %e, "sync did not complete; it will be retried");
        }
    });
}

/// Syncs in the background while the app is unlocked: every interval when things go well
/// (`OUTPOST_AUTO_SYNC_SECS`, default 120), backing off up to 15 minutes while the server
/// cannot be reached, so the tablet catches up by itself when a connection returns.
pub fn spawn_background(app: tauri::AppHandle, state: Arc<AppState>) {
    let interval = std::env::var("OUTPOST_AUTO_SYNC_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(120);
    tauri::async_runtime::spawn(async move {
        let mut delay = Duration::from_secs(interval);
        loop {
            tokio::time::sleep(delay).await;
            if state.store().is_err() {
                delay = Duration::from_secs(interval);
                continue;
            }
            delay = match run(&app, state.clone()).await {
                Ok(_) => Duration::from_secs(interval),
                Err(e) if e.code == "offline" => (delay * 2).clamp(Duration::from_secs(30), Duration::from_secs(900)),
                Err(_) => Duration::from_secs(interval.max(300)),
            };
        }
    });
}
