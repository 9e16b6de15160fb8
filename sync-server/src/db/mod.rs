//! Storage behind the API. One trait, because two implementations are planned: SQLite (the
//! embedded default, [`sqlite::SqliteStorage`]) and PostgreSQL. Handlers are generic over it.

pub mod sqlite;

use outpost_core::merge::RecordState;
use outpost_core::uic::UicScheme;
use outpost_core::wire::{ErrorDetail, Op, SiteRef};
use outpost_core::{DeviceId, OrgId, RecordId, SiteId};
use std::future::Future;
use thiserror::Error;

/// Storage failures. `Batch` is the client's fault; the rest are the server's.
#[derive(Debug, Error)]
pub enum DbError {
    #[error("batch refused")]
    Batch(Vec<ErrorDetail>),
    #[error("enrolment code invalid")]
    CodeInvalid,
    #[error("{0}")]
    NotFound(String),
    #[error("database busy")]
    Busy,
    #[error("disk full")]
    Full,
    #[error("database error: {0}")]
    Backend(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// A device, as known after its token was checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceAuth {
    pub device_id: DeviceId,
    pub org_id: OrgId,
    pub sites: Vec<SiteId>,
    /// The organisation's client code scheme, to validate codes in pushed records.
    pub uic_scheme: UicScheme,
}

/// The result of looking a token up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenCheck {
    Valid(DeviceAuth),
    Unknown,
    Expired,
    Revoked,
}

/// What enrolment hands back.
#[derive(Clone, Debug)]
pub struct Enrolled {
    pub device_id: DeviceId,
    pub org_id: OrgId,
    pub org_name: String,
    pub sites: Vec<SiteRef>,
    pub uic_scheme: UicScheme,
}

/// A device about to be enrolled.
#[derive(Clone, Debug)]
pub struct NewDevice {
    pub name: String,
    pub app_version: String,
    pub token_hash: String,
    pub token_expires_ms: u64,
}

/// A record of a pull page, its state kept as the stored JSON text so the server can send it
/// without decoding and re-encoding it.
#[derive(Clone, Debug)]
pub struct RawRecord {
    pub seq: u64,
    pub collection: String,
    pub record_id: RecordId,
    pub site_id: Option<SiteId>,
    /// A `RecordState` as JSON.
    pub state_json: String,
}

/// A page of changes.
#[derive(Clone, Debug)]
pub struct Page {
    pub records: Vec<RawRecord>,
    /// Zero when no more records follow; otherwise an upper bound of how many do.
    pub remaining: u64,
}

/// A losing value kept for review.
#[derive(Clone, Debug, PartialEq)]
pub struct ConflictRow {
    pub collection: String,
    pub record_id: RecordId,
    pub field: String,
    pub winner: serde_json::Value,
    pub loser: serde_json::Value,
    pub winner_device: DeviceId,
    pub loser_device: DeviceId,
}

/// One record as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotRow {
    pub collection: String,
    pub id: RecordId,
    pub site_id: Option<SiteId>,
    pub state: RecordState,
}

/// A validated batch from one device. `clamped` lists ops whose stamps were moved back.
#[derive(Clone, Debug)]
pub struct Batch {
    pub ops: Vec<Op>,
}

/// What the server stores and how it merges. Every method is one transaction.
pub trait Storage: Send + Sync + 'static {
    /// Creates the demo organisation with two sites and the default catalogue, if the database
    /// holds no organisation yet. Returns whether it did.
    fn seed_demo(&self, now_ms: u64) -> impl Future<Output = Result<bool, DbError>> + Send;

    /// Stores a one-time enrolment code (hashed) for a site, named by its name.
    fn create_enrollment_code(
        &self,
        site_name: &str,
        code_hash: &str,
        expires_ms: u64,
        now_ms: u64,
    ) -> impl Future<Output = Result<SiteRef, DbError>> + Send;

    /// Consumes a code and registers the device, atomically: a code works once.
    fn enroll(
        &self,
        code_hash: &str,
        device: NewDevice,
        now_ms: u64,
    ) -> impl Future<Output = Result<Enrolled, DbError>> + Send;

    /// Looks a device token (hashed) up and, when valid, extends its expiry.
    fn authenticate(
        &self,
        token_hash: &str,
        now_ms: u64,
        ttl_ms: u64,
    ) -> impl Future<Output = Result<TokenCheck, DbError>> + Send;

    /// Merges a batch in one transaction. Operations already applied for this device are
    /// skipped; returns the acknowledged `op_seq`s. If any operation cannot be merged, nothing
    /// is applied and `DbError::Batch` names them.
    fn push(
        &self,
        device: &DeviceAuth,
        batch: Batch,
        now_ms: u64,
    ) -> impl Future<Output = Result<Vec<u64>, DbError>> + Send;

    /// Records whose latest change has a sequence number above `after`, in order, limited to
    /// the device's sites and organisation-wide reference data.
    fn pull(&self, device: &DeviceAuth, after: u64, limit: u32) -> impl Future<Output = Result<Page, DbError>> + Send;

    /// Notes that a device's clock ran ahead and its stamps were clamped.
    fn flag_clock_skew(
        &self,
        device: DeviceId,
        skew_ms: i64,
        now_ms: u64,
    ) -> impl Future<Output = Result<(), DbError>> + Send;

    /// One record's merged state (tests and reports).
    fn record(
        &self,
        collection: &str,
        id: RecordId,
    ) -> impl Future<Output = Result<Option<RecordState>, DbError>> + Send;

    /// Every record with its site, ordered by collection and id (convergence tests, export).
    fn snapshot(&self) -> impl Future<Output = Result<Vec<SnapshotRow>, DbError>> + Send;

    /// Conflicts detected so far.
    fn conflicts(&self) -> impl Future<Output = Result<Vec<ConflictRow>, DbError>> + Send;

    /// Makes a device's token expire now (administration and tests).
    fn expire_token(&self, device: DeviceId) -> impl Future<Output = Result<(), DbError>> + Send;

    /// Checks the database's integrity.
    fn check(&self) -> impl Future<Output = Result<(), DbError>> + Send;
}
