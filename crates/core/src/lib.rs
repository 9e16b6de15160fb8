//! Outpost domain core.
//!
//! Pure domain logic shared by the device engine and the sync server: typed records and their
//! validation, the unique identifier code (UIC), the hybrid logical clock, the per-field
//! last-writer-wins merge, which client records are one person, the versioned wire format, and forms (XLSForm definitions, their
//! expression language and the check of answers). This crate performs no IO: time and
//! randomness are passed in by the caller (an invariant checked by `tests/no_io.rs`).

pub mod catalogue;
pub mod forms;
pub mod hlc;
pub mod ids;
pub mod merge;
pub mod people;
pub mod records;
pub mod rules;
pub mod schema;
pub mod uic;
pub mod wire;

pub use hlc::{Hlc, HlcClock};
pub use ids::{DeviceId, OrgId, RecordId, SiteId};
pub use merge::{Change, ChangeKind, ConflictEntry, FieldState, MergeError, Merged, RecordState};
pub use schema::{Collection, FieldError, Mutability};
