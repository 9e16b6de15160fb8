//! The app's state: the lock file, the open (unlocked) store, the pending enrolment, and the
//! sync status shown on every screen.

use crate::error::CommandError;
use crate::lock::{self, LockFile};
use outpost_core::wire::EnrollResponse;
use outpost_device::{DeviceStore, StoreError};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Where sync stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    #[default]
    Idle,
    Syncing,
    /// The server cannot be reached (everything stays on the tablet).
    Offline,
    Error,
}

/// Where sync stands, for the status bar.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SyncStatus {
    pub state: SyncState,
    pub error: Option<CommandError>,
}

/// An enrolment waiting for the PIN that will encrypt the database it is saved in.
#[derive(Clone, Debug)]
pub struct PendingEnrollment {
    pub url: String,
    pub enrolled: EnrollResponse,
    pub device_name: String,
}

/// Shared by every command.
pub struct AppState {
    pub dir: PathBuf,
    pub inner: Mutex<Inner>,
    /// One sync at a time (manual or automatic).
    pub sync_gate: tokio::sync::Mutex<()>,
    /// One PIN check (or PIN setting) at a time, held across the key derivation: the state
    /// itself stays free, so the window keeps answering.
    pub pin_gate: tokio::sync::Mutex<()>,
    /// Bumped whenever the store is closed (lock, wipe): a running sync stops at once, so no
    /// copy of the open store, and of its key, outlives the lock.
    pub closed: tokio::sync::watch::Sender<u64>,
    /// The sync client of the server last synced with, kept from one sync to the next: it
    /// remembers that the server decodes compressed bodies (so even a sync's first push goes
    /// compressed) and reuses a connection still open.
    pub sync_client: Mutex<Option<(String, outpost_device::SyncClient)>>,
}

/// Mutable state behind the lock.
pub struct Inner {
    pub lock: LockFile,
    /// The open database while unlocked; dropping it forgets the key.
    pub store: Option<Arc<Mutex<DeviceStore>>>,
    /// An enrolment received from the server, saved into the database once a PIN is set.
    pub pending_enrollment: Option<PendingEnrollment>,
    pub sync: SyncStatus,
    /// Compiled forms by id and version, while the store is open (a version never changes).
    pub forms: std::collections::HashMap<(String, u32), Arc<outpost_core::forms::CompiledForm>>,
}

impl AppState {
    /// Loads the lock file from `dir` (created on first start).
    pub fn new(dir: PathBuf) -> std::io::Result<Self> {
        let lock = LockFile::load(&dir)?;
        Ok(Self {
            dir,
            inner: Mutex::new(Inner {
                lock,
                store: None,
                pending_enrollment: None,
                sync: SyncStatus { state: SyncState::Idle, error: None },
                forms: Default::default(),
            }),
            sync_gate: tokio::sync::Mutex::new(()),
            pin_gate: tokio::sync::Mutex::new(()),
            closed: tokio::sync::watch::Sender::new(0),
            sync_client: Mutex::new(None),
        })
    }

    /// The state, even if a command panicked while holding it.
    pub fn guard(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The open store, or `locked`.
    pub fn store(&self) -> Result<Arc<Mutex<DeviceStore>>, CommandError> {
        self.guard().store.clone().ok_or_else(CommandError::locked)
    }

    /// Runs `f` on the open store.
    pub fn with_store<T>(&self, f: impl FnOnce(&mut DeviceStore) -> Result<T, StoreError>) -> Result<T, CommandError> {
        let store = self.store()?;
        let mut guard = store.lock().unwrap_or_else(|p| p.into_inner());
        Ok(f(&mut guard)?)
    }

    /// Saves the lock file.
    pub fn save_lock(&self, lock: &LockFile) -> Result<(), CommandError> {
        lock.save(&self.dir).map_err(|e| CommandError::new("storage", format!("cannot save settings: {e}")))
    }

    /// Changes the lock file: saved first, then kept in memory (a failed save changes nothing).
    pub fn change_lock(
        &self,
        change: impl FnOnce(&mut LockFile) -> Result<(), CommandError>,
    ) -> Result<(), CommandError> {
        let mut inner = self.guard();
        let mut lock_file = inner.lock.clone();
        change(&mut lock_file)?;
        self.save_lock(&lock_file)?;
        inner.lock = lock_file;
        Ok(())
    }

    /// Closes the open store (locks the app) and stops a running sync, which holds the other
    /// reference to it.
    pub fn close_store(&self, inner: &mut Inner) {
        inner.store = None;
        inner.forms.clear();
        self.closed.send_modify(|generation| *generation += 1);
    }

    /// Wipes the local data: the database is deleted and the app returns to enrolment.
    pub fn wipe(&self, inner: &mut Inner) -> Result<(), CommandError> {
        self.close_store(inner);
        inner.pending_enrollment = None;
        lock::wipe(&self.dir).map_err(|e| CommandError::new("storage", format!("cannot delete local data: {e}")))?;
        let language = inner.lock.language.clone();
        inner.lock = LockFile { wiped: true, language, ..LockFile::default() };
        self.save_lock(&inner.lock)
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.join("device.db")
    }
}
