//! Storage behind the API. One trait, because two implementations are planned: SQLite (the
//! embedded default, [`sqlite::SqliteStorage`]) and PostgreSQL. Handlers are generic over it.

pub mod postgres;
pub mod sql;
pub mod sqlite;

use outpost_core::Collection;
use outpost_core::catalogue::{default_commodities, default_kits};
use outpost_core::hlc::Hlc;
use outpost_core::merge::{self, Change, ChangeKind, FieldWrite, MergeError, RecordState};
use outpost_core::uic::UicScheme;
use outpost_core::wire::{ErrorDetail, Op, SiteRef};
use outpost_core::{DeviceId, OrgId, RecordId, SiteId};
use serde::{Deserialize, Serialize};
use std::future::Future;
use thiserror::Error;

/// Storage failures. `Batch` is the client's fault; the rest are the server's.
#[derive(Debug, Error)]
pub enum DbError {
    #[error("{0}")]
    Conflict(String),
    #[error("the target database already holds data; import only into an empty database")]
    NotEmpty,
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
    #[error("the database cannot be written: {0}")]
    Unwritable(String),
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

    /// Appends an entry to the hash-chained audit log.
    fn append_audit(&self, event: AuditEvent, now_ms: u64) -> impl Future<Output = Result<(), DbError>> + Send;

    /// The whole audit log, oldest first.
    fn audit_log(&self) -> impl Future<Output = Result<Vec<AuditRow>, DbError>> + Send;

    /// Every site with how many active devices it has.
    fn list_sites(&self) -> impl Future<Output = Result<Vec<SiteInfo>, DbError>> + Send;

    /// Adds a site to the organisation (the only one on this server) and its reference record.
    fn add_site(
        &self,
        name: &str,
        pwid_estimate: Option<u32>,
        now_ms: u64,
    ) -> impl Future<Output = Result<SiteRef, DbError>> + Send;

    /// Every enrolled device.
    fn list_devices(&self) -> impl Future<Output = Result<Vec<DeviceInfo>, DbError>> + Send;

    /// Revokes a device: its token stops working and its next contact tells it to wipe itself.
    fn revoke_device(&self, device: DeviceId, now_ms: u64) -> impl Future<Output = Result<(), DbError>> + Send;

    /// Renames a device.
    fn rename_device(&self, device: DeviceId, name: &str) -> impl Future<Output = Result<(), DbError>> + Send;

    /// Everything the database holds, for `outpost-server export`.
    fn export(&self) -> impl Future<Output = Result<Dump, DbError>> + Send;

    /// Loads an export into this database, which must hold no organisation yet. One transaction.
    fn import(&self, dump: Dump) -> impl Future<Output = Result<(), DbError>> + Send;

    /// The SQL flavour, for the shared SQL of [`sql`].
    fn dialect(&self) -> sql::Dialect;

    /// Runs one read-only query.
    fn query(&self, statement: sql::Statement) -> impl Future<Output = Result<Vec<sql::Row>, DbError>> + Send;

    /// Runs statements in one transaction; returns the rows each changed.
    fn execute(&self, statements: Vec<sql::Statement>) -> impl Future<Output = Result<Vec<u64>, DbError>> + Send;
}

/// An audit entry to append: who did what to what, from where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEvent {
    /// `cli` for the administration commands, `device:<id>` for a device.
    pub actor: String,
    /// `enroll`, `device.revoke`, `device.rename`, `site.add`, `enrollment_code.create`, `export`, `import`...
    pub action: String,
    pub target: String,
    pub detail: String,
    pub address: Option<String>,
}

impl AuditEvent {
    pub fn new(actor: &str, action: &str, target: impl Into<String>, detail: impl Into<String>) -> Self {
        Self { actor: actor.into(), action: action.into(), target: target.into(), detail: detail.into(), address: None }
    }
}

/// A stored audit entry with its place in the hash chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i64,
    pub at_ms: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub address: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// The `prev_hash` of the first entry.
pub const AUDIT_GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of an entry: SHA-256 over the previous hash and every field, as a JSON array (so
/// no two different entries serialise alike).
pub fn audit_hash(prev_hash: &str, id: i64, at_ms: i64, event: &AuditEvent) -> String {
    use sha2::{Digest, Sha256};
    let canonical =
        serde_json::json!([prev_hash, id, at_ms, event.actor, event.action, event.target, event.detail, event.address])
            .to_string();
    Sha256::digest(canonical.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Where an audit chain is broken.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum AuditBreak {
    #[error("audit entry {id}: its contents do not match its hash (the row was changed)")]
    Altered { id: i64 },
    #[error("audit entry {id}: it does not follow entry {previous} (an entry was removed or reordered)")]
    Gap { id: i64, previous: i64 },
    #[error("audit entry {id}: its link to the previous entry is wrong (an entry was removed or replaced)")]
    Link { id: i64 },
}

/// Checks the whole chain; returns the number of entries.
pub fn verify_audit_chain(rows: &[AuditRow]) -> Result<usize, AuditBreak> {
    let mut previous_hash = AUDIT_GENESIS.to_string();
    let mut previous_id = 0;
    for row in rows {
        if row.id != previous_id + 1 {
            return Err(AuditBreak::Gap { id: row.id, previous: previous_id });
        }
        if row.prev_hash != previous_hash {
            return Err(AuditBreak::Link { id: row.id });
        }
        let event = AuditEvent {
            actor: row.actor.clone(),
            action: row.action.clone(),
            target: row.target.clone(),
            detail: row.detail.clone(),
            address: row.address.clone(),
        };
        if audit_hash(&row.prev_hash, row.id, row.at_ms, &event) != row.hash {
            return Err(AuditBreak::Altered { id: row.id });
        }
        previous_hash = row.hash.clone();
        previous_id = row.id;
    }
    Ok(rows.len())
}

/// A site, for administration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SiteInfo {
    pub id: SiteId,
    pub name: String,
    pub active_devices: i64,
}

/// A device, for administration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeviceInfo {
    pub id: DeviceId,
    pub name: String,
    pub sites: Vec<String>,
    pub app_version: String,
    pub enrolled_ms: i64,
    pub last_seen_ms: i64,
    pub revoked_ms: Option<i64>,
    pub clock_skew_ms: i64,
    /// Operations received from the device so far (its highest op_seq).
    pub max_op_seq: i64,
}

/// Version of the export format.
pub const DUMP_FORMAT: u32 = 1;

/// Everything a database holds, in a form both backends read and write: how an office moves
/// from SQLite to PostgreSQL (`outpost-server export`, then `import`) without losing anything,
/// including sequence numbers, so enrolled devices keep syncing from their cursors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dump {
    pub format: u32,
    pub last_seq: u64,
    pub orgs: Vec<OrgRow>,
    pub sites: Vec<SiteRow>,
    pub enrollment_codes: Vec<CodeRow>,
    pub devices: Vec<DeviceRow>,
    pub device_sites: Vec<DeviceSiteRow>,
    pub records: Vec<RecordRow>,
    pub conflicts: Vec<ConflictDumpRow>,
    /// The audit log, hashes included, so its chain still verifies after a move.
    #[serde(default)]
    pub audit_log: Vec<AuditRow>,
    /// Accounts (filled by `accounts::export_accounts`; loaded inside `import`'s transaction).
    #[serde(default)]
    pub accounts: crate::accounts::AccountsDump,
    /// Keys of records whose tombstones were cleaned up (filled by `purge::export_purged`;
    /// loaded inside `import`'s transaction).
    #[serde(default)]
    pub purged: Vec<crate::purge::PurgedKey>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrgRow {
    pub id: OrgId,
    pub name: String,
    pub uic_scheme: UicScheme,
    pub created_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SiteRow {
    pub id: SiteId,
    pub org_id: OrgId,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CodeRow {
    pub code_hash: String,
    pub org_id: OrgId,
    pub site_id: SiteId,
    pub created_ms: i64,
    pub expires_ms: i64,
    pub used_ms: Option<i64>,
    pub device_id: Option<DeviceId>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceRow {
    pub id: DeviceId,
    pub org_id: OrgId,
    pub name: String,
    pub app_version: String,
    pub token_hash: String,
    pub enrolled_ms: i64,
    pub last_seen_ms: i64,
    pub token_expires_ms: i64,
    pub revoked_ms: Option<i64>,
    pub clock_skew_ms: i64,
    pub clamped_count: i64,
    pub max_op_seq: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceSiteRow {
    pub device_id: DeviceId,
    pub site_id: SiteId,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordRow {
    pub collection: String,
    pub id: RecordId,
    pub org_id: OrgId,
    pub site_id: Option<SiteId>,
    pub state: RecordState,
    pub seq: i64,
    pub created_ms: i64,
    pub updated_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConflictDumpRow {
    pub collection: String,
    pub record_id: RecordId,
    pub org_id: OrgId,
    pub site_id: Option<SiteId>,
    pub field: String,
    pub winner: serde_json::Value,
    pub loser: serde_json::Value,
    pub detected_ms: i64,
    pub resolved_ms: Option<i64>,
    pub resolution: Option<String>,
}

/// The device id that stamps changes made by the server itself (seed and reference data).
pub const SERVER_DEVICE: DeviceId = DeviceId::nil();

/// A record the server writes itself.
#[derive(Clone, Debug)]
pub struct SeedRecord {
    pub collection: Collection,
    pub id: RecordId,
    pub site_id: Option<SiteId>,
    pub state: RecordState,
}

/// The demo organisation created on first run: two sites, the default catalogue and kits.
#[derive(Clone, Debug)]
pub struct DemoSeed {
    pub org_id: OrgId,
    pub org_name: String,
    pub uic_scheme: UicScheme,
    pub sites: Vec<(SiteId, String)>,
    /// Reference records, in the order they get sequence numbers.
    pub records: Vec<SeedRecord>,
}

/// The reference record of a site, as devices receive it.
pub fn site_reference_state(name: &str, pwid_estimate: Option<u32>, now_ms: u64) -> RecordState {
    let mut fields = serde_json::json!({"name": name});
    if let Some(pwid) = pwid_estimate {
        fields["pwid_estimate"] = serde_json::json!(pwid);
    }
    reference_state(fields, Hlc::new(now_ms, 0, SERVER_DEVICE))
}

fn reference_state(fields: serde_json::Value, stamp: Hlc) -> RecordState {
    let serde_json::Value::Object(fields) = fields else { return RecordState::default() };
    let writes = fields.into_iter().map(|(k, v)| (k, FieldWrite { value: v, base: None })).collect();
    merge::apply_reference(None, &Change { stamp, kind: ChangeKind::Create(writes) }).state
}

/// Builds the demo organisation's data; every backend writes exactly this.
pub fn demo_seed(now_ms: u64) -> Result<DemoSeed, DbError> {
    let mut counter = 0u16;
    let mut stamp = || {
        counter += 1;
        Hlc::new(now_ms, counter, SERVER_DEVICE)
    };
    let mut sites = Vec::new();
    let mut records = Vec::new();
    for (name, pwid) in [("Drop-in centre", 1200), ("Street outreach team", 800)] {
        let site = SiteId(uuid::Uuid::now_v7());
        sites.push((site, name.to_string()));
        // A site's own reference record has the site's id, so its devices can name it.
        let state = reference_state(serde_json::json!({"name": name, "pwid_estimate": pwid}), stamp());
        records.push(SeedRecord { collection: Collection::Sites, id: RecordId(site.0), site_id: Some(site), state });
    }
    for commodity in default_commodities() {
        let state = reference_state(serde_json::to_value(&commodity)?, stamp());
        records.push(SeedRecord {
            collection: Collection::Commodities,
            id: RecordId(uuid::Uuid::now_v7()),
            site_id: None,
            state,
        });
    }
    for kit in default_kits() {
        let state = reference_state(serde_json::to_value(&kit)?, stamp());
        records.push(SeedRecord {
            collection: Collection::KitTemplates,
            id: RecordId(uuid::Uuid::now_v7()),
            site_id: None,
            state,
        });
    }
    Ok(DemoSeed {
        org_id: OrgId(uuid::Uuid::now_v7()),
        org_name: "Demo harm reduction programme".into(),
        uic_scheme: UicScheme::central_asia(),
        sites,
        records,
    })
}

/// The error detail for an operation the merge refused.
pub fn merge_error_detail(index: usize, op_seq: u64, e: &MergeError) -> ErrorDetail {
    let code = match e {
        MergeError::Immutable => "immutable_record",
        MergeError::AppendOnlyDelete => "append_only_delete",
        MergeError::Reference => "read_only_collection",
        MergeError::UnknownRecord => "unknown_record",
    };
    ErrorDetail { index, op_seq: Some(op_seq), field: None, code: code.into(), message: e.to_string() }
}

/// How far beyond the highest committed `op_seq` a device's next operation may be numbered. A
/// device numbers its operations 1, 2, 3...; gaps come only from operations the server refused.
/// A far larger number is a broken client, and accepting it would make every later operation of
/// that device look like a replay, silently dropped.
pub const MAX_OP_SEQ_JUMP: u64 = 1_000_000;

/// The error detail for an operation numbered too far ahead.
pub fn op_seq_gap_detail(index: usize, op_seq: u64, applied_up_to: u64) -> ErrorDetail {
    ErrorDetail {
        index,
        op_seq: Some(op_seq),
        field: None,
        code: "op_seq_gap".into(),
        message: format!(
            "op_seq {op_seq} is far beyond the last one received ({applied_up_to}); operations are numbered 1, 2, 3..."
        ),
    }
}

/// The error detail for an operation on another site's record.
pub fn site_mismatch_detail(index: usize, op_seq: u64) -> ErrorDetail {
    ErrorDetail {
        index,
        op_seq: Some(op_seq),
        field: None,
        code: "site_mismatch".into(),
        message: "this record belongs to another site".into(),
    }
}

impl From<serde_json::Error> for DbError {
    fn from(e: serde_json::Error) -> Self {
        DbError::Corrupt(e.to_string())
    }
}

/// Either backend, chosen at start-up from the database URL.
#[derive(Clone, Debug)]
pub enum AnyStorage {
    Sqlite(sqlite::SqliteStorage),
    Postgres(postgres::PgStorage),
}

impl AnyStorage {
    /// Opens `sqlite://PATH` (a file, created if missing) or `postgres://...`.
    pub async fn open(url: &str, max_connections: usize) -> Result<Self, DbError> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(DbError::Backend("sqlite:// needs a file path".into()));
            }
            Ok(AnyStorage::Sqlite(sqlite::SqliteStorage::open(std::path::Path::new(path))?))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(AnyStorage::Postgres(postgres::PgStorage::connect(url, None, max_connections).await?))
        } else {
            Err(DbError::Backend("the database URL must start with sqlite:// or postgres://".into()))
        }
    }

    /// A short name of the backend, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            AnyStorage::Sqlite(_) => "sqlite",
            AnyStorage::Postgres(_) => "postgres",
        }
    }
}

macro_rules! delegate {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            AnyStorage::Sqlite($s) => $call.await,
            AnyStorage::Postgres($s) => $call.await,
        }
    };
}

impl Storage for AnyStorage {
    async fn seed_demo(&self, now_ms: u64) -> Result<bool, DbError> {
        delegate!(self, s => s.seed_demo(now_ms))
    }
    async fn create_enrollment_code(
        &self,
        site: &str,
        hash: &str,
        expires_ms: u64,
        now_ms: u64,
    ) -> Result<SiteRef, DbError> {
        delegate!(self, s => s.create_enrollment_code(site, hash, expires_ms, now_ms))
    }
    async fn enroll(&self, code_hash: &str, device: NewDevice, now_ms: u64) -> Result<Enrolled, DbError> {
        delegate!(self, s => s.enroll(code_hash, device, now_ms))
    }
    async fn authenticate(&self, token_hash: &str, now_ms: u64, ttl_ms: u64) -> Result<TokenCheck, DbError> {
        delegate!(self, s => s.authenticate(token_hash, now_ms, ttl_ms))
    }
    async fn push(&self, device: &DeviceAuth, batch: Batch, now_ms: u64) -> Result<Vec<u64>, DbError> {
        delegate!(self, s => s.push(device, batch, now_ms))
    }
    async fn pull(&self, device: &DeviceAuth, after: u64, limit: u32) -> Result<Page, DbError> {
        delegate!(self, s => s.pull(device, after, limit))
    }
    async fn flag_clock_skew(&self, device: DeviceId, skew_ms: i64, now_ms: u64) -> Result<(), DbError> {
        delegate!(self, s => s.flag_clock_skew(device, skew_ms, now_ms))
    }
    async fn record(&self, collection: &str, id: RecordId) -> Result<Option<RecordState>, DbError> {
        delegate!(self, s => s.record(collection, id))
    }
    async fn snapshot(&self) -> Result<Vec<SnapshotRow>, DbError> {
        delegate!(self, s => s.snapshot())
    }
    async fn conflicts(&self) -> Result<Vec<ConflictRow>, DbError> {
        delegate!(self, s => s.conflicts())
    }
    async fn expire_token(&self, device: DeviceId) -> Result<(), DbError> {
        delegate!(self, s => s.expire_token(device))
    }
    async fn check(&self) -> Result<(), DbError> {
        delegate!(self, s => s.check())
    }
    async fn export(&self) -> Result<Dump, DbError> {
        delegate!(self, s => s.export())
    }
    async fn append_audit(&self, event: AuditEvent, now_ms: u64) -> Result<(), DbError> {
        delegate!(self, s => s.append_audit(event, now_ms))
    }
    async fn audit_log(&self) -> Result<Vec<AuditRow>, DbError> {
        delegate!(self, s => s.audit_log())
    }
    async fn list_sites(&self) -> Result<Vec<SiteInfo>, DbError> {
        delegate!(self, s => s.list_sites())
    }
    async fn add_site(&self, name: &str, pwid_estimate: Option<u32>, now_ms: u64) -> Result<SiteRef, DbError> {
        delegate!(self, s => s.add_site(name, pwid_estimate, now_ms))
    }
    async fn list_devices(&self) -> Result<Vec<DeviceInfo>, DbError> {
        delegate!(self, s => s.list_devices())
    }
    async fn revoke_device(&self, device: DeviceId, now_ms: u64) -> Result<(), DbError> {
        delegate!(self, s => s.revoke_device(device, now_ms))
    }
    async fn rename_device(&self, device: DeviceId, name: &str) -> Result<(), DbError> {
        delegate!(self, s => s.rename_device(device, name))
    }
    async fn import(&self, dump: Dump) -> Result<(), DbError> {
        delegate!(self, s => s.import(dump))
    }
    fn dialect(&self) -> sql::Dialect {
        match self {
            AnyStorage::Sqlite(_) => sql::Dialect::Sqlite,
            AnyStorage::Postgres(_) => sql::Dialect::Postgres,
        }
    }
    async fn query(&self, statement: sql::Statement) -> Result<Vec<sql::Row>, DbError> {
        delegate!(self, s => s.query(statement))
    }
    async fn execute(&self, statements: Vec<sql::Statement>) -> Result<Vec<u64>, DbError> {
        delegate!(self, s => s.execute(statements))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditRow> {
        let mut rows = Vec::new();
        let mut prev = AUDIT_GENESIS.to_string();
        for id in 1..=n {
            let event = AuditEvent::new("cli", "site.add", format!("site-{id}"), "");
            let hash = audit_hash(&prev, id, 1000 + id, &event);
            rows.push(AuditRow {
                id,
                at_ms: 1000 + id,
                actor: event.actor,
                action: event.action,
                target: event.target,
                detail: event.detail,
                address: None,
                prev_hash: prev,
                hash: hash.clone(),
            });
            prev = hash;
        }
        rows
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify_audit_chain(&chain(5)), Ok(5));
        assert_eq!(verify_audit_chain(&[]), Ok(0));
    }

    #[test]
    fn tampering_is_detected_and_the_row_named() {
        let mut altered = chain(5);
        altered[2].detail = "nothing to see".into();
        assert_eq!(verify_audit_chain(&altered), Err(AuditBreak::Altered { id: 3 }));

        let mut removed = chain(5);
        removed.remove(1);
        assert_eq!(verify_audit_chain(&removed), Err(AuditBreak::Gap { id: 3, previous: 1 }));

        // Rewriting a row with a fresh hash still breaks the next row's link.
        let mut rewritten = chain(5);
        rewritten[1].actor = "someone else".into();
        let event =
            AuditEvent::new(&rewritten[1].actor.clone(), &rewritten[1].action.clone(), rewritten[1].target.clone(), "");
        rewritten[1].hash = audit_hash(&rewritten[1].prev_hash, 2, rewritten[1].at_ms, &event);
        assert_eq!(verify_audit_chain(&rewritten), Err(AuditBreak::Link { id: 3 }));
    }
}
