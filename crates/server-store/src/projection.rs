//! The typed projection of contacts and distribution lines (`report_contacts`, `report_lines`,
//! migration 4) that the dashboard's reports read instead of each record's JSON. It follows the
//! records by server sequence number: [`Store::refresh_projection`] upserts what changed since
//! its last run and removes the rows of records deleted since, so pushes pay nothing for it and
//! a report sees every committed change.

use crate::backend::TxMode;
use crate::error::DbError;
use crate::sql::{Dialect, RowExt, Statement};
use crate::{Store, params};

/// Advisory lock key: instances refreshing at once take turns (the work is idempotent).
const PROJECTION_LOCK: i64 = 7_310_557_377_093_072_131;

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
                                    (SELECT value FROM counters WHERE name = 'seq')",
                            vec![],
                        ))
                        .await?;
                    let row =
                        rows.first().ok_or_else(|| DbError::Corrupt("the projection's progress is missing".into()))?;
                    let (done, top): (i64, i64) = (row.col(0)?, row.col(1)?);
                    if top <= done {
                        return Ok(0);
                    }
                    tx.run(vec![
                        Statement::exec(upsert_contacts(d), params![done, top]),
                        Statement::exec(upsert_lines(d), params![done, top]),
                        Statement::exec(remove_deleted("report_contacts", "contacts", d), params![done, top]),
                        Statement::exec(remove_deleted("report_lines", "distribution_lines", d), params![done, top]),
                        Statement::exec(
                            "UPDATE report_progress SET last_seq = ? WHERE name = 'projection' AND last_seq < ?",
                            params![top, top],
                        ),
                    ])
                    .await?;
                    Ok(top - done)
                })
            })
            .await?;
        // After a large catch-up (the first report after an upgrade or an import) the planner's
        // statistics describe empty tables; refresh them so report plans use the indexes.
        if caught_up > ANALYZE_AFTER {
            self.execute(vec![
                Statement::exec("ANALYZE report_contacts", vec![]),
                Statement::exec("ANALYZE report_lines", vec![]),
            ])
            .await?;
        }
        Ok(())
    }
}
