//! Sync from the app: on demand (`sync_now`) and automatically in the background, with
//! progress events (`sync-progress`) and the status bar kept current. A revoked device wipes
//! its local data, as the coordinator intended.

use crate::error::CommandError;
use crate::state::{AppState, SyncState};
use outpost_device::{SyncClient, SyncOptions, SyncReport};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tauri::Emitter;

/// Where a sync reports its progress and status: the app's event bus, or a test's recorder.
pub type Events<'a> = &'a (dyn Fn(&str, serde_json::Value) + Send + Sync);

/// The `sync-progress` event's payload.
#[derive(Clone, Debug, serde::Serialize, ts_rs::TS)]
pub struct SyncProgress {
    /// `push` or `pull`.
    #[ts(type = "'push' | 'pull'")]
    pub phase: &'static str,
    pub done: u64,
    pub total: u64,
}

/// Runs one sync; one at a time.
pub async fn run<R: tauri::Runtime>(
    app: &tauri::AppHandle<R>,
    state: Arc<AppState>,
) -> Result<SyncReport, CommandError> {
    let emitter = app.clone();
    let events = move |name: &str, payload: serde_json::Value| {
        let _ = emitter.emit(name, payload);
    };
    run_with(&events, state).await
}

/// [`run`] with its events sent to `events`.
pub async fn run_with(events: Events<'_>, state: Arc<AppState>) -> Result<SyncReport, CommandError> {
    let _gate = state.sync_gate.lock().await;
    let mut closed = state.closed.subscribe();
    let store = state.store()?;
    let url = {
        let guard = store.lock().unwrap_or_else(|p| p.into_inner());
        guard
            .identity()
            .map(|i| i.server_url.clone())
            .ok_or_else(|| CommandError::new("not_enrolled", "not enrolled"))?
    };
    set_status(events, &state, SyncState::Syncing, None);
    let client = {
        let mut kept = state.sync_client.lock().unwrap_or_else(|p| p.into_inner());
        match kept.as_ref() {
            Some((kept_url, client)) if *kept_url == url => client.clone(),
            _ => {
                let client = SyncClient::new(&url)?;
                *kept = Some((url.clone(), client.clone()));
                client
            }
        }
    };
    let options = SyncOptions { max_attempts: 3, ..SyncOptions::default() };
    let mut progress = move |p: outpost_device::Progress| {
        let phase = match p.phase {
            outpost_device::SyncPhase::Push => "push",
            outpost_device::SyncPhase::Pull => "pull",
        };
        events("sync-progress", json!(SyncProgress { phase, done: p.done, total: p.total }));
    };
    // Locking the app stops the sync where it is (every step of a sync is safe to cut and
    // repeat), so the store and its key are dropped with the lock, not when the sync ends.
    let result = tokio::select! {
        result = client.sync(&store, &options, &mut progress) => result,
        _ = closed.changed() => {
            drop(store);
            set_status(events, &state, SyncState::Idle, None);
            return Err(CommandError::locked());
        }
    };
    drop(store);
    match result {
        Ok(report) => {
            set_status(events, &state, SyncState::Idle, None);
            Ok(report)
        }
        Err(e) => {
            let error = CommandError::from(e);
            if error.code == "device_revoked" {
                let mut inner = state.guard();
                state.wipe(&mut inner)?;
            }
            let kind = if error.code == "offline" { SyncState::Offline } else { SyncState::Error };
            set_status(events, &state, kind, Some(error.clone()));
            Err(error)
        }
    }
}

fn set_status(events: Events<'_>, state: &AppState, kind: SyncState, error: Option<CommandError>) {
    {
        let mut inner = state.guard();
        inner.sync.state = kind;
        inner.sync.error = error.clone();
    }
    events("sync-status", json!({"state": kind, "error": error}));
}

/// Starts one sync now without waiting for it (after enrolment, so the catalogue arrives at
/// once); a failure is left to the background loop to retry.
pub fn spawn_once<R: tauri::Runtime>(app: tauri::AppHandle<R>, state: Arc<AppState>) {
    tauri::async_runtime::spawn(async move {
        if let Err(e) = run(&app, state).await {
            tracing::info!(error = %e, "sync did not complete; it will be retried");
        }
    });
}

/// Syncs in the background while the app is unlocked: every interval when things go well
/// (`OUTPOST_AUTO_SYNC_SECS`, default 120), backing off up to 15 minutes while the server
/// cannot be reached, so the tablet catches up by itself when a connection returns.
pub fn spawn_background<R: tauri::Runtime>(app: tauri::AppHandle<R>, state: Arc<AppState>) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use outpost_core::uic::UicScheme;
    use outpost_core::wire::{EnrollResponse, SiteRef};
    use outpost_core::{OrgId, SiteId};
    use outpost_device::{DeviceStore, StoreKey};
    use std::sync::Mutex;

    /// A server that accepts connections and never answers: a sync against it hangs.
    async fn silent_server() -> (String, tokio::sync::mpsc::Receiver<()>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let (tx, rx) = tokio::sync::mpsc::channel(8);
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
                let _ = tx.send(()).await;
            }
        });
        (url, rx)
    }

    #[tokio::test]
    async fn locking_stops_a_running_sync_and_drops_the_store_at_once() {
        let (url, mut connected) = silent_server().await;
        let dir = tempfile::tempdir().expect("dir");
        let state = Arc::new(AppState::new(dir.path().to_path_buf()).expect("state"));
        let mut store = DeviceStore::open(&state.db_path(), &StoreKey::from_bytes([7; 32])).expect("store");
        let site: SiteId = "01936a1e-0000-7000-8000-000000000001".parse().expect("site id");
        let enrolled = EnrollResponse {
            device_id: "01936a1e-0000-7000-8000-000000000002".parse().expect("device id"),
            token: "token".into(),
            org_id: OrgId::nil(),
            org_name: "Org".into(),
            sites: vec![SiteRef { id: site, name: "Site".into() }],
            uic_scheme: UicScheme::central_asia(),
            server_time_ms: 0,
        };
        store.save_enrollment(&url, &enrolled).expect("enrol");
        let store = Arc::new(Mutex::new(store));
        let watch = Arc::downgrade(&store);
        state.guard().store = Some(store);

        let recorded = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&recorded);
        let events = move |name: &str, payload: serde_json::Value| {
            sink.lock().unwrap_or_else(|p| p.into_inner()).push((name.to_string(), payload));
        };
        let sync = tokio::spawn({
            let state = Arc::clone(&state);
            async move { run_with(&events, state).await }
        });
        connected.recv().await.expect("the sync reaches the server");
        assert!(watch.upgrade().is_some(), "the sync holds the store while it runs");

        state.close_store(&mut state.guard());
        let outcome = tokio::time::timeout(Duration::from_secs(5), sync).await.expect("the sync stops at once");
        let error = outcome.expect("no panic").expect_err("a locked sync does not complete");
        assert_eq!(error.code, "app_locked");
        assert!(watch.upgrade().is_none(), "no copy of the open store (and its key) survives the lock");
        let last = recorded.lock().unwrap_or_else(|p| p.into_inner()).last().cloned();
        assert_eq!(
            last.map(|(name, payload)| (name, payload["state"].clone())),
            Some(("sync-status".into(), json!("idle")))
        );
    }
}
