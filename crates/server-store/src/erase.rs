//! Erasing a client on request: every record about them is emptied at once, in one
//! transaction, and every tablet empties it at its next sync.
//!
//! A client's records are the client record (and any record of the same person joined to it by
//! a client merge), their contacts, and whatever hangs on those contacts or names the client
//! (distribution lines, returns, referrals, tests, overdose reports, the merges themselves).
//! Each becomes a tombstone written by the server's own device: no field left (core's merge
//! rule), a new sequence number, so tablets pull it like any deletion and drop the record's
//! content; this holds for append-only records too, which tablets cannot delete themselves.
//! Their conflict entries and report rows go at once; the tombstones themselves (keys and a
//! stamp) go with the usual clean-up ([`crate::purge`]). An edit a tablet made offline to one of
//! these records meets the tombstone and is not stored (it waits in the conflict log, which the
//! clean-up empties).
//!
//! Stock stays as it was: the distribution lines erased took items from the shelves, so for
//! each site, commodity and day they fall on, a count correction of the server's device takes
//! the same quantity away (tablets count stock by the same rule and pull it too). The
//! correction names no contact and no client.
//!
//! The retention period ([`Store::retention_candidates`]) erases by the same path: people with
//! no contact since the cut-off (with everyone merged with them), contacts before it, and
//! survey responses before it.

use crate::backend::{Tx, TxMode};
use crate::devices::server_device;
use crate::error::DbError;
use crate::records::{ServerRecord, reference_state, server_record_statements};
use crate::sql::{RowExt, Sql, SqlValue, Statement};
use crate::sync::take_seqs;
use crate::{Store, params};
use outpost_core::merge::RecordState;
use outpost_core::{Collection, Hlc, OrgId, RecordId, SiteId};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

/// Collections whose records hang on a contact (`contact_id`) or name a client (`client_id`).
const CHILDREN: [&str; 5] = ["distribution_lines", "sharps_returns", "referrals", "test_results", "overdose_reports"];

/// How far client merges are followed (a chain of merges of one person is short).
const MERGE_DEPTH: usize = 8;

/// What an erasure removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Erased {
    /// The client records (one person may have been registered more than once).
    pub clients: Vec<RecordId>,
    /// Every record emptied, the clients included.
    pub records: usize,
    /// Count corrections written so that stock levels stay as they were.
    pub stock_corrections: usize,
}

/// What to erase: people (with everything about them), and contacts and other records by
/// themselves (with what hangs on the contacts).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErasureTarget {
    pub clients: Vec<RecordId>,
    pub contacts: Vec<RecordId>,
    /// Records with nothing hanging on them (survey responses), by collection.
    pub others: Vec<(Collection, RecordId)>,
}

impl ErasureTarget {
    pub fn is_empty(&self) -> bool {
        self.clients.is_empty() && self.contacts.is_empty() && self.others.is_empty()
    }
}

/// What the retention period finds to erase, at most `limit` of each kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RetentionCandidates {
    /// Client records of people with no contact since the cut-off and first seen before it
    /// (kept while anyone merged with them was seen since).
    pub clients: Vec<RecordId>,
    /// Contacts before the cut-off, of anyone.
    pub contacts: Vec<RecordId>,
    /// Survey responses before the cut-off.
    pub surveys: Vec<RecordId>,
}

fn ids(rows: &[crate::sql::Row]) -> Result<Vec<RecordId>, DbError> {
    rows.iter().map(|r| r.col(0)).collect()
}

impl Store {
    /// The ids of the organisation's live client records with `code` (already normalised).
    pub async fn clients_with_code(&self, org: OrgId, code: &str) -> Result<Vec<RecordId>, DbError> {
        let uic = self.dialect().field("r", "uic");
        ids(&self
            .query(Statement::query(
                format!(
                    "SELECT r.id FROM records r WHERE r.collection = 'clients' AND r.org_id = ? AND NOT r.deleted
                     AND {uic} = ? ORDER BY r.id"
                ),
                params![org, code],
            ))
            .await?)
    }

    /// Erases `clients` and everything about them, in one transaction (see the module). A
    /// record deleted before gets the new tombstone too (its stamp may have been older).
    pub async fn erase_clients(&self, org: OrgId, clients: Vec<RecordId>, now_ms: u64) -> Result<Erased, DbError> {
        self.erase(org, ErasureTarget { clients, ..Default::default() }, now_ms).await
    }

    /// Erases what `target` names, in one transaction (see the module).
    pub async fn erase(&self, org: OrgId, target: ErasureTarget, now_ms: u64) -> Result<Erased, DbError> {
        self.transaction(TxMode::Write, move |tx| {
            Box::pin(async move {
                let d = tx.dialect();
                // The reports' rollups are redone below: one writer of them at a time, taken first.
                if let Some(lock) = d.advisory_lock(crate::projection::PROJECTION_LOCK) {
                    tx.run(vec![lock]).await?;
                }
                let (from, into) = (d.field("r", "from_client"), d.field("r", "into_client"));
                let (client_field, contact_field) = (d.field("r", "client_id"), d.field("r", "contact_id"));
                let id_text = d.uuid_as_text("r.id");
                let org_id = d.uuid_as_text("r.org_id");
                // The person's other client records, joined by merges either way.
                let mut people: BTreeSet<RecordId> = target.clients.iter().copied().collect();
                for _ in 0..MERGE_DEPTH {
                    let mut q = Sql::new();
                    let list = q.list(people.iter().map(|id| id.to_string()));
                    let again = q.list(people.iter().map(|id| id.to_string()));
                    let sql = format!(
                        "SELECT {from}, {into} FROM records r WHERE r.collection = 'client_merges'
                         AND {org_id} = {org} AND ({from} IN {list} OR {into} IN {again})",
                        org = q.bind(org.to_string()),
                    );
                    let before = people.len();
                    for row in tx.query(q.query(&sql)).await? {
                        for column in 0..2 {
                            if let Ok(id) = row.col::<String>(column).map(|t| t.parse::<RecordId>()) {
                                people.extend(id.ok());
                            }
                        }
                    }
                    if people.len() == before || people.is_empty() {
                        break;
                    }
                }
                let mut contacts: Vec<String> = target.contacts.iter().map(ToString::to_string).collect();
                if !people.is_empty() {
                    let mut q = Sql::new();
                    let list = q.list(people.iter().map(|id| id.to_string()));
                    let sql = format!(
                        "SELECT {id_text} FROM records r WHERE r.collection = 'contacts' AND {org_id} = {org}
                         AND {client_field} IN {list}",
                        org = q.bind(org.to_string()),
                    );
                    for row in tx.query(q.query(&sql)).await? {
                        contacts.push(row.col(0)?);
                    }
                }
                contacts.sort();
                contacts.dedup();

                let mut keys: Vec<(String, String)> = people.iter().map(|id| ("clients".into(), id.to_string())).collect();
                keys.extend(contacts.iter().map(|id| ("contacts".to_string(), id.clone())));
                let mut q = Sql::new();
                let collections = q.list(CHILDREN.iter().map(|c| c.to_string()));
                let by_contact = q.list(contacts.iter().cloned());
                let by_client = q.list(people.iter().map(|id| id.to_string()));
                let merged_from = q.list(people.iter().map(|id| id.to_string()));
                let merged_into = q.list(people.iter().map(|id| id.to_string()));
                let sql = format!(
                    "SELECT r.collection, {id_text} FROM records r WHERE {org_id} = {org} AND (
                         (r.collection IN {collections} AND ({contact_field} IN {by_contact} OR {client_field} IN {by_client}))
                         OR (r.collection = 'client_merges' AND ({from} IN {merged_from} OR {into} IN {merged_into})))",
                    org = q.bind(org.to_string()),
                );
                for row in tx.query(q.query(&sql)).await? {
                    keys.push((row.col(0)?, row.col(1)?));
                }
                keys.extend(target.others.iter().map(|(c, id)| (c.name().to_string(), id.to_string())));
                keys.sort();
                keys.dedup();

                if keys.is_empty() {
                    return Ok(Erased::default());
                }
                let used = used_stock(tx, org, &contacts).await?;
                let server = server_device(tx, now_ms).await?;
                let stamp = Hlc::new(now_ms, 0, server.device_id);
                let parsed = keys
                    .iter()
                    .map(|(collection, id)| {
                        let id: RecordId =
                            id.parse().map_err(|_| DbError::Corrupt(format!("a record id is not a UUID: {id}")))?;
                        Ok((collection.clone(), id))
                    })
                    .collect::<Result<Vec<_>, DbError>>()?;
                let reads = parsed
                    .iter()
                    .map(|(collection, id)| {
                        Statement::query(
                            "SELECT state FROM records WHERE collection = ? AND id = ?",
                            params![collection.clone(), *id],
                        )
                    })
                    .collect();
                let before = tx.run(reads).await?;
                let first = take_seqs(tx, keys.len()).await?;
                let mut statements = Vec::with_capacity(keys.len() * 4);
                for (n, ((collection, id), read)) in parsed.into_iter().zip(before).enumerate() {
                    let earlier: Option<RecordState> = read.rows.first().map(|r| r.col(0)).transpose()?;
                    // Nothing of the record stays but its key and a deletion stamp (an earlier
                    // deletion's, if greater: tombstones converge to the greatest).
                    let deleted = earlier.and_then(|s| s.deleted).map_or(stamp, |d| d.max(stamp));
                    let emptied = RecordState { fields: Default::default(), deleted: Some(deleted) };
                    statements.push(Statement::exec(
                        "UPDATE records SET state = ?, deleted = ?, seq = ?, updated_ms = ? WHERE collection = ? AND id = ?",
                        params![SqlValue::Json(serde_json::to_string(&emptied)?), true, first + n as u64, now_ms, collection.clone(), id],
                    ));
                    statements.push(Statement::exec(
                        "DELETE FROM conflicts WHERE collection = ? AND record_id = ?",
                        params![collection.clone(), id],
                    ));
                    // The rollups the erased record counted in (redone below).
                    statements.push(crate::rollup::keep::mark_contact(&id.to_string()));
                    statements.push(Statement::exec("DELETE FROM report_contacts WHERE id = ?", params![id.to_string()]));
                    statements.push(Statement::exec("DELETE FROM report_lines WHERE id = ?", params![id.to_string()]));
                    statements.push(Statement::exec("DELETE FROM report_links WHERE id = ?", params![id.to_string()]));
                }
                // Stock as it was: what the erased lines took, taken by a count correction.
                let corrections: Vec<ServerRecord> = used
                    .into_iter()
                    .filter(|u| u.quantity != 0)
                    .map(|u| {
                        let fields = json!({
                            "commodity": u.commodity,
                            "quantity": -u.quantity,
                            "kind": "count_correction",
                            "occurred_at": u.occurred_at,
                        });
                        let fields = fields.as_object().cloned().unwrap_or_default();
                        ServerRecord {
                            collection: Collection::StockMovements,
                            id: RecordId(uuid::Uuid::now_v7()),
                            site_id: Some(u.site),
                            state: reference_state(fields, stamp),
                        }
                    })
                    .collect();
                if !corrections.is_empty() {
                    let first = take_seqs(tx, corrections.len()).await?;
                    statements.extend(server_record_statements(org, &corrections, first, now_ms)?);
                }
                let mut statements = statements.into_iter().peekable();
                while statements.peek().is_some() {
                    tx.run(statements.by_ref().take(250).collect()).await?;
                }
                // Nothing of the erased records stays in the rollups either, from this commit on.
                crate::rollup::keep::redo_dirty(tx).await?;
                Ok(Erased {
                    clients: people.into_iter().collect(),
                    records: keys.len(),
                    stock_corrections: corrections.len(),
                })
            })
        })
        .await
    }
}

/// Items the live distribution lines of `contacts` took, per site, commodity and day.
struct Used {
    site: SiteId,
    commodity: String,
    /// The day's latest contact time.
    occurred_at: String,
    quantity: i64,
}

async fn used_stock(tx: &mut Tx, org: OrgId, contacts: &[String]) -> Result<Vec<Used>, DbError> {
    let d = tx.dialect();
    let mut out = Vec::new();
    for chunk in contacts.chunks(500) {
        let mut q = Sql::new();
        let list = q.list(chunk.iter().cloned());
        let at = d.field("c", "occurred_at");
        let sql = format!(
            "SELECT c.site_id, {commodity}, MAX({at}),
                    CAST(SUM((CASE WHEN {reverses} IS NULL THEN 1 ELSE -1 END) * COALESCE({quantity}, 0)) AS BIGINT)
               FROM records x JOIN records c ON c.collection = 'contacts' AND {contact_id} = {contact}
              WHERE x.collection = 'distribution_lines' AND NOT x.deleted AND NOT c.deleted
                AND {org_id} = {org} AND {contact} IN {list}
              GROUP BY c.site_id, {commodity}, substr({at}, 1, 10)",
            commodity = d.field("x", "commodity"),
            reverses = d.field("x", "reverses"),
            quantity = d.field_int("x", "quantity"),
            contact = d.field("x", "contact_id"),
            contact_id = d.uuid_as_text("c.id"),
            org_id = d.uuid_as_text("x.org_id"),
            org = q.bind(org.to_string()),
        );
        for row in tx.query(q.query(&sql)).await? {
            let site: Option<SiteId> = row.col(0)?;
            let (Some(site), Some(commodity), Some(occurred_at)) =
                (site, row.col::<Option<String>>(1)?, row.col::<Option<String>>(2)?)
            else {
                continue;
            };
            out.push(Used { site, commodity, occurred_at, quantity: row.col(3)? });
        }
    }
    Ok(out)
}

impl Store {
    /// What the retention period erases at `cutoff_ms` (`cutoff_date` is its day, `YYYY-MM-DD`):
    /// see [`RetentionCandidates`]; at most `limit` of each kind (contacts and surveys oldest
    /// first).
    pub async fn retention_candidates(
        &self,
        org: OrgId,
        cutoff_ms: u64,
        cutoff_date: &str,
        limit: usize,
    ) -> Result<RetentionCandidates, DbError> {
        self.refresh_projection().await?;
        let d = self.dialect();
        let merges = format!(
            "SELECT {from}, {into} FROM records r WHERE r.collection = 'client_merges' AND NOT r.deleted",
            from = d.field("r", "from_client"),
            into = d.field("r", "into_client"),
        );
        let clients = format!(
            "SELECT r.id, r.created_ms, {seen} FROM records r WHERE r.collection = 'clients' AND NOT r.deleted
             AND {org_id} = ?",
            seen = d.field("r", "first_seen_at"),
            org_id = d.uuid_as_text("r.org_id"),
        );
        let surveys = format!(
            "SELECT r.id FROM records r WHERE r.collection = 'survey_responses' AND NOT r.deleted AND {org_id} = ?
             AND {at} < ? ORDER BY {at} LIMIT {limit}",
            at = d.field("r", "occurred_at"),
            org_id = d.uuid_as_text("r.org_id"),
        );
        let out = self
            .query_all(vec![
                Statement::query(
                    "SELECT client_id, MAX(occurred_at) FROM report_contacts WHERE NOT deleted AND client_id IS NOT NULL
                     GROUP BY client_id",
                    vec![],
                ),
                Statement::query(merges, vec![]),
                Statement::query(clients, params![org.to_string()]),
                Statement::query(
                    format!(
                        "SELECT id FROM report_contacts WHERE NOT deleted AND occurred_at < ? ORDER BY occurred_at LIMIT {limit}"
                    ),
                    params![cutoff_date],
                ),
                Statement::query(surveys, params![org.to_string(), cutoff_date]),
            ])
            .await?;
        // The newest day each client record was seen: a contact, or its registration.
        let mut newest: BTreeMap<String, String> = BTreeMap::new();
        for row in &out[0] {
            newest.insert(row.col(0)?, row.col(1)?);
        }
        let mut active: BTreeSet<String> = BTreeSet::new();
        let mut records: Vec<RecordId> = Vec::new();
        for row in &out[2] {
            let (record, created_ms, first_seen): (RecordId, i64, Option<String>) =
                (row.col(0)?, row.col(1)?, row.col(2)?);
            let id = record.to_string();
            // Seen: served (a contact) or first met; a record with neither counts from the day
            // the server received it.
            let contact = newest.get(&id);
            let seen_late = match (contact, first_seen.as_ref()) {
                (None, None) => u64::try_from(created_ms).unwrap_or(0) >= cutoff_ms,
                (contact, first) => [contact, first].into_iter().flatten().any(|at| at.as_str() >= cutoff_date),
            };
            if seen_late {
                active.insert(id);
            }
            records.push(record);
        }
        // One person registered twice is as recent as their latest record: merges join them.
        let mut joined: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for row in &out[1] {
            if let (Some(a), Some(b)) = (row.col::<Option<String>>(0)?, row.col::<Option<String>>(1)?) {
                joined.entry(a.clone()).or_default().push(b.clone());
                joined.entry(b).or_default().push(a);
            }
        }
        let mut frontier: Vec<String> = active.iter().cloned().collect();
        while let Some(id) = frontier.pop() {
            for other in joined.get(&id).into_iter().flatten() {
                if active.insert(other.clone()) {
                    frontier.push(other.clone());
                }
            }
        }
        let clients: Vec<RecordId> =
            records.into_iter().filter(|id| !active.contains(&id.to_string())).take(limit).collect();
        let parse = |rows: &[crate::sql::Row]| -> Result<Vec<RecordId>, DbError> {
            rows.iter()
                .map(|r| {
                    let id: String = r.col(0)?;
                    id.parse().map_err(|_| DbError::Corrupt(format!("a record id is not a UUID: {id}")))
                })
                .collect()
        };
        Ok(RetentionCandidates { clients, contacts: parse(&out[3])?, surveys: ids(&out[4])? })
    }
}
