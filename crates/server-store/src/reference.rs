//! Reference data the server authors: sites, the commodity catalogue and kit templates (forms
//! have their own module but change the same way). Each is a record written by the server's
//! device, so every tablet of the organisation pulls it. A change is stamped after every field
//! of the record, so it wins on every tablet whatever their clocks, and takes a new sequence
//! number, so tablets that already hold the record pull it again.

use crate::backend::{Tx, TxMode};
use crate::error::DbError;
use crate::records::{SERVER_DEVICE, ServerRecord, only_org, reference_state, server_record_statements};
use crate::sql::{RowExt, Statement};
use crate::sync::take_seqs;
use crate::{Store, params};
use outpost_core::merge::{self, Change, ChangeKind, FieldWrite, RecordState};
use outpost_core::wire::SiteRef;
use outpost_core::{Collection, Hlc, OrgId, RecordId, SiteId};
use serde_json::{Map, Value};

/// A reference record as the administration pages see it: its id, site and current fields.
#[derive(Clone, Debug, PartialEq)]
pub struct ReferenceRecord {
    pub id: RecordId,
    pub site_id: Option<SiteId>,
    pub fields: Map<String, Value>,
}

/// Fields whose values must differ between the records of a collection (compared without
/// case and surrounding spaces): a second commodity with the same code or name is refused.
pub type UniqueFields = &'static [&'static str];

fn normalised(value: &Value) -> Option<String> {
    value.as_str().map(|s| s.trim().to_lowercase())
}

/// Refuses `fields` when another record of the collection (not `except`) holds one of the
/// `unique` values already.
async fn check_unique(
    tx: &mut Tx,
    collection: Collection,
    except: Option<RecordId>,
    fields: &Map<String, Value>,
    unique: UniqueFields,
) -> Result<(), DbError> {
    if unique.iter().all(|f| !fields.contains_key(*f)) {
        return Ok(());
    }
    let rows = tx
        .query(Statement::query("SELECT id, state FROM records WHERE collection = ?", params![collection.name()]))
        .await?;
    for row in &rows {
        let id: RecordId = row.col(0)?;
        if Some(id) == except {
            continue;
        }
        let state: RecordState = row.col(1)?;
        let values = state.values();
        for field in unique {
            let (Some(new), Some(old)) =
                (fields.get(*field).and_then(normalised), values.get(*field).and_then(normalised))
            else {
                continue;
            };
            if new == old {
                return Err(DbError::Conflict(format!(
                    "another {} already has the {field} {new:?}",
                    collection.name()
                )));
            }
        }
    }
    Ok(())
}

/// The stamp of a change to `state` at `now_ms`: after every stamp the record holds.
fn stamp_after(state: &RecordState, now_ms: u64) -> Hlc {
    let last = state.max_stamp().unwrap_or(Hlc::new(0, 0, SERVER_DEVICE));
    let wall = now_ms.max(last.wall_ms);
    let counter = if wall == last.wall_ms { last.counter.saturating_add(1) } else { 0 };
    Hlc::new(wall, counter, SERVER_DEVICE)
}

/// Changes `fields` of reference record `id` inside `tx` (a `null` clears an optional field);
/// returns the record's fields before. Nothing is written when nothing changes.
pub(crate) async fn change_reference_in(
    tx: &mut Tx,
    collection: Collection,
    id: RecordId,
    fields: Map<String, Value>,
    unique: UniqueFields,
    now_ms: u64,
) -> Result<Map<String, Value>, DbError> {
    let rows = tx
        .query(Statement::query(
            "SELECT org_id, site_id, state, deleted FROM records WHERE collection = ? AND id = ?",
            params![collection.name(), id],
        ))
        .await?;
    let Some(row) = rows.first() else {
        return Err(DbError::NotFound(format!("no {} record {id}", collection.name())));
    };
    let (org, site_id, state, deleted): (OrgId, Option<SiteId>, RecordState, bool) =
        (row.col(0)?, row.col(1)?, row.col(2)?, row.col(3)?);
    if deleted {
        return Err(DbError::NotFound(format!("{} record {id} was deleted", collection.name())));
    }
    let before = state.values();
    let changed: Map<String, Value> =
        fields.into_iter().filter(|(k, v)| before.get(k).unwrap_or(&Value::Null) != v).collect();
    if changed.is_empty() {
        return Ok(before);
    }
    check_unique(tx, collection, Some(id), &changed, unique).await?;
    let writes = changed.into_iter().map(|(k, value)| (k, FieldWrite { value, base: None })).collect();
    let change = Change { stamp: stamp_after(&state, now_ms), kind: ChangeKind::Update(writes) };
    let merged = merge::apply_reference(Some(&state), &change);
    let record = ServerRecord { collection, id, site_id, state: merged.state };
    let first = take_seqs(tx, 1).await?;
    tx.run(server_record_statements(org, std::slice::from_ref(&record), first, now_ms)?).await?;
    Ok(before)
}

impl Store {
    /// Every record of a reference collection (not deleted), in id order (creation order).
    pub async fn reference_records(&self, collection: Collection) -> Result<Vec<ReferenceRecord>, DbError> {
        let rows = self
            .query(Statement::query(
                "SELECT id, site_id, state FROM records WHERE collection = ? AND deleted = ? ORDER BY id",
                params![collection.name(), false],
            ))
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ReferenceRecord { id: r.col(0)?, site_id: r.col(1)?, fields: r.col::<RecordState>(2)?.values() })
            })
            .collect()
    }

    /// Creates a reference record of the organisation (the only one on this server) with
    /// `fields`, refused when a `unique` field repeats another record's.
    pub async fn create_reference(
        &self,
        collection: Collection,
        fields: Map<String, Value>,
        unique: UniqueFields,
        now_ms: u64,
    ) -> Result<RecordId, DbError> {
        self.transaction(TxMode::Write, move |tx| {
            Box::pin(async move {
                let org = only_org(tx, collection.name()).await?;
                check_unique(tx, collection, None, &fields, unique).await?;
                let id = RecordId(uuid::Uuid::now_v7());
                let state = reference_state(fields, Hlc::new(now_ms, 0, SERVER_DEVICE));
                let record = ServerRecord { collection, id, site_id: None, state };
                let first = take_seqs(tx, 1).await?;
                tx.run(server_record_statements(org, std::slice::from_ref(&record), first, now_ms)?).await?;
                Ok(id)
            })
        })
        .await
    }

    /// Changes fields of a reference record; returns its fields before the change.
    pub async fn change_reference(
        &self,
        collection: Collection,
        id: RecordId,
        fields: Map<String, Value>,
        unique: UniqueFields,
        now_ms: u64,
    ) -> Result<Map<String, Value>, DbError> {
        self.transaction(TxMode::Write, move |tx| {
            Box::pin(async move { change_reference_in(tx, collection, id, fields, unique, now_ms).await })
        })
        .await
    }

    /// Changes a site: its name (in the sites table and its record, refused when another site
    /// has it) and other fields of its record; returns the record's fields before.
    pub async fn change_site(
        &self,
        site: SiteId,
        fields: Map<String, Value>,
        now_ms: u64,
    ) -> Result<(SiteRef, Map<String, Value>), DbError> {
        self.transaction(TxMode::Write, move |tx| {
            Box::pin(async move {
                let rows = tx.query(Statement::query("SELECT name FROM sites WHERE id = ?", params![site])).await?;
                let Some(row) = rows.first() else {
                    return Err(DbError::NotFound(format!("no site {site}")));
                };
                let mut name: String = row.col(0)?;
                if let Some(new) = fields.get("name").and_then(Value::as_str).filter(|n| *n != name) {
                    match tx.exec(Statement::exec("UPDATE sites SET name = ? WHERE id = ?", params![new, site])).await {
                        Err(DbError::Unique(_)) => {
                            return Err(DbError::Conflict(format!("a site named {new:?} already exists")));
                        }
                        other => other?,
                    };
                    name = new.to_string();
                }
                let before = change_reference_in(tx, Collection::Sites, RecordId(site.0), fields, &[], now_ms).await?;
                Ok((SiteRef { id: site, name }, before))
            })
        })
        .await
    }
}
