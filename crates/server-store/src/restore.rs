//! A server restored from a backup older than a device's last sync has forgotten what that
//! device (and every other) sent since. The device notices (the pull reply's `applied_through`
//! is below what it had acknowledged) and sends back everything it holds; each state is joined
//! into the server's record (core's [`merge::join`]: commutative and idempotent, so sending
//! twice, or two devices sending the same record, changes nothing more), and the device's replay
//! mark moves up to what the server had acknowledged, so none of those operations is applied a
//! second time. Records whose tombstones were cleaned up are skipped: they stay deleted.
//!
//! The caller (the HTTP handler) has checked each record against the device's scope and core's
//! schema; this module checks that a record already stored belongs to the same organisation and
//! site.

use crate::backend::TxMode;
use crate::error::DbError;
use crate::plan::Key;
use crate::sql::Statement;
use crate::sync::{DeviceAuth, RecordWrite, load_records, purged_among, replay_mark, take_seqs, write_records};
use crate::{Store, params};
use outpost_core::merge::{self, RecordState};
use outpost_core::wire::ErrorDetail;
use outpost_core::{Collection, RecordId, SiteId};

/// A record as a device holds it.
#[derive(Clone, Debug, PartialEq)]
pub struct HeldRecord {
    pub collection: Collection,
    pub id: RecordId,
    pub site_id: SiteId,
    pub state: RecordState,
}

/// What a restore changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Restored {
    /// Records written (new, or their state grew).
    pub restored: u64,
    /// Records skipped because their tombstones were cleaned up.
    pub skipped: u64,
    /// The device's replay mark afterwards.
    pub applied_through: u64,
}

impl Store {
    /// Joins `records` into the stored ones and raises the device's replay mark to
    /// `acked_through`, in one transaction (see the module). A record stored at another site or
    /// organisation refuses the whole request (`DbError::Batch`, naming each).
    pub async fn restore(
        &self,
        device: &DeviceAuth,
        records: Vec<HeldRecord>,
        acked_through: u64,
        now_ms: u64,
    ) -> Result<Restored, DbError> {
        let device = device.clone();
        self.transaction(TxMode::Write, move |tx| {
            Box::pin(async move {
                let mark = replay_mark(tx, device.device_id).await?;
                let mut keys: Vec<Key> = records.iter().map(|r| (r.collection, r.id)).collect();
                keys.sort();
                keys.dedup();
                let stored = load_records(tx, &keys).await?;
                let purged = purged_among(tx, device.org_id, &keys).await?;
                let mut errors = Vec::new();
                let mut joined: Vec<(Key, SiteId, RecordState)> = Vec::new();
                let mut skipped = 0;
                for (index, record) in records.iter().enumerate() {
                    let key = (record.collection, record.id);
                    if purged.contains(&key) {
                        skipped += 1;
                        continue;
                    }
                    let current = joined
                        .iter()
                        .find(|(k, _, _)| *k == key)
                        .map(|(_, _, s)| s)
                        .or_else(|| stored.get(&key).map(|s| &s.state));
                    if let Some(s) = stored.get(&key)
                        && (s.org_id != device.org_id || s.site_id != Some(record.site_id))
                    {
                        errors.push(ErrorDetail {
                            index,
                            op_seq: None,
                            field: None,
                            code: "site_mismatch".into(),
                            message: "this record belongs to another site".into(),
                        });
                        continue;
                    }
                    let state = match current {
                        Some(current) => merge::join(current, &record.state),
                        None => record.state.clone(),
                    };
                    if current == Some(&state) {
                        continue;
                    }
                    joined.retain(|(k, _, _)| *k != key);
                    joined.push((key, record.site_id, state));
                }
                if !errors.is_empty() {
                    return Err(DbError::Batch(errors));
                }
                let mut statements = Vec::new();
                if !joined.is_empty() {
                    let first = take_seqs(tx, joined.len()).await?;
                    let writes: Vec<RecordWrite<'_>> = joined
                        .iter()
                        .zip(first..)
                        .map(|((key, site, state), seq)| RecordWrite {
                            collection: key.0.name(),
                            id: key.1,
                            site_id: Some(*site),
                            state,
                            seq,
                        })
                        .collect();
                    statements = write_records(device.org_id, &writes, now_ms)?;
                }
                let applied_through = mark.max(acked_through);
                if applied_through > mark {
                    statements.push(Statement::exec(
                        "UPDATE devices SET max_op_seq = ? WHERE id = ? AND max_op_seq < ?",
                        params![applied_through, device.device_id, applied_through],
                    ));
                }
                if !statements.is_empty() {
                    tx.run(statements).await?;
                }
                Ok(Restored { restored: joined.len() as u64, skipped, applied_through })
            })
        })
        .await
    }

    /// The device's replay mark: the highest `op_seq` of it the server holds.
    pub async fn applied_through(&self, device: outpost_core::DeviceId) -> Result<u64, DbError> {
        let rows = self.query(Statement::query("SELECT max_op_seq FROM devices WHERE id = ?", params![device])).await?;
        rows.first()
            .map(|r| crate::sql::RowExt::col(r.as_slice(), 0))
            .transpose()?
            .ok_or_else(|| DbError::NotFound(format!("no device {device}")))
    }
}
