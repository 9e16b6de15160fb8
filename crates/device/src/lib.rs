//! Outpost device engine: everything a tablet does without a screen.
//!
//! * [`store`]: the encrypted local SQLite store (SQLCipher), its migrations, and every write,
//!   which saves the record and its outbox entry in one transaction.
//! * [`queries`]: what the screens read: clients by code, a client's history, today's contacts,
//!   stock levels.
//! * [`workflows`]: what one action of a screen writes (a contact with everything in it,
//!   corrections within the edit window, tallies, surveys, stock), and the refused changes.
//! * [`forms`]: the programme's published forms: which to offer, checking answers as they are
//!   typed, saving a survey response that passes the check.
//! * [`sync`]: the HTTP sync client: enrolment, pushing the outbox, pulling pages, retrying with
//!   back-off and reporting progress.
//!
//! Tests and benchmarks simulate many devices by opening many stores in one process.

pub mod error;
pub mod forms;
pub mod queries;
pub mod store;
pub mod sync;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
pub mod workflows;

pub use error::StoreError;
/// The SQLite bindings the store uses (for matching error codes).
pub use rusqlite;
pub use store::{DeviceStore, OutboxBatch, StoreKey, WriteBatch};
pub use sync::{Progress, SyncClient, SyncError, SyncOptions, SyncPhase, SyncReport, WireBody};
