//! The one error type of every command: it reaches the UI as
//! `{code, message, retry_after_ms?, attempts_left?}` so the UI branches on `code` and shows
//! `message`, never matching on text.

use outpost_device::{StoreError, SyncError};
use serde::Serialize;

/// A command's failure.
#[derive(ts_rs::TS, Debug, Clone, Serialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct CommandError {
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub retry_after_ms: Option<u64>,
    /// For a wrong PIN: how many more wrong PINs wipe the local data (the UI says it in the
    /// worker's language).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
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
    /// Every store error the worker can act on has its own code; the UI branches on it.
    fn from(e: StoreError) -> Self {
        let code = match &e {
            StoreError::Invalid(_) => "invalid",
            StoreError::UnknownForm { .. } => "unknown_form",
            StoreError::Answers(_) => "invalid_answers",
            StoreError::NotEnrolled => "not_enrolled",
            StoreError::SiteNotEnrolled(_) => "site_not_enrolled",
            StoreError::NotFound { .. } => "not_found",
            StoreError::Deleted { .. } => "deleted",
            StoreError::Merge(_) | StoreError::ServerOnly(_) => "not_allowed",
            StoreError::BadKey => "wrong_pin",
            StoreError::DiskFull => "disk_full",
            StoreError::StorageUnwritable => "storage_unwritable",
            StoreError::Locked => "locked",
            // Listed one by one so a new variant cannot fall silently into "storage".
            StoreError::Sqlite(_) | StoreError::Migration(_) | StoreError::Corrupt(_) => "storage",
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The UI branches on these codes: a contact past its edit window must say `locked`
    /// (History shows it read-only), not the generic `storage` failure.
    #[test]
    fn store_errors_the_worker_can_act_on_keep_their_code() {
        assert_eq!(CommandError::from(StoreError::Locked).code, "locked");
        assert_eq!(CommandError::from(StoreError::DiskFull).code, "disk_full");
        assert_eq!(CommandError::from(StoreError::NotEnrolled).code, "not_enrolled");
        assert_eq!(CommandError::from(StoreError::Corrupt("x".into())).code, "storage");
    }
}
