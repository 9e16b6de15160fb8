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

use crate::backend::TxMode;
use crate::devices::server_device;
use crate::error::DbError;
use crate::sql::{RowExt, Sql, SqlValue, Statement};
use crate::sync::take_seqs;
use crate::{Store, params};
use outpost_core::merge::RecordState;
use outpost_core::{Hlc, OrgId, RecordId};
use std::collections::BTreeSet;

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
        self.transaction(TxMode::Write, move |tx| {
            Box::pin(async move {
                let d = tx.dialect();
                let (from, into) = (d.field("r", "from_client"), d.field("r", "into_client"));
                let (client_field, contact_field) = (d.field("r", "client_id"), d.field("r", "contact_id"));
                let id_text = d.uuid_as_text("r.id");
                let org_id = d.uuid_as_text("r.org_id");
                // The person's other client records, joined by merges either way.
                let mut people: BTreeSet<RecordId> = clients.iter().copied().collect();
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
                    if people.len() == before {
                        break;
                    }
                }
                let mut q = Sql::new();
                let list = q.list(people.iter().map(|id| id.to_string()));
                let sql = format!(
                    "SELECT {id_text} FROM records r WHERE r.collection = 'contacts' AND {org_id} = {org}
                     AND {client_field} IN {list}",
                    org = q.bind(org.to_string()),
                );
                let contacts: Vec<String> =
                    tx.query(q.query(&sql)).await?.iter().map(|r| r.col(0)).collect::<Result<_, _>>()?;

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
                keys.sort();
                keys.dedup();

                if keys.is_empty() {
                    return Ok(Erased::default());
                }
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
                    statements.push(Statement::exec("DELETE FROM report_contacts WHERE id = ?", params![id.to_string()]));
                    statements.push(Statement::exec("DELETE FROM report_lines WHERE id = ?", params![id.to_string()]));
                }
                let mut statements = statements.into_iter().peekable();
                while statements.peek().is_some() {
                    tx.run(statements.by_ref().take(250).collect()).await?;
                }
                Ok(Erased { clients: people.into_iter().collect(), records: keys.len() })
            })
        })
        .await
    }
}
