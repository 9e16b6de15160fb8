//! Tombstone clean-up, and what keeps it from ever bringing a deleted record back.
//!
//! A deleted record stays as a tombstone so every device learns of the deletion. After the
//! retention period (`--tombstone-retention-days`, 180 by default) the clean-up removes the
//! tombstone and keeps only the record's key in `purged_records`, with the sequence number of
//! its deletion. From then on:
//!
//! * a device whose cursor is older than the newest purged deletion cannot learn of it by an
//!   incremental pull: its pull is refused with `410 resync_required`, and the device pulls
//!   everything again and drops the records the server no longer has (see the device's
//!   `DeviceStore::begin_resync`);
//! * a change pushed for a purged record (from a device offline since before the deletion) is
//!   refused by name (`record_purged`) instead of re-creating it; the device keeps it in its
//!   rejected list, where people can see it.
//!
//! The purged keys move with an export/import ([`export_purged`], [`import_statements`]), so a
//! moved server still sends long-offline devices into a full resync.
//!
//! Written once for both backends over [`Storage::query`] and [`Storage::execute`].

use crate::db::sql::{Dialect, SqlValue, Statement};
use crate::db::{DbError, Storage};
use outpost_core::OrgId;
use outpost_core::wire::{ErrorDetail, Op};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Default days a tombstone is kept before the clean-up removes it.
pub const DEFAULT_RETENTION_DAYS: u64 = 180;

/// What one clean-up did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// Tombstones removed by this run.
    pub purged: u64,
}

fn deleted(d: Dialect) -> &'static str {
    match d {
        Dialect::Sqlite => "deleted = 1",
        Dialect::Postgres => "deleted",
    }
}

/// Removes every tombstone last changed before `deleted_before_ms` (server time), keeping its
/// key in `purged_records`. Reports' projection is brought up to date first, so no deletion is
/// lost to it. One transaction.
pub async fn purge_tombstones<S: Storage>(
    storage: &S,
    deleted_before_ms: u64,
    now_ms: u64,
) -> Result<PurgeReport, DbError> {
    crate::reports::refresh_projection(storage).await?;
    let d = storage.dialect();
    let keep = Statement::new(
        format!(
            "INSERT INTO purged_records (collection, id, org_id, seq, purged_ms)
             SELECT collection, id, org_id, seq, {now} FROM records WHERE {deleted} AND updated_ms < {before}
             ON CONFLICT (collection, id) DO NOTHING",
            now = d.p(1),
            deleted = deleted(d),
            before = d.p(2),
        ),
        vec![now_ms.into(), deleted_before_ms.into()],
    );
    let remove = Statement::new(
        format!("DELETE FROM records WHERE {} AND updated_ms < {}", deleted(d), d.p(1)),
        vec![deleted_before_ms.into()],
    );
    let counts = storage.execute(vec![keep, remove]).await?;
    let report = PurgeReport { purged: counts.get(1).copied().unwrap_or(0) };
    if report.purged > 0 {
        tracing::info!(purged = report.purged, "removed old tombstones");
    }
    Ok(report)
}

/// The sequence number of the newest purged deletion in `org`; a device that pulled up to a
/// cursor below it (and above 0) may have missed a deletion and must resync in full.
pub async fn horizon<S: Storage>(storage: &S, org: OrgId) -> Result<u64, DbError> {
    let d = storage.dialect();
    let rows = storage
        .query(Statement::new(
            format!("SELECT max(seq) FROM purged_records WHERE org_id = {}", d.p_uuid(1)),
            vec![org.to_string().into()],
        ))
        .await?;
    Ok(rows.first().and_then(|r| r.first()).and_then(SqlValue::as_i64).map_or(0, |s| s.max(0) as u64))
}

/// The operations of a batch that change a purged record, as per-operation errors.
///
/// A replay is refused too: an operation the server applied whose reply the device never got,
/// retried only after the record was deleted elsewhere and purged (longer than the retention
/// period). It then lands in the device's rejected list instead of being acknowledged; nothing
/// is lost, since it was applied before the deletion.
pub async fn refuse_purged<S: Storage>(storage: &S, org: OrgId, ops: &[Op]) -> Result<Vec<ErrorDetail>, DbError> {
    if ops.is_empty() || horizon(storage, org).await? == 0 {
        return Ok(vec![]);
    }
    let d = storage.dialect();
    let mut purged = BTreeSet::new();
    // One query per chunk of ids; the list is bound, never spliced.
    for chunk in ops.chunks(200) {
        let marks: Vec<String> = (0..chunk.len()).map(|i| d.p_uuid(i + 2)).collect();
        let mut params: Vec<SqlValue> = vec![org.to_string().into()];
        params.extend(chunk.iter().map(|op| SqlValue::from(op.record_id.to_string())));
        let rows = storage
            .query(Statement::new(
                format!(
                    "SELECT collection, {} FROM purged_records WHERE org_id = {} AND id IN ({})",
                    d.text("id"),
                    d.p_uuid(1),
                    marks.join(", ")
                ),
                params,
            ))
            .await?;
        for row in rows {
            if let (Some(collection), Some(id)) =
                (row.first().and_then(SqlValue::as_str), row.get(1).and_then(SqlValue::as_str))
            {
                purged.insert((collection.to_string(), id.to_string()));
            }
        }
    }
    Ok(ops
        .iter()
        .enumerate()
        .filter(|(_, op)| purged.contains(&(op.collection.clone(), op.record_id.to_string())))
        .map(|(index, op)| ErrorDetail {
            index,
            op_seq: Some(op.op_seq),
            field: None,
            code: "record_purged".into(),
            message: "this record was deleted long ago and removed from the server; the change was set aside".into(),
        })
        .collect())
}

/// One purged record's key, as an export carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgedKey {
    pub collection: String,
    pub id: String,
    pub org_id: String,
    pub seq: u64,
    pub purged_ms: u64,
}

/// Every purged key, for an export.
pub async fn export_purged<S: Storage>(storage: &S) -> Result<Vec<PurgedKey>, DbError> {
    let d = storage.dialect();
    let rows = storage
        .query(Statement::new(
            format!(
                "SELECT collection, {}, {}, seq, purged_ms FROM purged_records ORDER BY collection, id",
                d.text("id"),
                d.text("org_id")
            ),
            vec![],
        ))
        .await?;
    rows.iter()
        .map(|r| {
            let text = |i: usize| r.get(i).and_then(SqlValue::as_str).map(str::to_string);
            let int = |i: usize| r.get(i).and_then(SqlValue::as_i64).map(|v| v.max(0) as u64);
            match (text(0), text(1), text(2), int(3), int(4)) {
                (Some(collection), Some(id), Some(org_id), Some(seq), Some(purged_ms)) => {
                    Ok(PurgedKey { collection, id, org_id, seq, purged_ms })
                }
                _ => Err(DbError::Corrupt("unreadable purged record key".into())),
            }
        })
        .collect()
}

/// Statements that load purged keys, run inside an import's transaction.
pub fn import_statements(d: Dialect, keys: &[PurgedKey]) -> Vec<Statement> {
    keys.iter()
        .map(|k| {
            Statement::new(
                format!(
                    "INSERT INTO purged_records (collection, id, org_id, seq, purged_ms) VALUES ({}, {}, {}, {}, {})",
                    d.p(1),
                    d.p_uuid(2),
                    d.p_uuid(3),
                    d.p(4),
                    d.p(5)
                ),
                vec![
                    k.collection.clone().into(),
                    k.id.clone().into(),
                    k.org_id.clone().into(),
                    k.seq.into(),
                    k.purged_ms.into(),
                ],
            )
        })
        .collect()
}
