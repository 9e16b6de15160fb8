//! Enrolled devices, for administration: list, revoke, rename, expire a token; and the server's
//! own device, which writes a reverted conflict back so every tablet receives it.

use crate::backend::Tx;
use crate::error::DbError;
use crate::sql::{RowExt, Statement};
use crate::sync::DeviceAuth;
use crate::{Store, params};
use outpost_core::uic::UicScheme;
use outpost_core::wire::SiteRef;
use outpost_core::{DeviceId, OrgId, SiteId};
use serde::Serialize;

/// The `app_version` shown for the server's own device (it is marked by `is_server`, never by this).
pub const SERVER_APP_VERSION: &str = "server";

/// A device, for administration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeviceInfo {
    pub id: DeviceId,
    pub name: String,
    /// The sites it is enrolled for, by name.
    pub sites: Vec<SiteRef>,
    pub app_version: String,
    pub enrolled_ms: i64,
    pub last_seen_ms: i64,
    pub revoked_ms: Option<i64>,
    pub token_expires_ms: i64,
    pub clock_skew_ms: i64,
    pub clamped_count: i64,
    /// Operations received from the device so far (its highest op_seq).
    pub max_op_seq: i64,
    /// The server's own device (it never syncs), marked by a column a client cannot set.
    pub server: bool,
    /// The worker it was enrolled for, by user name.
    pub worker: Option<String>,
    /// Changes it holds unsent, as it reported with its last pull.
    pub unsent_ops: i64,
}

impl DeviceInfo {
    /// Whether this is the server's own device (it never syncs).
    pub fn is_server(&self) -> bool {
        self.server
    }
}

fn not_found(device: DeviceId) -> DbError {
    DbError::NotFound(format!("no device {device}"))
}

impl Store {
    /// Every enrolled device, the server's own included, in enrolment order.
    pub async fn list_devices(&self) -> Result<Vec<DeviceInfo>, DbError> {
        let rows = self
            .query(Statement::query(
                "SELECT d.id, d.name, d.app_version, d.enrolled_ms, d.last_seen_ms, d.revoked_ms, d.token_expires_ms,
                        d.clock_skew_ms, d.clamped_count, d.max_op_seq, s.id, s.name, d.is_server, u.username, d.unsent_ops
                 FROM devices d LEFT JOIN device_sites ds ON ds.device_id = d.id LEFT JOIN sites s ON s.id = ds.site_id
                 LEFT JOIN users u ON u.id = d.user_id
                 ORDER BY d.enrolled_ms, d.id, s.name",
                vec![],
            ))
            .await?;
        let mut out: Vec<DeviceInfo> = Vec::new();
        for r in rows {
            let id: DeviceId = r.col(0)?;
            let site: Option<SiteId> = r.col(10)?;
            let site = match site {
                Some(site) => Some(SiteRef { id: site, name: r.col(11)? }),
                None => None,
            };
            if let Some(last) = out.last_mut().filter(|d| d.id == id) {
                last.sites.extend(site);
                continue;
            }
            out.push(DeviceInfo {
                id,
                name: r.col(1)?,
                app_version: r.col(2)?,
                enrolled_ms: r.col(3)?,
                last_seen_ms: r.col(4)?,
                revoked_ms: r.col(5)?,
                token_expires_ms: r.col(6)?,
                clock_skew_ms: r.col(7)?,
                clamped_count: r.col(8)?,
                max_op_seq: r.col(9)?,
                sites: site.into_iter().collect(),
                server: r.col(12)?,
                worker: r.col(13)?,
                unsent_ops: r.col(14)?,
            });
        }
        Ok(out)
    }

    /// Revokes a device: its token stops working and its next contact tells it to wipe itself.
    pub async fn revoke_device(&self, device: DeviceId, now_ms: u64) -> Result<(), DbError> {
        let changed = self
            .execute(vec![Statement::exec(
                "UPDATE devices SET revoked_ms = coalesce(revoked_ms, ?) WHERE id = ?",
                params![now_ms, device],
            )])
            .await?;
        if changed.first() == Some(&0) { Err(not_found(device)) } else { Ok(()) }
    }

    /// Renames a device.
    pub async fn rename_device(&self, device: DeviceId, name: &str) -> Result<(), DbError> {
        let changed = self
            .execute(vec![Statement::exec("UPDATE devices SET name = ? WHERE id = ?", params![name, device])])
            .await?;
        if changed.first() == Some(&0) { Err(not_found(device)) } else { Ok(()) }
    }

    /// Makes a device's token expire now (administration and tests).
    pub async fn expire_token(&self, device: DeviceId) -> Result<(), DbError> {
        self.execute(vec![Statement::exec("UPDATE devices SET token_expires_ms = 0 WHERE id = ?", params![device])])
            .await?;
        Ok(())
    }
}

/// The server's own device inside a write transaction, created on first use: enrolled for every
/// site, its token hash matching no token (nobody can sync as the server). The organisation's
/// row is locked first, so two transactions never create two.
pub(crate) async fn server_device(tx: &mut Tx, now_ms: u64) -> Result<DeviceAuth, DbError> {
    let d = tx.dialect();
    let orgs = tx
        .query(Statement::query(
            format!("SELECT id, uic_scheme, name, default_language, client_index FROM orgs{}", d.for_update()),
            vec![],
        ))
        .await?;
    let [org] = orgs.as_slice() else {
        return Err(DbError::Conflict(format!(
            "the server's device needs exactly one organisation, found {}",
            orgs.len()
        )));
    };
    let (org_id, scheme, org_name, default_language, client_index): (OrgId, String, String, String, bool) =
        (org.col(0)?, org.col(1)?, org.col(2)?, org.col(3)?, org.col(4)?);
    let find =
        || Statement::query("SELECT id FROM devices WHERE is_server = ? ORDER BY enrolled_ms LIMIT 1", params![true]);
    let mut found = tx.query(find()).await?;
    if found.is_empty() {
        let id = DeviceId(uuid::Uuid::now_v7());
        let token_hash = format!("server:{}", uuid::Uuid::now_v7().simple());
        tx.exec(Statement::exec(
            "INSERT INTO devices (id, org_id, name, app_version, token_hash, enrolled_ms, last_seen_ms, token_expires_ms, is_server)
             VALUES (?, ?, 'Dashboard (server)', ?, ?, ?, ?, 0, ?)",
            params![id, org_id, SERVER_APP_VERSION, token_hash, now_ms, now_ms, true],
        ))
        .await?;
        found = tx.query(find()).await?;
    }
    let device_id: DeviceId =
        found.first().ok_or_else(|| DbError::Corrupt("the server's device is missing".into()))?.col(0)?;
    let sites =
        tx.query(Statement::query("SELECT id FROM sites WHERE org_id = ? ORDER BY id", params![org_id])).await?;
    Ok(DeviceAuth {
        device_id,
        org_id,
        sites: sites.iter().map(|r| r.col(0)).collect::<Result<_, _>>()?,
        uic_scheme: serde_json::from_str::<UicScheme>(&scheme)?,
        org_name,
        default_language,
        client_index,
    })
}
