//! Who and what the tablet is: its status, enrolment with a server, the PIN (set, unlock, lock)
//! and the worker using it.
//!
//! Key derivation (Argon2id, 64 MiB) runs on a blocking thread without holding the app's state
//! lock, so the window keeps answering while a PIN is checked; PIN checks take turns.

use super::args::{Result, now_ms};
use crate::error::CommandError;
use crate::lock::{self, WrongPin};
use crate::state::{AppState, PendingEnrollment};
use outpost_core::SiteId;
use outpost_core::uic::{UicComponent, UicScheme};
use outpost_device::{DeviceStore, StoreError, SyncClient};
use serde::Serialize;
use std::sync::{Arc, Mutex};
use tauri::State;

/// A site of this device.
#[derive(ts_rs::TS, Clone, Debug, Serialize)]
pub struct SiteInfo {
    pub id: SiteId,
    pub name: String,
}

/// What every screen shows in its status bar.
#[derive(ts_rs::TS, Clone, Debug, Serialize)]
pub struct Status {
    pub enrolled: bool,
    pub locked: bool,
    pub wiped: bool,
    pub worker: Option<String>,
    pub device_name: Option<String>,
    pub org_name: Option<String>,
    pub site: Option<SiteInfo>,
    pub pending: u64,
    pub rejected: u64,
    pub last_sync_ms: Option<u64>,
    pub sync_state: crate::state::SyncState,
    pub sync_error: Option<CommandError>,
    pub language: String,
    pub idle_lock_minutes: u32,
    /// Wrong PINs in a row before the local data is wiped.
    pub wipe_after: u32,
    pub pin_set: bool,
    /// Workers who used this tablet, the current one first.
    pub known_workers: Vec<String>,
    /// The questions of the organisation's client code scheme, in order (empty until enrolled).
    pub uic_questions: Vec<UicQuestion>,
}

/// One question of the client code scheme, as the code builder asks it.
#[derive(ts_rs::TS, Clone, Debug, PartialEq, Serialize)]
pub struct UicQuestion {
    /// The answer's key for `build_uic` (`mother_first_name`, `sex`, `birth_year`...).
    pub question: String,
    /// How it is answered: `letters` (a name or word), `sex` (man, woman, other),
    /// `birth_year` (four digits) or `birth_day` (1–31).
    #[ts(type = "'letters' | 'sex' | 'birth_year' | 'birth_day'")]
    pub kind: &'static str,
}

/// The questions a scheme asks, in the order of its components.
pub fn uic_questions(scheme: &UicScheme) -> Vec<UicQuestion> {
    scheme
        .components
        .iter()
        .map(|c| match c {
            UicComponent::Letters { question, .. } => UicQuestion { question: question.clone(), kind: "letters" },
            UicComponent::SexDigit { question } => UicQuestion { question: question.clone(), kind: "sex" },
            UicComponent::BirthYear { question, .. } => UicQuestion { question: question.clone(), kind: "birth_year" },
            UicComponent::BirthDay { question } => UicQuestion { question: question.clone(), kind: "birth_day" },
        })
        .collect()
}

#[tauri::command(async)]
pub fn status(state: State<'_, Arc<AppState>>) -> Result<Status> {
    let inner = state.guard();
    let pending = inner.pending_enrollment.as_ref();
    let mut status = Status {
        enrolled: inner.lock.salt.is_some() || pending.is_some(),
        locked: inner.store.is_none(),
        wiped: inner.lock.wiped,
        worker: inner.lock.current_worker.clone(),
        device_name: pending.map(|p| p.device_name.clone()),
        org_name: pending.map(|p| p.enrolled.org_name.clone()),
        site: pending.and_then(|p| p.enrolled.sites.first()).map(|s| SiteInfo { id: s.id, name: s.name.clone() }),
        pending: 0,
        rejected: 0,
        last_sync_ms: None,
        sync_state: inner.sync.state,
        sync_error: inner.sync.error.clone(),
        language: inner.lock.language.clone(),
        idle_lock_minutes: inner.lock.idle_lock_minutes,
        wipe_after: inner.lock.max_attempts,
        pin_set: inner.lock.salt.is_some(),
        known_workers: inner.lock.known_workers(),
        uic_questions: pending.map_or_else(Vec::new, |p| uic_questions(&p.enrolled.uic_scheme)),
    };
    let store = inner.store.clone();
    drop(inner);
    if let Some(store) = store {
        let store = store.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(identity) = store.identity() {
            status.org_name = Some(identity.org_name.clone());
            status.site = identity.sites.first().map(|s| SiteInfo { id: s.id, name: s.name.clone() });
            status.uic_questions = uic_questions(&identity.scheme);
        }
        status.device_name = store.device_name()?;
        status.pending = store.pending_count()?;
        status.rejected = store.rejected_ops()?.len() as u64;
        status.last_sync_ms = store.last_sync_ms()?;
    }
    Ok(status)
}

#[tauri::command]
pub async fn enroll(
    state: State<'_, Arc<AppState>>,
    server_url: String,
    code: String,
    device_name: String,
) -> Result<()> {
    let url = outpost_device::sync::server_url(&server_url).map_err(|e| CommandError::invalid(e.to_string()))?;
    let name = device_name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(CommandError::invalid("give the tablet a name of 1 to 100 characters"));
    }
    if state.guard().lock.salt.is_some() {
        return Err(CommandError::new("already_enrolled", "this tablet is already enrolled"));
    }
    // Nothing is saved yet: the encrypted store is created with the PIN (`set_pin`).
    let enrolled = SyncClient::new(&url)?.request_enrollment(&code, name).await.map_err(enrollment_error)?;
    state.guard().pending_enrollment = Some(PendingEnrollment { url, enrolled, device_name: name.to_string() });
    Ok(())
}

/// An enrolment refused by the server: a bad code, or a request it would not take.
fn enrollment_error(e: outpost_device::SyncError) -> CommandError {
    match e {
        outpost_device::SyncError::Unauthorized { message, .. } => {
            CommandError::new("enrollment_code_invalid", message)
        }
        outpost_device::SyncError::Rejected { message, .. } => CommandError::new("invalid", message),
        other => other.into(),
    }
}

/// Connects an enrolled tablet again with a new one-time code (its token expired or was lost),
/// keeping every record and every change not yet sent.
#[tauri::command]
pub async fn re_enroll<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, Arc<AppState>>,
    code: String,
) -> Result<()> {
    let store = state.store()?;
    let (url, name) = {
        let guard = store.lock().unwrap_or_else(|p| p.into_inner());
        let url = guard
            .identity()
            .map(|i| i.server_url.clone())
            .ok_or_else(|| CommandError::new("not_enrolled", "not enrolled"))?;
        (url, guard.device_name()?.unwrap_or_else(|| "Outpost tablet".into()))
    };
    let enrolled = SyncClient::new(&url)?.request_enrollment(&code, &name).await.map_err(enrollment_error)?;
    store.lock().unwrap_or_else(|p| p.into_inner()).re_enroll(&url, &enrolled)?;
    drop(store);
    {
        let mut inner = state.guard();
        inner.sync.error = None;
        // Form versions are named per organisation: a new enrolment may be another's.
        inner.forms.clear();
    }
    crate::sync::spawn_once(app, Arc::clone(&state));
    Ok(())
}

/// Runs key derivation and the store's opening on a blocking thread.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(|e| CommandError::new("storage", e.to_string()))?
}

#[tauri::command]
pub async fn set_pin<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, Arc<AppState>>,
    pin: String,
    worker: String,
) -> Result<()> {
    lock::check_new_pin(&pin).map_err(CommandError::invalid)?;
    let worker = lock::check_worker(&worker).map_err(CommandError::invalid)?;
    let _turn = state.pin_gate.lock().await;
    let pending = {
        let inner = state.guard();
        if inner.lock.salt.is_some() {
            return Err(CommandError::new("already_enrolled", "a PIN is already set"));
        }
        inner
            .pending_enrollment
            .clone()
            .ok_or_else(|| CommandError::new("not_enrolled", "enrol the tablet with the server first"))?
    };
    let salt = lock::new_salt();
    let kdf = lock::KdfParams::CURRENT;
    let (dir, db_path, key_salt) = (state.dir.clone(), state.db_path(), salt.clone());
    let store = blocking(move || {
        let key = lock::derive_key(&pin, &key_salt, kdf).map_err(|e| CommandError::new("storage", e))?;
        lock::wipe(&dir).map_err(|e| CommandError::new("storage", e.to_string()))?;
        std::fs::create_dir_all(&dir).map_err(|e| CommandError::new("storage", e.to_string()))?;
        let mut store = DeviceStore::open(&db_path, &key)?;
        store.save_enrollment(&pending.url, &pending.enrolled)?;
        store.set_device_name(&pending.device_name)?;
        Ok(store)
    })
    .await?;
    {
        let mut inner = state.guard();
        let mut lock_file = inner.lock.clone();
        lock_file.new_pin(salt, kdf, &worker);
        state.save_lock(&lock_file)?;
        inner.lock = lock_file;
        inner.pending_enrollment = None;
        inner.store = Some(Arc::new(Mutex::new(store)));
    }
    // The first sync brings the site's reference data (catalogue, kits) right away.
    crate::sync::spawn_once(app, Arc::clone(&state));
    Ok(())
}

#[tauri::command]
pub async fn unlock(state: State<'_, Arc<AppState>>, pin: String) -> Result<()> {
    // One PIN at a time: a second attempt waits for the first's outcome (and its back-off).
    let _turn = state.pin_gate.lock().await;
    let (salt, kdf) = {
        let mut inner = state.guard();
        if inner.store.is_some() {
            return Ok(());
        }
        let salt =
            inner.lock.salt.clone().ok_or_else(|| CommandError::new("not_enrolled", "set up the tablet first"))?;
        if let Err(wait) = inner.lock.may_try(now_ms()) {
            // The PIN is not checked at all, so this is not a wrong PIN: the UI shows the wait.
            return Err(CommandError {
                code: "pin_wait",
                message: format!("too many wrong PINs: wait {} seconds", wait.div_ceil(1000)),
                retry_after_ms: Some(wait),
                attempts_left: None,
            });
        }
        // Counted before the check and saved: switching the tablet off mid-check keeps the count.
        let mut counted = inner.lock.clone();
        counted.begin_check();
        state.save_lock(&counted)?;
        inner.lock = counted;
        (salt, inner.lock.kdf)
    };
    let db_path = state.db_path();
    let opened = if lock::check_pin(&pin).is_ok() {
        blocking(move || {
            let key = lock::derive_key(&pin, &salt, kdf).map_err(|e| CommandError::new("storage", e))?;
            match DeviceStore::open(&db_path, &key) {
                Ok(store) => Ok(Some(store)),
                Err(StoreError::BadKey) => Ok(None),
                Err(other) => Err(other.into()),
            }
        })
        .await?
    } else {
        None
    };
    let mut inner = state.guard();
    if let Some(store) = opened {
        inner.lock.right_pin();
        let lock_file = inner.lock.clone();
        state.save_lock(&lock_file)?;
        inner.store = Some(Arc::new(Mutex::new(store)));
        return Ok(());
    }
    match inner.lock.wrong_pin(now_ms()) {
        WrongPin::Wipe => {
            state.wipe(&mut inner)?;
            Err(CommandError::new("wiped", "too many wrong PINs: the local data was wiped; enrol the tablet again"))
        }
        WrongPin::Retry { left, wait_ms } => {
            let lock_file = inner.lock.clone();
            state.save_lock(&lock_file)?;
            Err(CommandError {
                code: "wrong_pin",
                message: format!("wrong PIN: {left} attempts left before the local data is wiped"),
                retry_after_ms: (wait_ms > 0).then_some(wait_ms),
                attempts_left: Some(left),
            })
        }
    }
}

#[tauri::command(async)]
pub fn lock(state: State<'_, Arc<AppState>>) -> Result<()> {
    let mut inner = state.guard();
    state.close_store(&mut inner);
    Ok(())
}

#[tauri::command(async)]
pub fn switch_worker(state: State<'_, Arc<AppState>>, worker: String) -> Result<()> {
    let worker = lock::check_worker(&worker).map_err(CommandError::invalid)?;
    state.change_lock(|lock| {
        lock.worker(&worker);
        lock.current_worker = Some(worker.clone());
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_builder_asks_the_questions_of_the_organisations_scheme() {
        let asked = |scheme: &UicScheme| {
            uic_questions(scheme).into_iter().map(|q| format!("{}:{}", q.question, q.kind)).collect::<Vec<_>>()
        };
        assert_eq!(
            asked(&UicScheme::central_asia()),
            ["mother_first_name:letters", "father_first_name:letters", "sex:sex", "birth_year:birth_year"]
        );
        assert_eq!(
            asked(&UicScheme::surname_day_year()),
            ["surname:letters", "sex:sex", "birth_day:birth_day", "birth_year:birth_year"]
        );
        assert_eq!(
            asked(&UicScheme::gender_letters_year()),
            ["sex:sex", "mother_first_name:letters", "birth_place:letters", "birth_year:birth_year"]
        );
    }
}
