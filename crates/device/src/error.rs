//! Errors of the local store, each specific enough for the app to show a clear message.

use outpost_core::schema::FieldError;
use outpost_core::{Collection, MergeError, RecordId, SiteId};
use thiserror::Error;

/// Why a local operation failed. Nothing is written when an error is returned.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("the local database could not be opened: wrong PIN or damaged file")]
    BadKey,
    #[error("the tablet's storage is full: nothing was saved; free some space and try again")]
    DiskFull,
    #[error(
        "the tablet's storage cannot be written (read-only or failing): nothing was saved; restart the tablet and try again"
    )]
    StorageUnwritable,
    #[error("local database error: {0}")]
    Sqlite(rusqlite::Error),
    #[error("local database migration failed: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("the device is not enrolled with a server yet")]
    NotEnrolled,
    #[error("this device is not enrolled for site {0}")]
    SiteNotEnrolled(SiteId),
    #[error("{collection} record {id} does not exist on this device")]
    NotFound { collection: Collection, id: RecordId },
    #[error("this contact is locked: it was recorded more than 72 hours ago")]
    Locked,
    #[error("{collection} record {id} was deleted")]
    Deleted { collection: Collection, id: RecordId },
    #[error("invalid input: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error(transparent)]
    Merge(#[from] MergeError),
    #[error("{0} are made on the server (client merges by a coordinator in the dashboard), not on a tablet")]
    ServerOnly(Collection),
    #[error("this tablet has no version {version} of form {form_id}: sync, then try again")]
    UnknownForm { form_id: String, version: u32 },
    #[error("the answers are not complete or not valid: {}", .0.iter().map(|p| format!("{} ({})", p.question, p.code)).collect::<Vec<_>>().join(", "))]
    Answers(Vec<outpost_core::forms::AnswerProblem>),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<rusqlite::Error> for StoreError {
    /// Storage failures the worker can act on get their own variant; the rest stay SQLite's.
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => StoreError::DiskFull,
            Some(ErrorCode::ReadOnly | ErrorCode::SystemIoFailure | ErrorCode::CannotOpen) => {
                tracing::error!(error = %e, "the local database cannot be written");
                StoreError::StorageUnwritable
            }
            _ => StoreError::Sqlite(e),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}
