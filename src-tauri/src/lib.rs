//! Outpost tablet app (Tauri 2): thin commands over `outpost-device`, the app lock, and sync.
//!
//! * [`commands`]: every command the UI may call (listed in `command_list.rs`, granted by
//!   `capabilities/default.json`);
//! * [`lock`]: PIN → Argon2id key, back-off and wipe;
//! * [`state`]: the open store, the pending enrolment, the sync status;
//! * [`sync`]: manual and background sync with progress events;
//! * [`error`]: `CommandError`, serialised as `{code, message, retry_after_ms?}`.

pub mod commands;
pub mod error;
pub mod lock;
pub mod state;
pub mod sync;

use std::path::PathBuf;
use std::sync::Arc;
use tauri::Manager;

/// The app on `builder`: its state (local data in `data_dir`, or the platform's app data
/// directory), background sync and every command. [`run`] runs it in a window; tests run it on
/// Tauri's mock runtime.
pub fn app<R: tauri::Runtime>(builder: tauri::Builder<R>, data_dir: Option<PathBuf>) -> tauri::Builder<R> {
    builder
        .setup(move |app| {
            let dir = match data_dir {
                Some(dir) => dir,
                None => app.path().app_data_dir()?,
            };
            install(app.handle(), dir)?;
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::status,
            commands::enroll,
            commands::re_enroll,
            commands::set_pin,
            commands::unlock,
            commands::lock,
            commands::switch_worker,
            commands::build_uic,
            commands::find_clients,
            commands::near_matches,
            commands::client_history,
            commands::contacts_between,
            commands::kit_templates,
            commands::commodities,
            commands::save_contact,
            commands::update_contact,
            commands::reverse_line,
            commands::update_overdose,
            commands::save_group_tally,
            commands::offered_forms,
            commands::check_form,
            commands::save_survey,
            commands::stock_levels,
            commands::record_stock_movement,
            commands::record_stock_count,
            commands::open_referrals,
            commands::update_referral,
            commands::open_linkages,
            commands::record_linkage,
            commands::sync_now,
            commands::rejected_changes,
            commands::set_language,
            commands::set_idle_lock,
            commands::set_wipe_after,
        ])
}

/// Creates the app's data directory if missing and makes it readable by the app's user only
/// (0700): it holds the encrypted database and the lock file.
pub fn private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

/// Gives the app its state over the local data in `dir` and starts the background sync (the
/// setup of [`app`]; tests on the mock runtime, which runs no setup, call it themselves).
pub fn install<R: tauri::Runtime>(app: &tauri::AppHandle<R>, dir: PathBuf) -> std::io::Result<()> {
    private_dir(&dir)?;
    let state = Arc::new(state::AppState::new(dir)?);
    app.manage(state.clone());
    sync::spawn_background(app.clone(), state);
    Ok(())
}

/// Builds and runs the app: `main` on the desktop, the entry point Android's activity calls on a
/// tablet (docs/android.md). Android may call it again in the same process when the app is
/// reopened, so the logger is set up only once.
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let _already_set_up = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    // `OUTPOST_APP_DATA_DIR` keeps local data elsewhere (tests).
    let data_dir = std::env::var_os("OUTPOST_APP_DATA_DIR").map(PathBuf::from);
    let result = app(tauri::Builder::default(), data_dir).run(tauri::generate_context!());
    if let Err(e) = result {
        tracing::error!(error = %e, "Outpost could not start");
        std::process::exit(1);
    }
}
