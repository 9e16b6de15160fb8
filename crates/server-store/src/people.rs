//! One person, several client records: the merges a coordinator makes and takes back (each a
//! `client_merges` record written by the server's device for the whole organisation, so every
//! tablet pulls it whatever sites it serves), the pairs judged to be two people, and what the
//! duplicate review reads. Who is who follows from the merge records by core's rule
//! ([`outpost_core::people`]); the reports read it from `report_people` (see `projection`).

use crate::backend::{Tx, TxMode};
use crate::error::DbError;
use crate::records::{SERVER_DEVICE, ServerRecord, reference_state, server_record_statements};
use crate::sql::{RowExt, Sql, Statement};
use crate::sync::take_seqs;
use crate::{Store, params};
use outpost_core::people::{MergeRecord, People};
use outpost_core::records::ClientMerge;
use outpost_core::{Collection, Hlc, OrgId, RecordId, SiteId};
use serde_json::{Map, Value, json};

/// A merge record with when it was made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredMerge {
    pub record: MergeRecord,
    pub created_ms: i64,
}

/// A client record as the duplicate review compares it.
#[derive(Clone, Debug, PartialEq)]
pub struct ReviewClient {
    pub id: RecordId,
    pub site_id: Option<SiteId>,
    pub uic: String,
    pub gender: Option<String>,
    pub birth_year: Option<i64>,
    pub first_seen_at: Option<String>,
}

/// A client's contacts at one site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteVisits {
    pub client_id: RecordId,
    pub site_id: SiteId,
    pub contacts: i64,
    pub last_at: Option<String>,
}

/// Why a merge or an undo was refused; nothing was written.
fn conflict(message: impl Into<String>) -> DbError {
    DbError::Conflict(message.into())
}

/// The merge records of `org` (live ones), in the order they were made.
pub(crate) async fn merge_records(tx: &mut Tx, org: OrgId) -> Result<Vec<StoredMerge>, DbError> {
    let rows = tx
        .query(Statement::query(
            "SELECT id, state, created_ms FROM records
             WHERE collection = 'client_merges' AND org_id = ? AND NOT deleted ORDER BY id",
            params![org],
        ))
        .await?;
    rows.iter()
        .map(|row| {
            let id: RecordId = row.col(0)?;
            let state: outpost_core::RecordState = row.col(1)?;
            let merge: ClientMerge = serde_json::from_value(Value::Object(state.values()))?;
            Ok(StoredMerge { record: MergeRecord::new(id, &merge), created_ms: row.col(2)? })
        })
        .collect()
}

/// The live client records among `ids`, with their sites.
async fn live_clients(tx: &mut Tx, org: OrgId, ids: &[RecordId]) -> Result<Vec<(RecordId, Option<SiteId>)>, DbError> {
    let mut q = Sql::new();
    let list = q.list(ids.iter().copied());
    let sql = format!(
        "SELECT id, site_id FROM records WHERE collection = 'clients' AND org_id = {org} AND NOT deleted AND id IN {list}",
        org = q.bind(org),
    );
    tx.query(q.query(&sql)).await?.iter().map(|r| Ok((r.col(0)?, r.col(1)?))).collect()
}

/// Writes one merge record of the organisation, stamped by the server's device.
async fn write_merge(tx: &mut Tx, org: OrgId, fields: Map<String, Value>, now_ms: u64) -> Result<RecordId, DbError> {
    let id = RecordId(uuid::Uuid::now_v7());
    let state = reference_state(fields, Hlc::new(now_ms, 0, SERVER_DEVICE));
    let record = ServerRecord { collection: Collection::ClientMerges, id, site_id: None, state };
    let first = take_seqs(tx, 1).await?;
    tx.run(server_record_statements(org, std::slice::from_ref(&record), first, now_ms)?).await?;
    Ok(id)
}

fn fields(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

impl Store {
    /// Every merge record of `org`, undoes included, in the order they were made.
    pub async fn client_merges(&self, org: OrgId) -> Result<Vec<StoredMerge>, DbError> {
        self.transaction(TxMode::Read, move |tx| Box::pin(async move { merge_records(tx, org).await })).await
    }

    /// Who is who in `org` (core's rule over its merge records).
    pub async fn people(&self, org: OrgId) -> Result<People, DbError> {
        let merges = self.client_merges(org).await?;
        Ok(People::resolve(&merges.into_iter().map(|m| m.record).collect::<Vec<_>>()))
    }

    /// Merges client record `from` into `into` (both live clients of `org`), in one
    /// transaction with the checks: refused (`Conflict`) when they are one person already,
    /// or when either was merged into another record (the one kept is the one to merge).
    /// Returns the merge record's id.
    pub async fn merge_clients(
        &self,
        org: OrgId,
        from: RecordId,
        into: RecordId,
        now_ms: u64,
    ) -> Result<RecordId, DbError> {
        self.transaction(TxMode::Write, move |tx| {
            Box::pin(async move {
                // The organisation's row, locked: merges of one organisation take turns, so two
                // coordinators cannot merge a record two ways at once.
                let d = tx.dialect();
                tx.query(Statement::query(format!("SELECT id FROM orgs WHERE id = ?{}", d.for_update()), params![org]))
                    .await?;
                let found = live_clients(tx, org, &[from, into]).await?;
                for id in [from, into] {
                    if !found.iter().any(|(c, _)| *c == id) {
                        return Err(DbError::NotFound(format!("no client record {id}")));
                    }
                }
                let merges = merge_records(tx, org).await?;
                let people = People::resolve(&merges.into_iter().map(|m| m.record).collect::<Vec<_>>());
                if people.person_of(from) == people.person_of(into) {
                    return Err(conflict("these two records are one person already"));
                }
                for (id, side) in [(from, "the record to merge"), (into, "the record to keep")] {
                    if people.is_merged_away(id) {
                        return Err(conflict(format!(
                            "{side} was merged into {} already: merge that record instead",
                            people.person_of(id)
                        )));
                    }
                }
                let fields = fields(json!({"from_client": from.to_string(), "into_client": into.to_string()}));
                write_merge(tx, org, fields, now_ms).await
            })
        })
        .await
    }

    /// Takes merge `merge` back with a record naming it (`undoes`); returns the merge taken
    /// back. Refused when it is no merge of `org`, is itself an undo, or was undone already.
    pub async fn undo_merge(&self, org: OrgId, merge: RecordId, now_ms: u64) -> Result<MergeRecord, DbError> {
        self.transaction(TxMode::Write, move |tx| {
            Box::pin(async move {
                let d = tx.dialect();
                tx.query(Statement::query(format!("SELECT id FROM orgs WHERE id = ?{}", d.for_update()), params![org]))
                    .await?;
                let merges = merge_records(tx, org).await?;
                let Some(original) = merges.iter().find(|m| m.record.id == merge).map(|m| m.record.clone()) else {
                    return Err(DbError::NotFound(format!("no client merge {merge}")));
                };
                if original.undoes.is_some() {
                    return Err(conflict("this record takes a merge back; it cannot be undone itself (merge again)"));
                }
                if merges.iter().any(|m| m.record.undoes == Some(merge)) {
                    return Err(conflict("this merge was undone already"));
                }
                let fields = fields(json!({
                    "from_client": original.from_client.to_string(),
                    "into_client": original.into_client.to_string(),
                    "undoes": merge.to_string(),
                }));
                write_merge(tx, org, fields, now_ms).await?;
                Ok(original)
            })
        })
        .await
    }

    /// Every live client record of `org`, for the duplicate review.
    pub async fn review_clients(&self, org: OrgId) -> Result<Vec<ReviewClient>, DbError> {
        let d = self.dialect();
        let sql = format!(
            "SELECT r.id, r.site_id, {uic}, {gender}, {year}, {first} FROM records r
             WHERE r.collection = 'clients' AND r.org_id = ? AND NOT r.deleted ORDER BY r.id",
            uic = d.field("r", "uic"),
            gender = d.field("r", "gender"),
            year = d.field_int("r", "birth_year"),
            first = d.field("r", "first_seen_at"),
        );
        let rows = self.query(Statement::query(sql, params![org])).await?;
        rows.iter()
            .map(|r| {
                Ok(ReviewClient {
                    id: r.col(0)?,
                    site_id: r.col(1)?,
                    uic: r.col::<Option<String>>(2)?.unwrap_or_default(),
                    gender: r.col(3)?,
                    birth_year: r.col(4)?,
                    first_seen_at: r.col(5)?,
                })
            })
            .collect()
    }

    /// The contacts of each of `clients` per site, from the reports' projection (bring it up
    /// to date first).
    pub async fn site_visits(&self, clients: &[RecordId]) -> Result<Vec<SiteVisits>, DbError> {
        if clients.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Sql::new();
        let list = q.list(clients.iter().map(ToString::to_string));
        let sql = format!(
            "SELECT client_id, site_id, COUNT(*), MAX(occurred_at) FROM report_contacts
             WHERE NOT deleted AND client_id IN {list} AND site_id IS NOT NULL GROUP BY client_id, site_id"
        );
        let rows = self.query(q.query(&sql)).await?;
        rows.iter()
            .filter_map(|r| {
                let client = r.col::<String>(0).ok()?.parse().ok()?;
                let site = r.col::<String>(1).ok()?.parse().ok()?;
                Some(Ok(SiteVisits {
                    client_id: client,
                    site_id: site,
                    contacts: r.col(2).ok()?,
                    last_at: r.col(3).ok()?,
                }))
            })
            .collect()
    }

    /// Notes that `a` and `b` are two people, so the review stops offering the pair.
    pub async fn dismiss_pair(
        &self,
        org: OrgId,
        a: RecordId,
        b: RecordId,
        by: &str,
        now_ms: u64,
    ) -> Result<(), DbError> {
        let (first, second) = if a < b { (a, b) } else { (b, a) };
        let by = by.to_string();
        self.transaction(TxMode::Write, move |tx| {
            Box::pin(async move {
                let found = live_clients(tx, org, &[first, second]).await?;
                if found.len() != 2 {
                    return Err(DbError::NotFound("both records must be live clients of the organisation".into()));
                }
                tx.exec(Statement::exec(
                    "DELETE FROM duplicate_dismissals WHERE client_a = ? AND client_b = ?",
                    params![first, second],
                ))
                .await?;
                tx.exec(Statement::exec(
                    "INSERT INTO duplicate_dismissals (org_id, client_a, client_b, dismissed_by, dismissed_ms)
                     VALUES (?, ?, ?, ?, ?)",
                    params![org, first, second, by, now_ms],
                ))
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// The pairs of `org` judged to be two people (smaller id first).
    pub async fn dismissed_pairs(&self, org: OrgId) -> Result<Vec<(RecordId, RecordId)>, DbError> {
        let rows = self
            .query(Statement::query(
                "SELECT client_a, client_b FROM duplicate_dismissals WHERE org_id = ?",
                params![org],
            ))
            .await?;
        rows.iter().map(|r| Ok((r.col(0)?, r.col(1)?))).collect()
    }
}
