//! Everything a database holds, as plain rows both backends read and write: how an office moves
//! from SQLite to PostgreSQL (`outpost-server export`, then `import`) without losing anything,
//! including sequence numbers, so enrolled devices keep syncing from their cursors. Sessions
//! are not exported: after a move everyone logs in again. The JSON form is format 1, as written
//! by every earlier version.

use crate::audit::AuditRow;
use crate::backend::TxMode;
use crate::error::DbError;
use crate::seed::holds_an_organisation;
use crate::sql::{FromValue, RowExt, SqlValue, Statement};
use crate::table::{TableRow, inserts, table_row};
use crate::{Store, params};
use outpost_core::merge::RecordState;
use outpost_core::uic::UicScheme;
use outpost_core::{DeviceId, OrgId, RecordId, SiteId};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

/// Version of the export format.
pub const DUMP_FORMAT: u32 = 1;

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
    #[serde(default)]
    pub accounts: AccountsDump,
    /// Keys of records whose tombstones were cleaned up.
    #[serde(default)]
    pub purged: Vec<PurgedKey>,
    /// The fingerprint of the server key the export's sealed secrets and keyed audit hashes
    /// were written with (absent in files written before there was a key): an import needs the
    /// same key.
    #[serde(default)]
    pub key_fingerprint: Option<String>,
    /// Pairs the duplicate review no longer offers (absent in files written before it).
    #[serde(default)]
    pub duplicate_dismissals: Vec<DismissalRow>,
}

table_row! {
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct OrgRow in "orgs" order by "id" {
        pub id: OrgId,
        pub name: String,
        pub uic_scheme: UicScheme,
        pub created_ms: i64,
        /// Absent in files written before it was a column: English.
        #[serde(default = "default_language")]
        pub default_language: String,
        /// Absent in files written before it was a column: none (keep everything).
        #[serde(default)]
        pub retention_days: Option<i64>,
        /// Absent in files written before it was a column: off.
        #[serde(default)]
        pub client_index: bool,
        /// Absent in files written before it was a column: the default.
        #[serde(default)]
        pub nsp_target: Option<i64>,
        /// Absent in files written before they were columns: no DHIS2 connection or mappings.
        #[serde(default)]
        pub dhis2_url: Option<String>,
        /// Sealed with the server key, like the second-factor secrets.
        #[serde(default)]
        pub dhis2_token: Option<String>,
        #[serde(default)]
        pub dhis2_mappings: Option<String>,
        /// Absent in files written before it was a column: the shipped packages.
        #[serde(default)]
        pub service_packages: Option<String>,
    }
}

table_row! {
    /// Two client records a coordinator judged to be two people.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct DismissalRow in "duplicate_dismissals" order by "client_a, client_b" {
        pub org_id: OrgId,
        pub client_a: RecordId,
        pub client_b: RecordId,
        pub dismissed_by: String,
        pub dismissed_ms: i64,
    }
}

table_row! {
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct SiteRow in "sites" order by "id" {
        pub id: SiteId,
        pub org_id: OrgId,
        pub name: String,
    }
}

table_row! {
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct CodeRow in "enrollment_codes" order by "code_hash" {
        pub code_hash: String,
        pub org_id: OrgId,
        pub site_id: SiteId,
        pub created_ms: i64,
        pub expires_ms: i64,
        pub used_ms: Option<i64>,
        pub device_id: Option<DeviceId>,
    }
}

table_row! {
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct DeviceRow in "devices" order by "id" {
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
        /// The server's own device (absent in files written before it was a column: the
        /// import marks it by its token).
        #[serde(default)]
        pub is_server: bool,
        /// Absent in files written before it was a column.
        #[serde(default)]
        pub unsent_ops: i64,
    }
}

table_row! {
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct DeviceSiteRow in "device_sites" order by "device_id, site_id" {
        pub device_id: DeviceId,
        pub site_id: SiteId,
    }
}

table_row! {
    /// A record; its `deleted` column is derived from the state on import.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct RecordRow in "records" order by "seq" {
        pub collection: String,
        pub id: RecordId,
        pub org_id: OrgId,
        pub site_id: Option<SiteId>,
        pub state: RecordState,
        pub seq: i64,
        pub created_ms: i64,
        pub updated_ms: i64,
    }
}

table_row! {
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct ConflictDumpRow in "conflicts" order by "id" {
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
}

/// Accounts: users with their password hashes and second-factor secrets, their sites, and which
/// worker each tablet and code belongs to.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountsDump {
    pub users: Vec<UserDumpRow>,
    /// (user id, site id)
    pub user_sites: Vec<(Uuid, SiteId)>,
    /// (device id, user id)
    pub device_users: Vec<(DeviceId, Uuid)>,
    /// (enrolment code hash, user id)
    pub code_users: Vec<(String, Uuid)>,
}

table_row! {
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct UserDumpRow in "users" order by "username" {
        pub id: Uuid,
        pub org_id: OrgId,
        pub username: String,
        pub password_hash: String,
        pub role: String,
        pub totp_secret: Option<String>,
        pub totp_last_step: i64,
        pub created_ms: i64,
        pub disabled_ms: Option<i64>,
        #[serde(default)]
        pub last_login_ms: Option<i64>,
        #[serde(default)]
        pub password_temporary: bool,
    }
}

fn default_language() -> String {
    "en".into()
}

table_row! {
    /// One purged record's key.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct PurgedKey in "purged_records" order by "collection, id" {
        pub collection: String,
        pub id: RecordId,
        pub org_id: OrgId,
        pub seq: u64,
        pub purged_ms: u64,
    }
}

fn pairs<A: FromValue, B: FromValue>(rows: &[crate::Row]) -> Result<Vec<(A, B)>, DbError> {
    rows.iter().map(|r| Ok((r.col(0)?, r.col(1)?))).collect()
}

impl Store {
    /// Everything the database holds, from one consistent snapshot.
    pub async fn export(&self) -> Result<Dump, DbError> {
        let q = |sql: &str| Statement::query(sql, vec![]);
        let out = self
            .query_all(vec![
                OrgRow::select_all(),
                SiteRow::select_all(),
                CodeRow::select_all(),
                DeviceRow::select_all(),
                DeviceSiteRow::select_all(),
                RecordRow::select_all(),
                ConflictDumpRow::select_all(),
                AuditRow::select_all(),
                q("SELECT value FROM counters WHERE name = 'seq'"),
                UserDumpRow::select_all(),
                q("SELECT user_id, site_id FROM user_sites ORDER BY user_id, site_id"),
                q("SELECT id, user_id FROM devices WHERE user_id IS NOT NULL ORDER BY id"),
                q("SELECT code_hash, user_id FROM enrollment_codes WHERE user_id IS NOT NULL ORDER BY code_hash"),
                PurgedKey::select_all(),
                DismissalRow::select_all(),
            ])
            .await?;
        Ok(Dump {
            format: DUMP_FORMAT,
            orgs: OrgRow::read_all(&out[0])?,
            sites: SiteRow::read_all(&out[1])?,
            enrollment_codes: CodeRow::read_all(&out[2])?,
            devices: DeviceRow::read_all(&out[3])?,
            device_sites: DeviceSiteRow::read_all(&out[4])?,
            records: RecordRow::read_all(&out[5])?,
            conflicts: ConflictDumpRow::read_all(&out[6])?,
            audit_log: AuditRow::read_all(&out[7])?,
            last_seq: out[8].first().map_or(Ok(0), |r| r.col(0))?,
            accounts: AccountsDump {
                users: UserDumpRow::read_all(&out[9])?,
                user_sites: pairs(&out[10])?,
                device_users: pairs(&out[11])?,
                code_users: pairs(&out[12])?,
            },
            purged: PurgedKey::read_all(&out[13])?,
            key_fingerprint: Some(self.key().fingerprint()),
            duplicate_dismissals: DismissalRow::read_all(&out[14])?,
        })
    }

    /// Loads an export into this database, which must hold no organisation yet and be written
    /// with the export's server key. One transaction.
    pub async fn import(&self, dump: Dump) -> Result<(), DbError> {
        let given = self.key().fingerprint();
        if let Some(stored) = dump.key_fingerprint.clone().filter(|f| *f != given) {
            return Err(DbError::WrongKey { stored, given });
        }
        let statements = import_statements(&dump)?;
        self.transaction(TxMode::Write, move |tx| {
            Box::pin(async move {
                if holds_an_organisation(tx).await? {
                    return Err(DbError::NotEmpty);
                }
                // In chunks, so no single step holds every row's statement at once.
                let mut statements = statements.into_iter().peekable();
                while statements.peek().is_some() {
                    tx.run(statements.by_ref().take(64).collect()).await?;
                }
                Ok(())
            })
        })
        .await?;
        // An export written before secrets were sealed holds them in clear.
        self.seal_clear_secrets().await
    }
}

/// No columns beyond the struct's.
fn no_extra<T>(_: &T) -> Result<Vec<SqlValue>, DbError> {
    Ok(vec![])
}

/// The statements that load `dump`, in an order the foreign keys accept.
fn import_statements(dump: &Dump) -> Result<Vec<Statement>, DbError> {
    let accounts = &dump.accounts;
    let device_user: HashMap<DeviceId, Uuid> = accounts.device_users.iter().copied().collect();
    let code_user: HashMap<&str, Uuid> = accounts.code_users.iter().map(|(c, u)| (c.as_str(), *u)).collect();
    let mut out = Vec::new();
    out.extend(inserts(&dump.orgs, &[], no_extra)?);
    out.extend(inserts(&dump.sites, &[], no_extra)?);
    out.extend(inserts(&accounts.users, &[], no_extra)?);
    for (user, site) in &accounts.user_sites {
        out.push(Statement::exec("INSERT INTO user_sites (user_id, site_id) VALUES (?, ?)", params![*user, *site]));
    }
    out.extend(inserts(&dump.enrollment_codes, &["user_id"], |c: &CodeRow| {
        Ok(params![code_user.get(c.code_hash.as_str()).copied()])
    })?);
    out.extend(inserts(&dump.devices, &["user_id"], |d: &DeviceRow| Ok(params![device_user.get(&d.id).copied()]))?);
    // A file written before the server's device was a column: mark it by its token hash.
    out.push(Statement::exec("UPDATE devices SET is_server = ? WHERE token_hash LIKE 'server:%'", params![true]));
    out.extend(inserts(&dump.device_sites, &[], no_extra)?);
    out.extend(inserts(&dump.records, &["deleted"], |r: &RecordRow| Ok(params![r.state.deleted.is_some()]))?);
    out.extend(inserts(&dump.conflicts, &[], no_extra)?);
    out.extend(inserts(&dump.audit_log, &[], no_extra)?);
    out.extend(inserts(&dump.purged, &[], no_extra)?);
    out.extend(inserts(&dump.duplicate_dismissals, &[], no_extra)?);
    out.push(Statement::exec("UPDATE counters SET value = ? WHERE name = 'seq'", params![dump.last_seq]));
    Ok(out)
}
