//! Sync from the Sync screen: now, and the list of changes the server refused.

use super::args::Result;
use crate::state::AppState;
use outpost_device::workflows::RejectedChange;
use serde::Serialize;
use std::sync::Arc;
use tauri::State;

#[derive(ts_rs::TS, Debug, Serialize)]
pub struct SyncSummary {
    pub pushed: u64,
    pub rejected: u64,
    pub pulled: u64,
}

#[tauri::command]
pub async fn sync_now<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, Arc<AppState>>,
) -> Result<SyncSummary> {
    let report = crate::sync::run(&app, Arc::clone(&state)).await?;
    Ok(SyncSummary { pushed: report.pushed, rejected: report.rejected, pulled: report.pulled })
}

/// The changes the server refused (what, when, why), newest first, so nothing is lost unseen.
#[tauri::command(async)]
pub fn rejected_changes(state: State<'_, Arc<AppState>>) -> Result<Vec<RejectedChange>> {
    state.with_store(|store| store.rejected_changes())
}
