//! Versioned wire format of the sync protocol (`docs/protocol.md`).
//!
//! Version 1 is frozen: `tests/fixtures/v1/` holds one sample of each message, and a test checks
//! that every sample still decodes and re-encodes to the same JSON. A breaking change needs a
//! new protocol version, not an edit of these types.

use crate::hlc::Hlc;
use crate::ids::{DeviceId, OrgId, RecordId, SiteId};
use crate::merge::{ChangeKind, FieldWrite, RecordState};
use crate::uic::UicScheme;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;
/// The oldest protocol version a server built from this code still accepts.
pub const MIN_PROTOCOL_VERSION: u32 = 1;
/// Header carrying the protocol version on every sync request.
pub const PROTOCOL_HEADER: &str = "outpost-protocol";

/// The header a device reports with each pull how many changes it holds unsent (its outbox
/// after the push), for the dashboard's devices list. Optional.
pub const UNSENT_HEADER: &str = "outpost-unsent";
/// Most operations in one push.
pub const MAX_PUSH_OPS: usize = 1000;
/// Most records in one pull page.
pub const MAX_PULL_LIMIT: u32 = 1000;
/// Most records one `POST /api/v1/sync/restore` may carry.
pub const MAX_RESTORE_RECORDS: usize = 500;

/// The path of an enrolment link, `<server>/enrol?code=<code>`: what an admin's enrolment card
/// prints as a QR code (a browser opening it gets a page saying what it is for), and what the
/// tablet accepts pasted or scanned instead of the server's address and the code typed apart.
pub const ENROL_LINK_PATH: &str = "/enrol";
/// The query parameter of an enrolment link that carries the code.
pub const ENROL_LINK_CODE_PARAM: &str = "code";

/// The enrolment link of `code` at the server at `server` (its address, any trailing slash
/// dropped).
pub fn enrolment_link(server: &str, code: &str) -> String {
    format!("{}{ENROL_LINK_PATH}?{ENROL_LINK_CODE_PARAM}={code}", server.trim_end_matches('/'))
}

/// `POST /api/v1/enroll`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    /// The one-time enrolment code printed by `outpost-server enroll`.
    pub code: String,
    /// A name people recognise the tablet by ("Van 2 tablet").
    pub device_name: String,
    pub app_version: String,
    pub protocol: u32,
}

/// A site a device is enrolled for.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteRef {
    pub id: SiteId,
    pub name: String,
}

/// Reply to a successful enrolment.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnrollResponse {
    pub device_id: DeviceId,
    /// Bearer token for every later sync call. Shown once; the server keeps only a hash.
    pub token: String,
    pub org_id: OrgId,
    pub org_name: String,
    pub sites: Vec<SiteRef>,
    pub uic_scheme: UicScheme,
    pub server_time_ms: u64,
}

/// What an operation does.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    Create,
    Update,
    Delete,
}

/// One outbox entry: a change to one record, identified by `(device_id, op_seq)`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Op {
    /// Per-device counter; never repeats. The server ignores a pair it has already applied.
    pub op_seq: u64,
    pub collection: String,
    pub record_id: RecordId,
    pub site_id: SiteId,
    pub kind: OpKind,
    pub stamp: Hlc,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub fields: Map<String, Value>,
    /// For updates: the stamp of each field's value that this edit replaced on the device.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub bases: BTreeMap<String, Hlc>,
}

impl Op {
    /// The change this operation makes, for the merge.
    pub fn change_kind(&self) -> ChangeKind {
        let writes = || {
            self.fields
                .iter()
                .map(|(k, v)| (k.clone(), FieldWrite { value: v.clone(), base: self.bases.get(k).copied() }))
                .collect()
        };
        match self.kind {
            OpKind::Create => ChangeKind::Create(writes()),
            OpKind::Update => ChangeKind::Update(writes()),
            OpKind::Delete => ChangeKind::Delete,
        }
    }
}

/// `POST /api/v1/sync/push`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    pub ops: Vec<Op>,
}

/// Reply to a push: every listed `op_seq` is durably stored (or was already).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PushResponse {
    pub acked: Vec<u64>,
    /// Operations whose stamps were ahead of the server clock and were moved back to it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clamped: Vec<u64>,
    pub server_time_ms: u64,
}

/// One record in a pull page: its whole merged state.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(try_from = "PulledRecordText")]
pub struct PulledRecord {
    /// Server sequence number of the record's latest change.
    pub seq: u64,
    pub collection: String,
    pub record_id: RecordId,
    /// None for organisation-wide reference data.
    pub site_id: Option<SiteId>,
    pub state: RecordState,
    /// `state` as the JSON text it was read from (see [`PulledRecord::state_json`]). Not a part
    /// of the wire form: there `state` is this text.
    #[serde(skip)]
    state_json: Option<Box<str>>,
}

impl PulledRecord {
    /// A record made in code rather than read (it has no text).
    pub fn new(
        seq: u64,
        collection: impl Into<String>,
        record_id: RecordId,
        site_id: Option<SiteId>,
        state: RecordState,
    ) -> Self {
        Self { seq, collection: collection.into(), record_id, site_id, state, state_json: None }
    }

    /// `state` as the JSON text it was read from, `None` for a record made in code: a device
    /// stores that text as it is instead of writing the state out again. It is the state as
    /// read: code that changes `state` stores the changed state instead.
    pub fn state_json(&self) -> Option<&str> {
        self.state_json.as_deref()
    }
}

/// Records are equal when what they say is: the text a state was read from does not count.
impl PartialEq for PulledRecord {
    fn eq(&self, other: &Self) -> bool {
        (self.seq, &self.collection, self.record_id, self.site_id, &self.state)
            == (other.seq, &other.collection, other.record_id, other.site_id, &other.state)
    }
}

/// A pulled record as read, its state kept as text until decoded.
#[derive(Deserialize)]
struct PulledRecordText {
    seq: u64,
    collection: String,
    record_id: RecordId,
    site_id: Option<SiteId>,
    state: Box<serde_json::value::RawValue>,
}

impl TryFrom<PulledRecordText> for PulledRecord {
    type Error = serde_json::Error;

    fn try_from(read: PulledRecordText) -> Result<Self, Self::Error> {
        let state = serde_json::from_str(read.state.get())?;
        Ok(Self {
            seq: read.seq,
            collection: read.collection,
            record_id: read.record_id,
            site_id: read.site_id,
            state,
            state_json: Some(read.state.into()),
        })
    }
}

/// Reply to `GET /api/v1/sync/pull?after=CURSOR&limit=N`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    pub records: Vec<PulledRecord>,
    /// The cursor to send next time (the last record's `seq`, or `after` when empty).
    pub next_cursor: u64,
    pub has_more: bool,
    /// Zero when `has_more` is false; otherwise an upper bound of the records still to come,
    /// for progress bars.
    pub remaining: u64,
    pub server_time_ms: u64,
    /// The organisation as it is now (its name, default language and client-code scheme), so a
    /// change reaches tablets at their next pull. Absent from servers older than it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<OrgInfo>,
    /// The highest `op_seq` of this device the server holds. Below the highest the device had
    /// acknowledged, the server was restored from an older backup: the device sends what it
    /// holds (`POST /api/v1/sync/restore`) and pulls everything again. Absent from servers
    /// older than it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_through: Option<u64>,
}

/// One record a device holds, with its whole state, sent back to a restored server.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestoreRecord {
    pub collection: String,
    pub record_id: RecordId,
    pub site_id: SiteId,
    pub state: RecordState,
}

/// `POST /api/v1/sync/restore`: what a device holds, after the server was restored from a backup
/// older than the device's last sync. Merged into the server's records (a join: idempotent).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestoreRequest {
    /// The highest `op_seq` the server had acknowledged to the device: the server's replay
    /// mark moves up to it, so the operations behind these states are never applied twice.
    pub acked_through: u64,
    pub records: Vec<RestoreRecord>,
}

/// Reply to a restore.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RestoreResponse {
    /// Records the server did not hold as the device does (now merged).
    pub restored: u64,
    /// Records it skipped: their tombstones were cleaned up, they stay deleted.
    pub skipped: u64,
    pub applied_through: u64,
}

/// What a tablet knows of its organisation.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrgInfo {
    pub name: String,
    /// The language texts fall back to (a language code such as `ru`).
    pub default_language: String,
    pub uic_scheme: UicScheme,
    /// Whether pulls carry every site's clients (code, gender and year of birth only; see
    /// [`crate::people::INDEX_FIELDS`]). Absent (off) from servers before it existed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub client_index: bool,
}

/// Every error reply.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Machine-readable code, listed in `docs/protocol.md`.
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// Per-operation or per-field problems, when the request was a batch.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "ts", ts(as = "Option<Vec<ErrorDetail>>", optional))]
    pub details: Vec<ErrorDetail>,
}

/// One problem inside a batch.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Position of the operation in the batch.
    pub index: usize,
    pub op_seq: Option<u64>,
    pub field: Option<String>,
    pub code: String,
    pub message: String,
}

/// `GET /healthz`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub version: String,
    pub protocol: u32,
}
