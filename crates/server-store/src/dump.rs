//! Everything a database holds, as plain rows both backends read and write: how an office moves
//! from SQLite to PostgreSQL (`outpost-server export`, then `import`) without losing anything,
//! including sequence numbers, so enrolled devices keep syncing from their cursors. Sessions
//! are not exported: after a move everyone logs in again. The JSON form is format 1, as written
//! by every earlier version.

use crate::audit::{AuditRow, all_audit_rows, audit_row};
use crate::backend::TxMode;
use crate::error::DbError;
use crate::seed::holds_an_organisation;
use crate::sql::{RowExt, SqlValue, Statement, json};
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

/// Accounts: users with their password hashes and second-factor secrets, their sites, and which
/// worker each tablet and code belongs to.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountsDump {
    pub users: Vec<UserDumpRow>,
    /// (user id, site id)
    pub user_sites: Vec<(String, String)>,
    /// (device id, user id)
    pub device_users: Vec<(String, String)>,
    /// (enrolment code hash, user id)
    pub code_users: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserDumpRow {
    pub id: String,
    pub org_id: String,
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub totp_secret: Option<String>,
    pub totp_last_step: i64,
    pub created_ms: i64,
    pub disabled_ms: Option<i64>,
}

/// One purged record's key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgedKey {
    pub collection: String,
    pub id: String,
    pub org_id: String,
    pub seq: u64,
    pub purged_ms: u64,
}

pub(crate) fn purged_keys_statement() -> Statement {
    Statement::query(
        "SELECT collection, id, org_id, seq, purged_ms FROM purged_records ORDER BY collection, id",
        vec![],
    )
}

pub(crate) fn purged_key(r: &[SqlValue]) -> Result<PurgedKey, DbError> {
    Ok(PurgedKey { collection: r.col(0)?, id: r.col(1)?, org_id: r.col(2)?, seq: r.col(3)?, purged_ms: r.col(4)? })
}

fn uuid(text: &str) -> Result<Uuid, DbError> {
    text.parse().map_err(|_| DbError::Corrupt(format!("{text:?} is not an id")))
}

fn pairs(rows: &[crate::Row]) -> Result<Vec<(String, String)>, DbError> {
    rows.iter().map(|r| Ok((r.col(0)?, r.col(1)?))).collect()
}

/// Most values one insert binds (SQLite's limit is 32 766, PostgreSQL's 65 535).
const VALUES_PER_INSERT: usize = 4_000;

/// Multi-row inserts of `rows` into `table`.
fn inserts(table: &str, columns: &str, rows: Vec<Vec<SqlValue>>) -> Vec<Statement> {
    let width = columns.split(',').count();
    let per = (VALUES_PER_INSERT / width).max(1);
    let mut out = Vec::new();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<SqlValue>> = rows.by_ref().take(per).collect();
        let tuple = format!("({})", crate::sql::marks(width));
        let text = vec![tuple.as_str(); chunk.len()].join(", ");
        out.push(Statement::exec(
            format!("INSERT INTO {table} ({columns}) VALUES {text}"),
            chunk.into_iter().flatten().collect(),
        ));
    }
    out
}

impl Store {
    /// Everything the database holds, from one consistent snapshot.
    pub async fn export(&self) -> Result<Dump, DbError> {
        let q = |sql: &str| Statement::query(sql, vec![]);
        let out = self
            .query_all(vec![
                q("SELECT id, name, uic_scheme, created_ms FROM orgs ORDER BY id"),
                q("SELECT id, org_id, name FROM sites ORDER BY id"),
                q("SELECT code_hash, org_id, site_id, created_ms, expires_ms, used_ms, device_id FROM enrollment_codes ORDER BY code_hash"),
                q("SELECT id, org_id, name, app_version, token_hash, enrolled_ms, last_seen_ms, token_expires_ms, revoked_ms,
                          clock_skew_ms, clamped_count, max_op_seq FROM devices ORDER BY id"),
                q("SELECT device_id, site_id FROM device_sites ORDER BY device_id, site_id"),
                q("SELECT collection, id, org_id, site_id, state, seq, created_ms, updated_ms FROM records ORDER BY seq"),
                q("SELECT collection, record_id, org_id, site_id, field, winner, loser, detected_ms, resolved_ms, resolution
                   FROM conflicts ORDER BY id"),
                all_audit_rows(),
                q("SELECT value FROM counters WHERE name = 'seq'"),
                q("SELECT id, org_id, username, password_hash, role, totp_secret, totp_last_step, created_ms, disabled_ms
                   FROM users ORDER BY username"),
                q("SELECT user_id, site_id FROM user_sites ORDER BY user_id, site_id"),
                q("SELECT id, user_id FROM devices WHERE user_id IS NOT NULL ORDER BY id"),
                q("SELECT code_hash, user_id FROM enrollment_codes WHERE user_id IS NOT NULL ORDER BY code_hash"),
                purged_keys_statement(),
            ])
            .await?;
        let rows = |i: usize| out[i].iter();
        Ok(Dump {
            format: DUMP_FORMAT,
            orgs: rows(0)
                .map(|r| {
                    Ok(OrgRow {
                        id: r.col(0)?,
                        name: r.col(1)?,
                        uic_scheme: serde_json::from_str(&r.col::<String>(2)?)?,
                        created_ms: r.col(3)?,
                    })
                })
                .collect::<Result<_, DbError>>()?,
            sites: rows(1)
                .map(|r| Ok(SiteRow { id: r.col(0)?, org_id: r.col(1)?, name: r.col(2)? }))
                .collect::<Result<_, DbError>>()?,
            enrollment_codes: rows(2)
                .map(|r| {
                    Ok(CodeRow {
                        code_hash: r.col(0)?,
                        org_id: r.col(1)?,
                        site_id: r.col(2)?,
                        created_ms: r.col(3)?,
                        expires_ms: r.col(4)?,
                        used_ms: r.col(5)?,
                        device_id: r.col(6)?,
                    })
                })
                .collect::<Result<_, DbError>>()?,
            devices: rows(3)
                .map(|r| {
                    Ok(DeviceRow {
                        id: r.col(0)?,
                        org_id: r.col(1)?,
                        name: r.col(2)?,
                        app_version: r.col(3)?,
                        token_hash: r.col(4)?,
                        enrolled_ms: r.col(5)?,
                        last_seen_ms: r.col(6)?,
                        token_expires_ms: r.col(7)?,
                        revoked_ms: r.col(8)?,
                        clock_skew_ms: r.col(9)?,
                        clamped_count: r.col(10)?,
                        max_op_seq: r.col(11)?,
                    })
                })
                .collect::<Result<_, DbError>>()?,
            device_sites: rows(4)
                .map(|r| Ok(DeviceSiteRow { device_id: r.col(0)?, site_id: r.col(1)? }))
                .collect::<Result<_, DbError>>()?,
            records: rows(5)
                .map(|r| {
                    Ok(RecordRow {
                        collection: r.col(0)?,
                        id: r.col(1)?,
                        org_id: r.col(2)?,
                        site_id: r.col(3)?,
                        state: r.col(4)?,
                        seq: r.col(5)?,
                        created_ms: r.col(6)?,
                        updated_ms: r.col(7)?,
                    })
                })
                .collect::<Result<_, DbError>>()?,
            conflicts: rows(6)
                .map(|r| {
                    Ok(ConflictDumpRow {
                        collection: r.col(0)?,
                        record_id: r.col(1)?,
                        org_id: r.col(2)?,
                        site_id: r.col(3)?,
                        field: r.col(4)?,
                        winner: r.col(5)?,
                        loser: r.col(6)?,
                        detected_ms: r.col(7)?,
                        resolved_ms: r.col(8)?,
                        resolution: r.col(9)?,
                    })
                })
                .collect::<Result<_, DbError>>()?,
            audit_log: rows(7).map(|r| audit_row(r)).collect::<Result<_, DbError>>()?,
            last_seq: out[8].first().map_or(Ok(0), |r| r.col(0))?,
            accounts: AccountsDump {
                users: rows(9)
                    .map(|r| {
                        Ok(UserDumpRow {
                            id: r.col(0)?,
                            org_id: r.col(1)?,
                            username: r.col(2)?,
                            password_hash: r.col(3)?,
                            role: r.col(4)?,
                            totp_secret: r.col(5)?,
                            totp_last_step: r.col(6)?,
                            created_ms: r.col(7)?,
                            disabled_ms: r.col(8)?,
                        })
                    })
                    .collect::<Result<_, DbError>>()?,
                user_sites: pairs(&out[10])?,
                device_users: pairs(&out[11])?,
                code_users: pairs(&out[12])?,
            },
            purged: rows(13).map(|r| purged_key(r)).collect::<Result<_, DbError>>()?,
        })
    }

    /// Loads an export into this database, which must hold no organisation yet. One transaction.
    pub async fn import(&self, dump: Dump) -> Result<(), DbError> {
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
        .await
    }
}

/// The statements that load `dump`, in an order the foreign keys accept.
fn import_statements(dump: &Dump) -> Result<Vec<Statement>, DbError> {
    let accounts = &dump.accounts;
    let device_user: HashMap<&str, &str> =
        accounts.device_users.iter().map(|(d, u)| (d.as_str(), u.as_str())).collect();
    let code_user: HashMap<&str, &str> = accounts.code_users.iter().map(|(c, u)| (c.as_str(), u.as_str())).collect();
    let user_of = |user: Option<&&str>| user.map(|u| uuid(u)).transpose();
    let mut out = Vec::new();
    out.extend(inserts(
        "orgs",
        "id, name, uic_scheme, created_ms",
        dump.orgs
            .iter()
            .map(|o| Ok(params![o.id, o.name.as_str(), json(&o.uic_scheme)?, o.created_ms]))
            .collect::<Result<_, DbError>>()?,
    ));
    out.extend(inserts(
        "sites",
        "id, org_id, name",
        dump.sites.iter().map(|s| params![s.id, s.org_id, s.name.as_str()]).collect(),
    ));
    out.extend(inserts(
        "users",
        "id, org_id, username, password_hash, role, totp_secret, totp_last_step, created_ms, disabled_ms",
        accounts
            .users
            .iter()
            .map(|u| {
                Ok(params![
                    uuid(&u.id)?,
                    uuid(&u.org_id)?,
                    u.username.as_str(),
                    u.password_hash.as_str(),
                    u.role.as_str(),
                    u.totp_secret.as_deref(),
                    u.totp_last_step,
                    u.created_ms,
                    u.disabled_ms
                ])
            })
            .collect::<Result<_, DbError>>()?,
    ));
    out.extend(inserts(
        "user_sites",
        "user_id, site_id",
        accounts.user_sites.iter().map(|(u, s)| Ok(params![uuid(u)?, uuid(s)?])).collect::<Result<_, DbError>>()?,
    ));
    out.extend(inserts(
        "enrollment_codes",
        "code_hash, org_id, site_id, created_ms, expires_ms, used_ms, device_id, user_id",
        dump.enrollment_codes
            .iter()
            .map(|c| {
                Ok(params![
                    c.code_hash.as_str(),
                    c.org_id,
                    c.site_id,
                    c.created_ms,
                    c.expires_ms,
                    c.used_ms,
                    c.device_id,
                    user_of(code_user.get(c.code_hash.as_str()))?
                ])
            })
            .collect::<Result<_, DbError>>()?,
    ));
    out.extend(inserts(
        "devices",
        "id, org_id, name, app_version, token_hash, enrolled_ms, last_seen_ms, token_expires_ms, revoked_ms, clock_skew_ms, \
         clamped_count, max_op_seq, user_id",
        dump.devices
            .iter()
            .map(|d| {
                Ok(params![
                    d.id,
                    d.org_id,
                    d.name.as_str(),
                    d.app_version.as_str(),
                    d.token_hash.as_str(),
                    d.enrolled_ms,
                    d.last_seen_ms,
                    d.token_expires_ms,
                    d.revoked_ms,
                    d.clock_skew_ms,
                    d.clamped_count,
                    d.max_op_seq,
                    user_of(device_user.get(d.id.to_string().as_str()))?
                ])
            })
            .collect::<Result<_, DbError>>()?,
    ));
    out.extend(inserts(
        "device_sites",
        "device_id, site_id",
        dump.device_sites.iter().map(|x| params![x.device_id, x.site_id]).collect(),
    ));
    out.extend(inserts(
        "records",
        "collection, id, org_id, site_id, state, deleted, seq, created_ms, updated_ms",
        dump.records
            .iter()
            .map(|r| {
                Ok(params![
                    r.collection.as_str(),
                    r.id,
                    r.org_id,
                    r.site_id,
                    json(&r.state)?,
                    r.state.deleted.is_some(),
                    r.seq,
                    r.created_ms,
                    r.updated_ms
                ])
            })
            .collect::<Result<_, DbError>>()?,
    ));
    out.extend(inserts(
        "conflicts",
        "collection, record_id, org_id, site_id, field, winner, loser, detected_ms, resolved_ms, resolution",
        dump.conflicts
            .iter()
            .map(|c| {
                Ok(params![
                    c.collection.as_str(),
                    c.record_id,
                    c.org_id,
                    c.site_id,
                    c.field.as_str(),
                    json(&c.winner)?,
                    json(&c.loser)?,
                    c.detected_ms,
                    c.resolved_ms,
                    c.resolution.as_deref()
                ])
            })
            .collect::<Result<_, DbError>>()?,
    ));
    out.extend(dump.audit_log.iter().map(crate::audit::insert_audit_row));
    out.extend(inserts(
        "purged_records",
        "collection, id, org_id, seq, purged_ms",
        dump.purged
            .iter()
            .map(|k| Ok(params![k.collection.as_str(), uuid(&k.id)?, uuid(&k.org_id)?, k.seq, k.purged_ms]))
            .collect::<Result<_, DbError>>()?,
    ));
    out.push(Statement::exec("UPDATE counters SET value = ? WHERE name = 'seq'", params![dump.last_seq]));
    Ok(out)
}
