//! The tablet's settings, kept in `lock.json` (readable before unlocking): language, idle lock,
//! and how many wrong PINs wipe the local data.

use super::args::Result;
use crate::error::CommandError;
use crate::lock;
use crate::state::AppState;
use std::sync::Arc;
use tauri::State;

/// Minutes of inactivity before the app locks itself.
pub const IDLE_LOCK_MINUTES: std::ops::RangeInclusive<u32> = 1..=60;

/// The languages of the app.
/// English, Russian, Ukrainian, Lithuanian, Serbian (Latin script), Albanian, Georgian, Romanian.
pub const LANGUAGES: &[&str] = &["en", "ru", "uk", "lt", "sr-Latn", "sq", "ka", "ro"];

#[tauri::command(async)]
pub fn set_language(state: State<'_, Arc<AppState>>, language: String) -> Result<()> {
    if !LANGUAGES.contains(&language.as_str()) {
        return Err(CommandError::invalid(format!("languages: {}", LANGUAGES.join(", "))));
    }
    state.change_lock(|lock| {
        lock.language = language.clone();
        Ok(())
    })
}

/// Sets how many wrong PINs in a row wipe the local data (3 to 20). Only while unlocked: a
/// locked tablet must not raise its own limit.
#[tauri::command(async)]
pub fn set_wipe_after(state: State<'_, Arc<AppState>>, attempts: u32) -> Result<()> {
    let attempts = lock::check_max_attempts(attempts).map_err(CommandError::invalid)?;
    if state.guard().store.is_none() {
        return Err(CommandError::locked());
    }
    state.change_lock(|lock| {
        lock.max_attempts = attempts;
        Ok(())
    })
}

#[tauri::command(async)]
pub fn set_idle_lock(state: State<'_, Arc<AppState>>, minutes: u32) -> Result<()> {
    if !IDLE_LOCK_MINUTES.contains(&minutes) {
        return Err(CommandError::invalid("the idle lock is 1 to 60 minutes"));
    }
    state.change_lock(|lock| {
        lock.idle_lock_minutes = minutes;
        Ok(())
    })
}
