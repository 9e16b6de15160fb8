//! The typed projection of contacts and distribution lines (`report_contacts`, `report_lines`,
//! migration 4) that the dashboard's reports read instead of each record's JSON. It follows the
//! records by server sequence number: [`Store::refresh_projection`] upserts what changed since
//! its last run and removes the rows of records deleted since, so pushes pay nothing for it and
//! a report sees every committed change.
//!
//! The same catch-up keeps the rollups the reports read (`report_visits`, `report_items`,
//! `report_site_days`; see [`crate::rollup`]): it marks where the changed contacts were before
//! and are after the change, and redoes those site-days and client-months.
//!
//! Who is who (`report_people`, migration 12: each client record a merge names, with its person
//! and the person's first visit) is rebuilt whole by core's rule whenever a merge record, or a
//! client record a merge names, changed in the range caught up: merges are few, and a rebuild
//! gives the same table whatever order the records arrived in.

use crate::backend::{Tx, TxMode};
use crate::error::DbError;
use crate::sql::{Dialect, RowExt, Sql, Statement};
use crate::{Store, params, rollup};
use outpost_core::RecordId;
use outpost_core::people::{MergeRecord, People};
use outpost_core::records::ClientMerge;
use std::collections::BTreeMap;

/// Rows of `report_people` written per statement.
const PEOPLE_CHUNK: usize = 300;

/// Advisory lock key: instances refreshing at once take turns (the work is idempotent); an
/// erasure, which redoes rollups too, takes it as well.
pub(crate) const PROJECTION_LOCK: i64 = 7_310_557_377_093_072_131;

/// After catching up this many changes at once, the planner's statistics are refreshed.
const ANALYZE_AFTER: i64 = 50_000;

/// The live records of `collection` changed in a range of sequence numbers.
fn changed(collection: &str) -> String {
    format!("FROM records r WHERE r.seq > ? AND r.seq <= ? AND r.collection = '{collection}' AND NOT r.deleted")
}

/// Removes the rows of records of `collection` deleted in a range of sequence numbers (a
/// tombstone holds no fields to project).
fn remove_deleted(table: &str, collection: &str, d: Dialect) -> String {
    format!(
        "DELETE FROM {table} WHERE id IN (SELECT {id} FROM records r
             WHERE r.seq > ? AND r.seq <= ? AND r.collection = '{collection}' AND r.deleted)",
        id = d.uuid_as_text("r.id"),
    )
}

fn upsert_contacts(d: Dialect) -> String {
    format!(
        "INSERT INTO report_contacts (id, site_id, client_id, setting, occurred_at, collecting_for, services, deleted)
         SELECT {id}, {site}, {client}, {setting}, {at}, COALESCE({collecting}, 0), {services}, r.deleted {from}
         ON CONFLICT (id) DO UPDATE SET site_id = excluded.site_id, client_id = excluded.client_id,
             setting = excluded.setting, occurred_at = excluded.occurred_at,
             collecting_for = excluded.collecting_for, services = excluded.services, deleted = excluded.deleted",
        id = d.uuid_as_text("r.id"),
        site = d.uuid_as_text("r.site_id"),
        client = d.field("r", "client_id"),
        setting = d.field("r", "setting"),
        at = d.field("r", "occurred_at"),
        collecting = d.field_int("r", "collecting_for"),
        services = d.field_json("r", "services"),
        from = changed("contacts"),
    )
}

fn upsert_lines(d: Dialect) -> String {
    format!(
        "INSERT INTO report_lines (id, contact_id, commodity, quantity, deleted)
         SELECT {id}, {contact}, {commodity},
                (CASE WHEN {reverses} IS NULL THEN 1 ELSE -1 END) * COALESCE({quantity}, 0), r.deleted {from}
         ON CONFLICT (id) DO UPDATE SET contact_id = excluded.contact_id, commodity = excluded.commodity,
             quantity = excluded.quantity, deleted = excluded.deleted",
        id = d.uuid_as_text("r.id"),
        contact = d.field("r", "contact_id"),
        commodity = d.field("r", "commodity"),
        reverses = d.field("r", "reverses"),
        quantity = d.field_int("r", "quantity"),
        from = changed("distribution_lines"),
    )
}

/// Rebuilds `report_people` when a merge, or a client record a merge names, changed in the
/// sequence numbers `(done, top]`.
async fn refresh_people(tx: &mut Tx, done: i64, top: i64) -> Result<(), DbError> {
    let d = tx.dialect();
    let check = format!(
        "SELECT count(*) FROM records r WHERE r.seq > ? AND r.seq <= ? AND (r.collection = 'client_merges'
             OR (r.collection = 'clients' AND {id} IN (SELECT client_id FROM report_people)))",
        id = d.uuid_as_text("r.id"),
    );
    let changed: i64 =
        tx.query(Statement::query(check, params![done, top])).await?.first().map_or(Ok(0), |r| r.col(0))?;
    if changed == 0 {
        return Ok(());
    }
    let rows = tx
        .query(Statement::query(
            "SELECT id, state FROM records WHERE collection = 'client_merges' AND NOT deleted",
            vec![],
        ))
        .await?;
    let mut merges = Vec::with_capacity(rows.len());
    for row in &rows {
        let state: outpost_core::RecordState = row.col(1)?;
        let merge: ClientMerge = serde_json::from_value(serde_json::Value::Object(state.values()))?;
        merges.push(MergeRecord::new(row.col(0)?, &merge));
    }
    let people = People::resolve(&merges);
    let named: Vec<(RecordId, RecordId)> = people.assignments().collect();
    // The person's first visit: the earliest of its records'.
    let mut first_seen: BTreeMap<RecordId, String> = BTreeMap::new();
    for chunk in named.chunks(PEOPLE_CHUNK) {
        let mut q = Sql::new();
        let list = q.list(chunk.iter().map(|(client, _)| *client));
        let sql = format!(
            "SELECT r.id, {first} FROM records r WHERE r.collection = 'clients' AND NOT r.deleted AND r.id IN {list}",
            first = d.field("r", "first_seen_at"),
        );
        for row in tx.query(q.query(&sql)).await? {
            let (client, at): (RecordId, Option<String>) = (row.col(0)?, row.col(1)?);
            if let Some(at) = at {
                let entry = first_seen.entry(people.person_of(client)).or_insert_with(|| at.clone());
                if at < *entry {
                    *entry = at;
                }
            }
        }
    }
    let mut statements = vec![Statement::exec("DELETE FROM report_people", vec![])];
    for chunk in named.chunks(PEOPLE_CHUNK) {
        let mut q = Sql::new();
        let rows: Vec<String> = chunk
            .iter()
            .map(|(client, person)| {
                format!(
                    "({}, {}, {})",
                    q.bind(client.to_string()),
                    q.bind(person.to_string()),
                    q.bind(first_seen.get(person).cloned())
                )
            })
            .collect();
        statements.push(q.exec(&format!(
            "INSERT INTO report_people (client_id, person_id, first_seen_at) VALUES {}",
            rows.join(", ")
        )));
    }
    tx.run(statements).await?;
    Ok(())
}

impl Store {
    /// Brings the projection up to the latest server sequence number, in one transaction.
    pub async fn refresh_projection(&self) -> Result<(), DbError> {
        let caught_up = self
            .transaction(TxMode::Write, |tx| {
                Box::pin(async move {
                    let d = tx.dialect();
                    if let Some(lock) = d.advisory_lock(PROJECTION_LOCK) {
                        tx.run(vec![lock]).await?;
                    }
                    let rows = tx
                        .query(Statement::query(
                            "SELECT (SELECT last_seq FROM report_progress WHERE name = 'projection'),
                                    (SELECT value FROM counters WHERE name = 'seq'),
                                    (SELECT last_seq FROM report_progress WHERE name = 'rollup_layout')",
                            vec![],
                        ))
                        .await?;
                    let row =
                        rows.first().ok_or_else(|| DbError::Corrupt("the projection's progress is missing".into()))?;
                    let (done, top, layout): (i64, i64, Option<i64>) = (row.col(0)?, row.col(1)?, row.col(2)?);
                    let layout_kept = layout == Some(rollup::layout());
                    if top <= done && layout_kept {
                        return Ok(0);
                    }
                    refresh_people(tx, done, top).await?;
                    let mut statements = Vec::new();
                    if layout_kept {
                        // Where the changed contacts were before the change.
                        statements.push(rollup::keep::mark_changed(d, done, Some(top)));
                    }
                    statements.extend([
                        Statement::exec(upsert_contacts(d), params![done, top]),
                        Statement::exec(upsert_lines(d), params![done, top]),
                        Statement::exec(remove_deleted("report_contacts", "contacts", d), params![done, top]),
                        Statement::exec(remove_deleted("report_lines", "distribution_lines", d), params![done, top]),
                    ]);
                    statements.extend(rollup::keep::link_statements(d, done, top));
                    if layout_kept {
                        // Where they are now.
                        statements.push(rollup::keep::mark_changed(d, done, None));
                    }
                    statements.push(Statement::exec(
                        "UPDATE report_progress SET last_seq = ? WHERE name = 'projection' AND last_seq < ?",
                        params![top, top],
                    ));
                    tx.run(statements).await?;
                    if layout_kept {
                        rollup::keep::redo_dirty(tx).await?;
                    } else {
                        rollup::keep::rebuild(tx).await?;
                        tx.run(vec![Statement::exec(
                            "INSERT INTO report_progress (name, last_seq) VALUES ('rollup_layout', ?)
                             ON CONFLICT (name) DO UPDATE SET last_seq = excluded.last_seq",
                            params![rollup::layout()],
                        )])
                        .await?;
                    }
                    Ok((top - done).max(0))
                })
            })
            .await?;
        // After a large catch-up (the first report after an upgrade or an import) the planner's
        // statistics describe empty tables; refresh them so report plans use the indexes.
        if caught_up > ANALYZE_AFTER {
            self.execute(vec![
                Statement::exec("ANALYZE report_contacts", vec![]),
                Statement::exec("ANALYZE report_lines", vec![]),
                Statement::exec("ANALYZE report_visits", vec![]),
                Statement::exec("ANALYZE report_items", vec![]),
                Statement::exec("ANALYZE report_site_days", vec![]),
            ])
            .await?;
        }
        Ok(())
    }
}
