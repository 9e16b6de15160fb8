//! Applying a pulled page to the local store: the server's records saved with this device's
//! pending changes re-applied on top, the cursor advanced, the organisation's settings followed
//! (its client index too), a full resync's bookkeeping, and the clock moved past what was seen;
//! all in one transaction.

use super::{pending_for, save_record, set_meta};
use crate::error::StoreError;
use outpost_core::hlc::Hlc;
use outpost_core::merge::{self, Change};
use outpost_core::schema::Mutability;
use outpost_core::wire::PullResponse;
use outpost_core::{Collection, HlcClock};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use std::borrow::Cow;

/// Saves the records of a pulled page, re-applying pending local changes on top, and advances
/// the cursor, in one transaction.
pub(super) fn apply_page(
    conn: &mut Connection,
    page: &PullResponse,
    clock: Option<&mut HlcClock>,
    now: u64,
) -> Result<usize, StoreError> {
    let tx = conn.transaction()?;
    let mut max_seen: Option<Hlc> = None;
    let outbox_empty: bool = tx.query_row("SELECT NOT EXISTS (SELECT 1 FROM outbox)", [], |r| r.get(0))?;
    for record in &page.records {
        // Copied only when a pending local change goes on top of it.
        let mut state = Cow::Borrowed(&record.state);
        if let (false, Some(collection)) = (outbox_empty, Collection::from_name(&record.collection)) {
            for op in pending_for(&tx, &record.collection, record.record_id)? {
                let change = Change { stamp: op.stamp, kind: op.change_kind() };
                let applied = match collection.mutability() {
                    Mutability::Reference => Ok(merge::apply_reference(Some(&state), &change)),
                    m => merge::apply(Some(&state), &change, m),
                };
                // A local change the server will refuse stays in the outbox and is
                // reported by the push; the server's state stands meanwhile.
                if let Ok(merged) = applied {
                    state = Cow::Owned(merged.state);
                }
            }
        }
        max_seen = max_seen.max(record.state.max_stamp());
        // The state as the server sent it is stored as that text, unless a local change went on top.
        let text = match &state {
            Cow::Borrowed(_) => record.state_json(),
            Cow::Owned(_) => None,
        };
        save_record(&tx, &record.collection, record.record_id, record.site_id, &state, text, Some(record.seq), now)?;
    }
    set_meta(&tx, "cursor", &page.next_cursor.to_string())?;
    if let Some(org) = &page.org {
        // The organisation as the server has it now: a new name, language or (for a programme
        // with no clients yet) code scheme takes effect with the page that brought it.
        set_meta(&tx, "org_name", &org.name)?;
        set_meta(&tx, "default_language", &org.default_language)?;
        set_meta(&tx, "uic_scheme", &serde_json::to_string(&org.uic_scheme)?)?;
        follow_client_index(&tx, org.client_index)?;
    }
    let resyncing =
        tx.query_row("SELECT value FROM meta WHERE key = 'resync'", [], |r| r.get::<_, String>(0)).optional()?;
    if resyncing.as_deref() == Some("1") {
        let mut seen = tx.prepare_cached("INSERT OR IGNORE INTO resync_seen (collection, id) VALUES (?1, ?2)")?;
        for record in &page.records {
            seen.execute(params![record.collection, record.record_id.to_string()])?;
        }
        if !page.has_more {
            let removed = tx.execute(
                "DELETE FROM records WHERE
                     NOT EXISTS (SELECT 1 FROM resync_seen s WHERE s.collection = records.collection AND s.id = records.id)
                     AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.collection = records.collection AND o.record_id = records.id)",
                [],
            )?;
            tx.execute("DELETE FROM resync_seen", [])?;
            set_meta(&tx, "resync", "0")?;
            tracing::info!(removed, "full resync finished: removed records the server no longer has");
        }
    }
    if let (Some(seen), Some(clock)) = (max_seen, clock) {
        // Judge stamps against the server's clock too: a tablet whose own clock is far behind
        // must still move past what it has seen, or its next edits would lose to older ones.
        if clock.observe(seen, now.max(page.server_time_ms)) {
            set_meta(&tx, "clock", &clock.last().to_string())?;
        }
    }
    tx.commit()?;
    Ok(page.records.len())
}

/// Follows the organisation's client index: when it was on and is now off, the other sites'
/// clients and site records it brought are removed (this tablet's own sites' records stay).
fn follow_client_index(tx: &Transaction<'_>, on: bool) -> Result<(), StoreError> {
    let was_on = tx
        .query_row("SELECT value FROM meta WHERE key = 'client_index'", [], |r| r.get::<_, String>(0))
        .optional()?
        .is_some_and(|v| v == "1");
    if was_on && !on {
        let sites: String = tx.query_row("SELECT value FROM meta WHERE key = 'sites'", [], |r| r.get(0))?;
        let removed = tx.execute(
            "DELETE FROM records WHERE collection IN ('clients', 'sites') AND site_id IS NOT NULL
                 AND site_id NOT IN (SELECT json_extract(value, '$.id') FROM json_each(?1))",
            [sites],
        )?;
        tracing::info!(removed, "client index turned off: other sites' clients removed");
    }
    if was_on != on {
        set_meta(tx, "client_index", if on { "1" } else { "0" })?;
    }
    Ok(())
}
