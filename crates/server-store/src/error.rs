//! Storage failures, typed so that callers never read an error's text to decide what happened.

use outpost_core::wire::ErrorDetail;
use thiserror::Error;

/// Why a storage operation failed. `Batch`, `CodeInvalid`, `NotFound`, `Conflict`, `Unique` and
/// `NotEmpty` are about the request; the rest are the server's own trouble.
#[derive(Debug, Error)]
pub enum DbError {
    /// A pushed batch was refused; nothing of it was applied. One detail per refused operation.
    #[error("batch refused")]
    Batch(Vec<ErrorDetail>),
    #[error("enrolment code invalid")]
    CodeInvalid,
    #[error("{0}")]
    NotFound(String),
    /// The request does not fit what is stored (already resolved, already exists...).
    #[error("{0}")]
    Conflict(String),
    /// A unique constraint refused a row (the database's own words).
    #[error("a row with the same key already exists: {0}")]
    Unique(String),
    #[error("the target database already holds data; import only into an empty database")]
    NotEmpty,
    #[error("database busy")]
    Busy,
    #[error("disk full")]
    Full,
    #[error("the database cannot be written: {0}")]
    Unwritable(String),
    /// The schema could not be brought up to date (or a shipped migration was changed).
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("database error: {0}")]
    Backend(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The database was written with another server key (its fingerprint is not this key's).
    #[error(
        "this database was written with another server key (fingerprint {stored}, this key's is {given}): \
         restore that key's file (server.key in the data directory) or set OUTPOST_SERVER_KEY to it"
    )]
    WrongKey { stored: String, given: String },
    /// A sealed value cannot be opened with the server key.
    #[error("{0}")]
    Key(#[from] crate::keys::KeyError),
}

impl From<serde_json::Error> for DbError {
    fn from(e: serde_json::Error) -> Self {
        DbError::Corrupt(e.to_string())
    }
}
