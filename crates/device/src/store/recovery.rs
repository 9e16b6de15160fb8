//! Recovery of the local copy: the full resync (after the server cleaned up deletions this
//! device missed, or a server restored from a backup) and sending back what this device holds to
//! a server restored from an older backup. The flags live in `meta`, so a crash in the middle
//! resumes at the next sync.

use super::{DeviceStore, set_meta};
use crate::error::StoreError;
use outpost_core::schema::Mutability;
use outpost_core::wire::RestoreRecord;
use outpost_core::{Collection, RecordId};
use rusqlite::{Transaction, params};

impl DeviceStore {
    /// The highest `op_seq` the server has acknowledged to this device (since its enrolment).
    pub fn acked_through(&self) -> Result<u64, StoreError> {
        Ok(self.meta("acked_through")?.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    /// Whether this device found its server restored from an older backup and has not finished
    /// sending back what it holds.
    pub fn restore_pending(&self) -> Result<bool, StoreError> {
        Ok(self.meta("restore_pending")?.as_deref() == Some("1"))
    }

    /// Notes that the server was found restored from an older backup (survives a crash: the next
    /// sync sends everything back again, which is idempotent).
    pub fn begin_restore(&mut self) -> Result<(), StoreError> {
        set_meta(&self.conn, "restore_pending", "1")
    }

    /// Everything sent back: the flag goes and a full resync starts (the restored server gives
    /// out sequence numbers this device's cursor has passed), in one transaction. `kept`: records
    /// the server refused, which the resync must not drop for not coming back (they stay on this
    /// tablet, where a person can still see them).
    pub fn finish_restore(&mut self, kept: &[(String, RecordId)]) -> Result<(), StoreError> {
        let now = self.now_ms();
        let tx = self.conn.transaction()?;
        set_meta(&tx, "restore_pending", "0")?;
        start_resync(&tx, now)?;
        {
            let mut seen = tx.prepare_cached("INSERT OR IGNORE INTO resync_seen (collection, id) VALUES (?1, ?2)")?;
            for (collection, id) in kept {
                seen.execute(params![collection, id.to_string()])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Records this device holds that devices write (not the server's reference data), with
    /// their whole state, tombstones included, in key order after `after`: what a restored
    /// server is sent back. Only its own sites' (not other sites' clients held through the
    /// client index).
    pub fn held_records(
        &self,
        after: Option<&(String, RecordId)>,
        limit: usize,
    ) -> Result<Vec<RestoreRecord>, StoreError> {
        let reference: Vec<String> = Collection::ALL
            .iter()
            .filter(|c| c.mutability() == Mutability::Reference)
            .map(|c| format!("'{}'", c.name()))
            .collect();
        let (collection, id) = after.map_or((String::new(), String::new()), |(c, id)| (c.clone(), id.to_string()));
        let sql = format!(
            "SELECT collection, id, site_id, state FROM records
             WHERE collection NOT IN ({}) AND site_id IS NOT NULL AND (collection, id) > (?1, ?2)
               AND site_id IN (SELECT json_extract(s.value, '$.id') FROM json_each((SELECT value FROM meta WHERE key = 'sites')) s)
             ORDER BY collection, id LIMIT ?3",
            reference.join(", ")
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![collection, id, limit as i64], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?))
        })?;
        rows.map(|row| {
            let (collection, id, site, state) = row?;
            Ok(RestoreRecord {
                collection,
                record_id: id.parse().map_err(|_| StoreError::Corrupt(format!("a record id is not a UUID: {id}")))?,
                site_id: site.parse().map_err(|_| StoreError::Corrupt(format!("a site id is not a UUID: {site}")))?,
                state: serde_json::from_str(&state)?,
            })
        })
        .collect()
    }

    /// Starts a full resync: the cursor goes back to 0 and, once the last page of the pull
    /// from 0 is applied, local records the server did not send and that have no change waiting
    /// in the outbox are removed (they were deleted and cleaned up on the server while this
    /// device was away). Survives a crash: an interrupted resync continues with the next pull.
    pub fn begin_resync(&mut self) -> Result<(), StoreError> {
        let now = self.now_ms();
        let tx = self.conn.transaction()?;
        start_resync(&tx, now)?;
        tx.commit()?;
        Ok(())
    }

    /// Whether a full resync is under way.
    pub fn resync_in_progress(&self) -> Result<bool, StoreError> {
        Ok(self.meta("resync")?.as_deref() == Some("1"))
    }

    /// Whether a full resync is under way and began within `window_ms` (by this device's
    /// clock). A resync interrupted for longer is started again: the server cleans up old
    /// deletions without telling a resyncing device, so a record this device saw alive early
    /// in a resync that lasted longer than the server keeps tombstones could otherwise stay.
    pub fn resync_fresh(&self, window_ms: u64) -> Result<bool, StoreError> {
        if !self.resync_in_progress()? {
            return Ok(false);
        }
        // A resync begun by a version that did not note its start counts as stale.
        let started: Option<u64> = self.meta("resync_started_ms")?.and_then(|v| v.parse().ok());
        let now = self.now_ms();
        Ok(started.is_some_and(|at| at <= now && now - at <= window_ms))
    }
}

/// Cursor back to 0 and the resync flag set, in the caller's transaction.
pub(super) fn start_resync(tx: &Transaction<'_>, now_ms: u64) -> Result<(), StoreError> {
    tx.execute("DELETE FROM resync_seen", [])?;
    set_meta(tx, "cursor", "0")?;
    set_meta(tx, "resync_started_ms", &now_ms.to_string())?;
    set_meta(tx, "resync", "1")
}
