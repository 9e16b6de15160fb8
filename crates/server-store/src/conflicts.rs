//! Values that lost a concurrent edit, kept for coordinators to review, and their resolution:
//! accepted (the winner stays) or reverted (the loser is written back as a change of the
//! server's own device, which every tablet then pulls). A resolution is one transaction, so
//! two coordinators resolving the same conflict at once cannot both act on it.

use crate::backend::TxMode;
use crate::devices::server_device;
use crate::error::DbError;
use crate::sql::{RowExt, Sql, Statement};
use crate::sync::{load_records, push_in, replay_mark};
use crate::{Store, params};
use outpost_core::merge::{DELETED_FIELD, FieldState};
use outpost_core::wire::{Op, OpKind};
use outpost_core::{Collection, Hlc, RecordId, SiteId};
use std::collections::BTreeMap;

/// A conflict as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct ConflictRow {
    pub id: i64,
    pub collection: String,
    pub record_id: RecordId,
    pub site_id: Option<SiteId>,
    /// The field, or `_deleted` for an edit that met a deletion.
    pub field: String,
    pub winner: FieldState,
    pub loser: FieldState,
    pub detected_ms: i64,
    pub resolved_ms: Option<i64>,
    /// What was done, once resolved.
    pub resolution: Option<Resolution>,
}

/// Which conflicts to list.
#[derive(Clone, Debug, Default)]
pub struct ConflictFilter {
    pub id: Option<i64>,
    pub open_only: bool,
    /// Newest first, at most this many (all when `None`, oldest first).
    pub newest: Option<u32>,
    /// Only conflicts of these sites (`None`: every site and the organisation's own records).
    pub sites: Option<Vec<SiteId>>,
    /// Only conflicts numbered below this one (the next page of a newest-first list).
    pub before: Option<i64>,
}

/// What to do with a conflict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    Accept,
    Revert,
}

impl Resolution {
    /// How the `conflicts.resolution` column keeps it.
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Accept => "accepted",
            Resolution::Revert => "reverted",
        }
    }

    /// Reads the `conflicts.resolution` column.
    pub fn from_stored(text: &str) -> Option<Resolution> {
        [Resolution::Accept, Resolution::Revert].into_iter().find(|r| r.as_str() == text)
    }
}

/// Why a resolution was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResolveRefusal {
    #[error("no such conflict")]
    NotFound,
    #[error("this conflict was already resolved")]
    AlreadyResolved,
    #[error("an edit that met a deletion cannot be restored from here; re-enter it on a tablet")]
    Deletion,
    #[error("the record is gone")]
    RecordGone,
}

fn conflict_row(r: &[crate::SqlValue]) -> Result<ConflictRow, DbError> {
    Ok(ConflictRow {
        id: r.col(0)?,
        collection: r.col(1)?,
        record_id: r.col(2)?,
        site_id: r.col(3)?,
        field: r.col(4)?,
        winner: serde_json::from_str(&r.col::<String>(5)?)?,
        loser: serde_json::from_str(&r.col::<String>(6)?)?,
        detected_ms: r.col(7)?,
        resolved_ms: r.col(8)?,
        resolution: match r.col::<Option<String>>(9)? {
            None => None,
            Some(text) => Some(
                Resolution::from_stored(&text)
                    .ok_or_else(|| DbError::Corrupt(format!("a conflict resolved as {text:?}")))?,
            ),
        },
    })
}

const CONFLICT_COLUMNS: &str =
    "id, collection, record_id, site_id, field, winner, loser, detected_ms, resolved_ms, resolution";

fn conflicts_statement(filter: ConflictFilter) -> Statement {
    let mut q = Sql::new();
    let mut sql = format!("SELECT {CONFLICT_COLUMNS} FROM conflicts WHERE 1 = 1");
    if let Some(id) = filter.id {
        sql.push_str(&format!(" AND id = {}", q.bind(id)));
    }
    if filter.open_only {
        sql.push_str(" AND resolved_ms IS NULL");
    }
    if let Some(sites) = &filter.sites {
        if sites.is_empty() {
            sql.push_str(" AND 1 = 0");
        } else {
            sql.push_str(&format!(" AND site_id IN {}", q.list(sites.iter().copied())));
        }
    }
    if let Some(before) = filter.before {
        sql.push_str(&format!(" AND id < {}", q.bind(before)));
    }
    match filter.newest {
        Some(limit) => sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", q.bind(limit))),
        None => sql.push_str(" ORDER BY id"),
    }
    q.query(&sql)
}

impl Store {
    /// Conflicts detected so far.
    pub async fn conflicts(&self, filter: ConflictFilter) -> Result<Vec<ConflictRow>, DbError> {
        self.query(conflicts_statement(filter)).await?.iter().map(|r| conflict_row(r)).collect()
    }

    /// Resolves a conflict in one transaction: `Ok(Err(_))` when it is refused (nothing done).
    /// A revert writes the losing value back, stamped after the current one, by the server's
    /// own device, with that device's next `op_seq` taken under its row lock.
    pub async fn resolve_conflict(
        &self,
        id: i64,
        resolution: Resolution,
        now_ms: u64,
    ) -> Result<Result<ConflictRow, ResolveRefusal>, DbError> {
        self.transaction(TxMode::Write, move |tx| {
            Box::pin(async move {
                let d = tx.dialect();
                let rows = tx
                    .query(Statement::query(
                        format!("SELECT {CONFLICT_COLUMNS} FROM conflicts WHERE id = ?{}", d.for_update()),
                        params![id],
                    ))
                    .await?;
                let Some(conflict) = rows.first().map(|r| conflict_row(r)).transpose()? else {
                    return Ok(Err(ResolveRefusal::NotFound));
                };
                if conflict.resolved_ms.is_some() {
                    return Ok(Err(ResolveRefusal::AlreadyResolved));
                }
                if resolution == Resolution::Revert {
                    if conflict.field == DELETED_FIELD {
                        return Ok(Err(ResolveRefusal::Deletion));
                    }
                    let Some(collection) = Collection::from_name(&conflict.collection) else {
                        return Ok(Err(ResolveRefusal::RecordGone));
                    };
                    let device = server_device(tx, now_ms).await?;
                    let key = (collection, conflict.record_id);
                    let stored = load_records(tx, &[key]).await?;
                    let Some((current, site)) =
                        stored.get(&key).and_then(|r| Some((r.state.fields.get(&conflict.field)?.stamp, r.site_id?)))
                    else {
                        return Ok(Err(ResolveRefusal::RecordGone));
                    };
                    let applied = replay_mark(tx, device.device_id).await?;
                    let wall = now_ms.max(current.wall_ms);
                    let counter = if wall == current.wall_ms { current.counter.saturating_add(1) } else { 0 };
                    let op = Op {
                        op_seq: applied + 1,
                        collection: conflict.collection.clone(),
                        record_id: conflict.record_id,
                        site_id: site,
                        kind: OpKind::Update,
                        stamp: Hlc { wall_ms: wall, counter, device: device.device_id },
                        fields: [(conflict.field.clone(), conflict.loser.value.clone())].into_iter().collect(),
                        bases: BTreeMap::from([(conflict.field.clone(), current)]),
                    };
                    push_in(tx, &device, std::slice::from_ref(&op), now_ms).await?;
                }
                tx.exec(Statement::exec(
                    "UPDATE conflicts SET resolved_ms = ?, resolution = ? WHERE id = ? AND resolved_ms IS NULL",
                    params![now_ms, resolution.as_str(), id],
                ))
                .await?;
                let rows = tx.query(conflicts_statement(ConflictFilter { id: Some(id), ..Default::default() })).await?;
                let row = rows.first().ok_or_else(|| DbError::Corrupt("the conflict vanished".into()))?;
                Ok(Ok(conflict_row(row)?))
            })
        })
        .await
    }
}
