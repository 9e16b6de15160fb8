//! Records as stored: one record's state, every record (convergence checks), sites, and the
//! reference data the server writes itself (sites, catalogue, kits), stamped by the server's
//! device so tablets merge it like any change.

use crate::backend::{Tx, TxMode};
use crate::error::DbError;
use crate::sql::{RowExt, Statement};
use crate::sync::{RecordWrite, take_seqs, write_records};
use crate::{Store, params};
use outpost_core::merge::{self, Change, ChangeKind, FieldWrite, RecordState};
use outpost_core::records::Site;
use outpost_core::wire::SiteRef;
use outpost_core::{Collection, DeviceId, Hlc, OrgId, RecordId, SiteId};
use serde::Serialize;

/// The device id that stamps changes made by the server itself (seed and reference data).
pub const SERVER_DEVICE: DeviceId = DeviceId::nil();

/// One record as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotRow {
    pub collection: String,
    pub id: RecordId,
    pub site_id: Option<SiteId>,
    pub state: RecordState,
}

/// A site, for administration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SiteInfo {
    pub id: SiteId,
    pub name: String,
    pub active_devices: i64,
    /// Estimated number of people who inject drugs in the site's area (from its record).
    pub pwid_estimate: Option<i64>,
    /// Estimated size of its other key populations.
    pub population_estimates: std::collections::BTreeMap<outpost_core::records::KeyGroup, u32>,
    /// Takes no new tablets or staff; still in reports.
    pub retired: bool,
}

/// A record the server writes itself.
#[derive(Clone, Debug)]
pub struct ServerRecord {
    pub collection: Collection,
    pub id: RecordId,
    pub site_id: Option<SiteId>,
    pub state: RecordState,
}

/// A reference record's state: every field written at `stamp` by the server's device.
pub fn reference_state(fields: serde_json::Map<String, serde_json::Value>, stamp: Hlc) -> RecordState {
    let writes = fields.into_iter().map(|(k, v)| (k, FieldWrite { value: v, base: None })).collect();
    merge::apply_reference(None, &Change { stamp, kind: ChangeKind::Create(writes) }).state
}

/// The statements that store server-written records with sequence numbers from `first_seq`.
pub(crate) fn server_record_statements(
    org: OrgId,
    records: &[ServerRecord],
    first_seq: u64,
    now_ms: u64,
) -> Result<Vec<Statement>, DbError> {
    let writes: Vec<RecordWrite<'_>> = records
        .iter()
        .zip(first_seq..)
        .map(|(r, seq)| RecordWrite {
            collection: r.collection.name(),
            id: r.id,
            site_id: r.site_id,
            state: &r.state,
            seq,
        })
        .collect();
    write_records(org, &writes, now_ms)
}

/// Why `what` (sites, accounts, settings) cannot be had when the server holds `count`
/// organisations instead of one.
pub(crate) fn org_count_problem(count: usize, what: &str) -> String {
    if count == 0 {
        format!("this server has no organisation yet, and {what} need one: create it with `outpost-server org create`")
    } else {
        format!("this server has {count} organisations; {what} need exactly one")
    }
}

/// The one organisation of this server, which `what` (sites, forms) needs.
pub(crate) async fn only_org(tx: &mut Tx, what: &str) -> Result<OrgId, DbError> {
    let orgs = tx.query(Statement::query("SELECT id FROM orgs", vec![])).await?;
    match orgs.as_slice() {
        [org] => org.col(0),
        other => Err(DbError::NotFound(org_count_problem(other.len(), what))),
    }
}

impl Store {
    /// One record's merged state.
    pub async fn record(&self, collection: &str, id: RecordId) -> Result<Option<RecordState>, DbError> {
        let rows = self
            .query(Statement::query(
                "SELECT state FROM records WHERE collection = ? AND id = ?",
                params![collection, id],
            ))
            .await?;
        rows.first().map(|r| r.col(0)).transpose()
    }

    /// Every record with its site, ordered by collection and id (convergence checks).
    pub async fn snapshot(&self) -> Result<Vec<SnapshotRow>, DbError> {
        let rows = self
            .query(Statement::query(
                "SELECT collection, id, site_id, state FROM records ORDER BY collection, id",
                vec![],
            ))
            .await?;
        rows.iter()
            .map(|r| Ok(SnapshotRow { collection: r.col(0)?, id: r.col(1)?, site_id: r.col(2)?, state: r.col(3)? }))
            .collect()
    }

    /// Every site with its record's fields and how many active devices it has, by name.
    pub async fn list_sites(&self) -> Result<Vec<SiteInfo>, DbError> {
        let rows = self
            .query(Statement::query(
                "SELECT s.id, s.name,
                        (SELECT count(*) FROM device_sites ds JOIN devices d ON d.id = ds.device_id
                         WHERE ds.site_id = s.id AND d.revoked_ms IS NULL),
                        r.state
                 FROM sites s LEFT JOIN records r ON r.collection = 'sites' AND r.id = s.id ORDER BY s.name",
                vec![],
            ))
            .await?;
        rows.iter()
            .map(|r| {
                let name: String = r.col(1)?;
                let state: Option<RecordState> = r.col(3)?;
                let mut fields = state.map(|s| s.values()).unwrap_or_default();
                fields.insert("name".into(), name.clone().into());
                let site: Site = serde_json::from_value(serde_json::Value::Object(fields))?;
                Ok(SiteInfo {
                    id: r.col(0)?,
                    name,
                    active_devices: r.col(2)?,
                    pwid_estimate: site.pwid_estimate.map(i64::from),
                    population_estimates: site.population_estimates,
                    retired: site.retired,
                })
            })
            .collect()
    }

    /// Adds a site to the organisation (the only one on this server) and its reference record.
    /// `fields` are the record's (`name` required).
    pub async fn add_site(
        &self,
        fields: serde_json::Map<String, serde_json::Value>,
        now_ms: u64,
    ) -> Result<SiteRef, DbError> {
        let name = fields.get("name").and_then(serde_json::Value::as_str).unwrap_or_default().to_string();
        if name.is_empty() {
            return Err(DbError::Conflict("a site needs a name".into()));
        }
        self.transaction(TxMode::Write, move |tx| {
            Box::pin(async move {
                let org = only_org(tx, "sites").await?;
                let site = SiteId(uuid::Uuid::now_v7());
                match tx
                    .exec(Statement::exec(
                        "INSERT INTO sites (id, org_id, name) VALUES (?, ?, ?)",
                        params![site, org, name.as_str()],
                    ))
                    .await
                {
                    Err(DbError::Unique(_)) => {
                        return Err(DbError::Conflict(format!("a site named {name:?} already exists")));
                    }
                    other => other?,
                };
                let record = ServerRecord {
                    collection: Collection::Sites,
                    id: RecordId(site.0),
                    site_id: Some(site),
                    state: reference_state(fields, Hlc::new(now_ms, 0, SERVER_DEVICE)),
                };
                let first = take_seqs(tx, 1).await?;
                tx.run(server_record_statements(org, std::slice::from_ref(&record), first, now_ms)?).await?;
                Ok(SiteRef { id: site, name })
            })
        })
        .await
    }

    /// Checks the database: SQLite's own integrity check, and on both backends that every
    /// record's sequence number is unique and not above the counter.
    pub async fn check(&self) -> Result<(), DbError> {
        if self.dialect() == crate::Dialect::Sqlite {
            let rows = self.query(Statement::query("PRAGMA integrity_check", vec![])).await?;
            let result: String = rows.first().map(|r| r.col(0)).transpose()?.unwrap_or_default();
            if result != "ok" {
                return Err(DbError::Corrupt(result));
            }
        }
        let rows = self
            .query(Statement::query(
                "SELECT (SELECT count(*) - count(DISTINCT seq) FROM records),
                        (SELECT count(*) FROM records WHERE seq > (SELECT value FROM counters WHERE name = 'seq'))",
                vec![],
            ))
            .await?;
        let row = rows.first().ok_or_else(|| DbError::Corrupt("the check returned nothing".into()))?;
        let (duplicates, beyond): (i64, i64) = (row.col(0)?, row.col(1)?);
        if duplicates != 0 || beyond != 0 {
            return Err(DbError::Corrupt(format!("{duplicates} duplicate and {beyond} out-of-range sequence numbers")));
        }
        Ok(())
    }
}
