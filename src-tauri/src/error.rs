//! The one error type of every command: it reaches the UI as
//! `{code, message, retry_after_ms?, attempts_left?}` so the UI branches on `code` and shows
//! `message`, never matching on text.

use outpost_device::{StoreError, SyncError};
use serde::Serialize;

/// A command's failure.
#[derive(Debug, Clone, Serialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct CommandError {
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    /// For a wrong PIN: how many more wrong PINs wipe the local data (the UI says it in the
    /// worker's language).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<u32>,
}

impl CommandError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), retry_after_ms: None, attempts_left: None }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new("invalid", message)
    }

    pub fn locked() -> Self {
        Self::new("app_locked", "the app is locked: enter the PIN")
    }
}

impl From<StoreError> for CommandError {
    fn from(e: StoreError) -> Self {
        let code = match &e {
            StoreError::Invalid(_) => "invalid",
            StoreError::NotEnrolled => "not_enrolled",
            StoreError::SiteNotEnrolled(_) => "site_not_enrolled",
            StoreError::NotFound { .. } => "not_found",
            StoreError::Deleted { .. } => "deleted",
            StoreError::Merge(_) => "not_allowed",
            StoreError::BadKey => "wrong_pin",
            StoreError::DiskFull => "disk_full",
            StoreError::StorageUnwritable => "storage_unwritable",
            _ => "storage",
        };
        Self::new(code, e.to_string())
    }
}

impl From<SyncError> for CommandError {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::Offline(_) => {
                Self::new("offline", "the server cannot be reached; everything stays saved on the tablet")
            }
            SyncError::Server { .. } => Self::new("offline", e.to_string()),
            SyncError::Unauthorized { code, message } => {
                let code = if code == "device_revoked" { "device_revoked" } else { "token_expired" };
                Self::new(code, message)
            }
            SyncError::AppTooOld(message) => Self::new("app_too_old", message),
            SyncError::Store(store) => store.into(),
            other => Self::new("sync_failed", other.to_string()),
        }
    }
}
