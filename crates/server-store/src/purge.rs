//! Tombstone clean-up, and what keeps it from ever bringing a deleted record back.
//!
//! A deleted record stays as a tombstone so every device learns of the deletion. After the
//! retention period the clean-up removes the tombstone and keeps only the record's key in
//! `purged_records`, with the sequence number of its deletion; the record's conflict entries
//! (which hold values it once had) go with it. From then on:
//!
//! * a device whose cursor is older than the newest purged deletion cannot learn of it by an
//!   incremental pull: [`Store::pull`] answers [`crate::sync::Pulled::ResyncRequired`], and the
//!   device pulls everything again and drops the records the server no longer has;
//! * a change pushed for a purged record (from a device offline since before the deletion) is
//!   refused by name (`record_purged`, see [`crate::plan`]) instead of re-creating it; the device
//!   keeps it in its rejected list, where people can see it.
//!
//! The purged keys move with an export and import ([`crate::dump`]), so a moved server still
//! sends long-offline devices into a full resync.

use crate::dump::PurgedKey;
use crate::error::DbError;
use crate::sql::Statement;
use crate::table::TableRow;
use crate::{Store, params};

/// Default days a tombstone is kept before the clean-up removes it.
pub const DEFAULT_RETENTION_DAYS: u64 = 180;

/// What one clean-up did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// Tombstones removed by this run.
    pub purged: u64,
}

impl Store {
    /// Removes every tombstone last changed before `deleted_before_ms` (server time), keeping its
    /// key in `purged_records`. The reports' projection is brought up to date first, so no
    /// deletion is lost to it. One transaction.
    pub async fn purge_tombstones(&self, deleted_before_ms: u64, now_ms: u64) -> Result<PurgeReport, DbError> {
        self.refresh_projection().await?;
        let counts = self
            .execute(vec![
                Statement::exec(
                    "INSERT INTO purged_records (collection, id, org_id, seq, purged_ms)
                     SELECT collection, id, org_id, seq, ? FROM records WHERE deleted AND updated_ms < ?
                     ON CONFLICT (collection, id) DO NOTHING",
                    params![now_ms, deleted_before_ms],
                ),
                // What the conflict log kept of them (values that lost to the deletion or to
                // each other) goes with them.
                Statement::exec(
                    "DELETE FROM conflicts WHERE EXISTS (SELECT 1 FROM records r
                         WHERE r.collection = conflicts.collection AND r.id = conflicts.record_id
                           AND r.deleted AND r.updated_ms < ?)",
                    params![deleted_before_ms],
                ),
                Statement::exec("DELETE FROM records WHERE deleted AND updated_ms < ?", params![deleted_before_ms]),
                // Projection rows of deleted records (the projection removes them as it catches
                // up; this covers rows written before it did).
                Statement::exec("DELETE FROM report_contacts WHERE deleted", vec![]),
                Statement::exec("DELETE FROM report_lines WHERE deleted", vec![]),
            ])
            .await?;
        let report = PurgeReport { purged: counts.get(2).copied().unwrap_or(0) };
        if report.purged > 0 {
            tracing::info!(purged = report.purged, "removed old tombstones");
        }
        Ok(report)
    }

    /// Every purged record's key.
    pub async fn purged_keys(&self) -> Result<Vec<PurgedKey>, DbError> {
        PurgedKey::read_all(&self.query(PurgedKey::select_all()).await?)
    }
}
