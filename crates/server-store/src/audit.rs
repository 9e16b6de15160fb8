//! The audit log: every enrolment, revocation, site and user change, login and export, each
//! entry chained to the one before by a keyed hash (HMAC-SHA-256 with the server key, which is
//! kept outside the database), so changing, removing or reordering a row is detectable
//! (`outpost-server audit verify`) and cannot be hidden by recomputing the hashes without the
//! key. Removing the newest entries leaves an intact shorter chain: a [`Checkpoint`] of the
//! chain's head, signed with the key and kept outside the database (`audit checkpoint`, and the
//! server's log once a day), shows that (`audit verify --since`).
//!
//! Entries written before the chain was keyed carry a plain SHA-256 hash; they still verify,
//! are counted apart, and may only come before the first keyed entry.

use crate::backend::TxMode;
use crate::error::DbError;
use crate::keys::ServerKey;
use crate::sql::{RowExt, Statement};
use crate::table::{TableRow, inserts, table_row};
use crate::{Store, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

/// Advisory lock key that serialises appends to the chain between PostgreSQL instances.
const AUDIT_LOCK: i64 = 0x6f75_7470_6f73_7403;

/// An audit entry to append: who did what to what, from where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEvent {
    /// `cli` for the administration commands, `device:<id>` for a device, `user:<name>`.
    pub actor: String,
    /// `enroll`, `device.revoke`, `site.add`, `enrollment_code.create`, `export`, `login`...
    pub action: String,
    pub target: String,
    pub detail: String,
    pub address: Option<String>,
}

impl AuditEvent {
    pub fn new(actor: &str, action: &str, target: impl Into<String>, detail: impl Into<String>) -> Self {
        Self { actor: actor.into(), action: action.into(), target: target.into(), detail: detail.into(), address: None }
    }

    /// The same event, from `address`.
    pub fn from_address(self, address: impl Into<String>) -> Self {
        Self { address: Some(address.into()), ..self }
    }
}

table_row! {
    /// A stored audit entry with its place in the hash chain.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct AuditRow in "audit_log" order by "id" {
        pub id: i64,
        pub at_ms: i64,
        pub actor: String,
        pub action: String,
        pub target: String,
        pub detail: String,
        pub address: Option<String>,
        pub prev_hash: String,
        pub hash: String,
    }
}

impl AuditRow {
    /// What the entry records, without its place in the chain.
    pub fn event(&self) -> AuditEvent {
        AuditEvent {
            actor: self.actor.clone(),
            action: self.action.clone(),
            target: self.target.clone(),
            detail: self.detail.clone(),
            address: self.address.clone(),
        }
    }
}

/// The `prev_hash` of the first entry.
pub const AUDIT_GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The prefix of a keyed entry hash.
pub const KEYED_PREFIX: &str = "k1:";

/// An entry's canonical form: the previous hash and every field, as a JSON array (so no two
/// different entries serialise alike).
fn canonical(prev_hash: &str, id: i64, at_ms: i64, event: &AuditEvent) -> String {
    serde_json::json!([prev_hash, id, at_ms, event.actor, event.action, event.target, event.detail, event.address])
        .to_string()
}

/// The unkeyed hash of entries written before the chain was keyed: SHA-256 of the canonical
/// form.
pub fn audit_hash(prev_hash: &str, id: i64, at_ms: i64, event: &AuditEvent) -> String {
    hex::encode(Sha256::digest(canonical(prev_hash, id, at_ms, event).as_bytes()))
}

/// The hash of an entry: `k1:` and the HMAC-SHA-256 of its canonical form with the server key.
pub fn keyed_audit_hash(key: &ServerKey, prev_hash: &str, id: i64, at_ms: i64, event: &AuditEvent) -> String {
    format!("{KEYED_PREFIX}{}", key.audit_mac(canonical(prev_hash, id, at_ms, event).as_bytes()))
}

/// The newest entry of a chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditHead {
    pub entry: i64,
    pub hash: String,
}

/// What [`verify_audit_chain`] found in an intact chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditSummary {
    pub entries: usize,
    /// Entries from before the chain was keyed (all at its start).
    pub unkeyed: usize,
    pub head: Option<AuditHead>,
}

/// The chain's head at a moment, signed with the server key, to be kept outside the database
/// (one JSON object per line in a checkpoint file).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub entry: i64,
    pub hash: String,
    pub at_ms: i64,
    pub mac: String,
}

impl Checkpoint {
    /// A signed checkpoint of `head` taken at `at_ms`.
    pub fn sign(key: &ServerKey, head: &AuditHead, at_ms: i64) -> Self {
        Self {
            entry: head.entry,
            hash: head.hash.clone(),
            at_ms,
            mac: key.checkpoint_mac(head.entry, &head.hash, at_ms),
        }
    }

    /// Whether this checkpoint was signed with `key` and not changed since.
    pub fn is_signed_by(&self, key: &ServerKey) -> bool {
        let expected = key.checkpoint_mac(self.entry, &self.hash, self.at_ms);
        subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), self.mac.as_bytes()).into()
    }
}

/// Where an audit chain is broken.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum AuditBreak {
    #[error("audit entry {id}: its contents do not match its hash (the row was changed)")]
    Altered { id: i64 },
    #[error("audit entry {id}: it does not follow entry {previous} (an entry was removed or reordered)")]
    Gap { id: i64, previous: i64 },
    #[error("audit entry {id}: its link to the previous entry is wrong (an entry was removed or replaced)")]
    Link { id: i64 },
    #[error("audit entry {id}: it has an unkeyed hash after keyed entries (it was rewritten without the server key)")]
    Unkeyed { id: i64 },
    #[error("the checkpoint was not signed with this server key, or it was changed")]
    ForgedCheckpoint,
    #[error(
        "the log was truncated: the checkpoint saw entry {entry}, the log ends at {last} (entries after it were removed)"
    )]
    Truncated { entry: i64, last: i64 },
    #[error("audit entry {entry} is not the one the checkpoint saw (the log was rewritten from there)")]
    Rewritten { entry: i64 },
}

/// Checks the whole chain with the server key.
pub fn verify_audit_chain(rows: &[AuditRow], key: &ServerKey) -> Result<AuditSummary, AuditBreak> {
    let mut previous_hash = AUDIT_GENESIS.to_string();
    let mut previous_id = 0;
    let mut unkeyed = 0;
    for row in rows {
        if row.id != previous_id + 1 {
            return Err(AuditBreak::Gap { id: row.id, previous: previous_id });
        }
        if row.prev_hash != previous_hash {
            return Err(AuditBreak::Link { id: row.id });
        }
        let event = row.event();
        let expected = if row.hash.starts_with(KEYED_PREFIX) {
            keyed_audit_hash(key, &row.prev_hash, row.id, row.at_ms, &event)
        } else if unkeyed as i64 == row.id - 1 {
            unkeyed += 1;
            audit_hash(&row.prev_hash, row.id, row.at_ms, &event)
        } else {
            return Err(AuditBreak::Unkeyed { id: row.id });
        };
        if !bool::from(subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), row.hash.as_bytes())) {
            return Err(AuditBreak::Altered { id: row.id });
        }
        previous_hash = row.hash.clone();
        previous_id = row.id;
    }
    let head = rows.last().map(|r| AuditHead { entry: r.id, hash: r.hash.clone() });
    Ok(AuditSummary { entries: rows.len(), unkeyed, head })
}

/// Checks the whole chain, and that it still holds what `checkpoint` saw: its entry, unchanged.
pub fn verify_since(rows: &[AuditRow], key: &ServerKey, checkpoint: &Checkpoint) -> Result<AuditSummary, AuditBreak> {
    if !checkpoint.is_signed_by(key) {
        return Err(AuditBreak::ForgedCheckpoint);
    }
    let summary = verify_audit_chain(rows, key)?;
    let last = summary.head.as_ref().map_or(0, |h| h.entry);
    match rows.iter().find(|r| r.id == checkpoint.entry) {
        None => Err(AuditBreak::Truncated { entry: checkpoint.entry, last }),
        Some(row) if row.hash != checkpoint.hash => Err(AuditBreak::Rewritten { entry: checkpoint.entry }),
        Some(_) => Ok(summary),
    }
}

impl Store {
    /// Appends an entry to the chain (one writer at a time extends it, across instances).
    pub async fn append_audit(&self, event: AuditEvent, now_ms: u64) -> Result<(), DbError> {
        let key = self.key().clone();
        self.transaction(TxMode::Write, move |tx| {
            Box::pin(async move {
                if let Some(lock) = tx.dialect().advisory_lock(AUDIT_LOCK) {
                    tx.run(vec![lock]).await?;
                }
                let last = tx
                    .query(Statement::query("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1", vec![]))
                    .await?;
                let (id, prev_hash) = match last.first() {
                    Some(r) => (r.col::<i64>(0)? + 1, r.col::<String>(1)?),
                    None => (1, AUDIT_GENESIS.to_string()),
                };
                let at_ms = i64::try_from(now_ms).unwrap_or(i64::MAX);
                let hash = keyed_audit_hash(&key, &prev_hash, id, at_ms, &event);
                let AuditEvent { actor, action, target, detail, address } = event;
                let row = AuditRow { id, at_ms, actor, action, target, detail, address, prev_hash, hash };
                tx.run(inserts(&[row], &[], |_| Ok(vec![]))?).await?;
                Ok(())
            })
        })
        .await
    }

    /// The whole audit log, oldest first.
    pub async fn audit_log(&self) -> Result<Vec<AuditRow>, DbError> {
        AuditRow::read_all(&self.query(AuditRow::select_all()).await?)
    }

    /// The newest entry, if any.
    pub async fn audit_head(&self) -> Result<Option<AuditHead>, DbError> {
        let rows =
            self.query(Statement::query("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1", vec![])).await?;
        rows.first().map(|r| Ok(AuditHead { entry: r.col(0)?, hash: r.col(1)? })).transpose()
    }

    /// The newest `limit` entries, newest first (the dashboard's audit page).
    pub async fn recent_audit(&self, limit: u32) -> Result<Vec<AuditRow>, DbError> {
        let columns = AuditRow::COLUMNS.join(", ");
        let newest =
            Statement::query(format!("SELECT {columns} FROM audit_log ORDER BY id DESC LIMIT ?"), params![limit]);
        AuditRow::read_all(&self.query(newest).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ServerKey {
        ServerKey::from_hex(&"5a".repeat(32)).unwrap_or_else(|_| ServerKey::generate())
    }

    fn chain(n: i64) -> Vec<AuditRow> {
        mixed_chain(0, n)
    }

    /// `unkeyed` entries from before the chain was keyed, then keyed ones up to `n`.
    fn mixed_chain(unkeyed: i64, n: i64) -> Vec<AuditRow> {
        let key = key();
        let mut rows = Vec::new();
        let mut prev = AUDIT_GENESIS.to_string();
        for id in 1..=n {
            let event = AuditEvent::new("cli", "site.add", format!("site-{id}"), "");
            let hash = if id <= unkeyed {
                audit_hash(&prev, id, 1000 + id, &event)
            } else {
                keyed_audit_hash(&key, &prev, id, 1000 + id, &event)
            };
            rows.push(AuditRow {
                id,
                at_ms: 1000 + id,
                actor: event.actor,
                action: event.action,
                target: event.target,
                detail: event.detail,
                address: None,
                prev_hash: prev,
                hash: hash.clone(),
            });
            prev = hash;
        }
        rows
    }

    #[test]
    fn an_intact_chain_verifies() {
        let summary = verify_audit_chain(&chain(5), &key());
        let head = chain(5).last().map(|r| AuditHead { entry: 5, hash: r.hash.clone() });
        assert_eq!(summary, Ok(AuditSummary { entries: 5, unkeyed: 0, head }));
        assert_eq!(verify_audit_chain(&[], &key()), Ok(AuditSummary { entries: 0, unkeyed: 0, head: None }));
        // A chain begun before keying goes on keyed.
        assert_eq!(verify_audit_chain(&mixed_chain(2, 5), &key()).map(|s| s.unkeyed), Ok(2));
    }

    #[test]
    fn without_the_key_a_rewritten_chain_does_not_verify() {
        // Whoever changes a row and recomputes every hash after it, with another key or none,
        // is found out.
        let mut forged = chain(5);
        forged[2].detail = "nothing to see".into();
        let other = ServerKey::generate();
        let mut prev = forged[1].hash.clone();
        for row in forged.iter_mut().skip(2) {
            let event = row.event();
            row.prev_hash = prev.clone();
            row.hash = keyed_audit_hash(&other, &prev, row.id, row.at_ms, &event);
            prev = row.hash.clone();
        }
        assert_eq!(verify_audit_chain(&forged, &key()), Err(AuditBreak::Altered { id: 3 }));
        // Or with the old unkeyed hashes.
        let mut prev = forged[1].hash.clone();
        for row in forged.iter_mut().skip(2) {
            let event =
                AuditEvent::new(&row.actor.clone(), &row.action.clone(), row.target.clone(), row.detail.clone());
            row.prev_hash = prev.clone();
            row.hash = audit_hash(&prev, row.id, row.at_ms, &event);
            prev = row.hash.clone();
        }
        assert_eq!(verify_audit_chain(&forged, &key()), Err(AuditBreak::Unkeyed { id: 3 }));
    }

    #[test]
    fn a_checkpoint_finds_truncation_and_rewriting() {
        let key = key();
        let rows = chain(6);
        let head = AuditHead { entry: 4, hash: rows[3].hash.clone() };
        let checkpoint = Checkpoint::sign(&key, &head, 99);
        assert_eq!(verify_since(&rows, &key, &checkpoint).map(|s| s.entries), Ok(6));
        // The newest entries removed: the shorter chain is intact, the checkpoint tells.
        assert_eq!(verify_since(&rows[..3], &key, &checkpoint), Err(AuditBreak::Truncated { entry: 4, last: 3 }));
        assert_eq!(verify_since(&[], &key, &checkpoint), Err(AuditBreak::Truncated { entry: 4, last: 0 }));
        // A checkpoint changed to fit a truncated log, or signed with another key.
        let mut moved = checkpoint.clone();
        moved.entry = 3;
        moved.hash = rows[2].hash.clone();
        assert_eq!(verify_since(&rows[..3], &key, &moved), Err(AuditBreak::ForgedCheckpoint));
        let foreign = Checkpoint::sign(&ServerKey::generate(), &head, 99);
        assert_eq!(verify_since(&rows, &key, &foreign), Err(AuditBreak::ForgedCheckpoint));
        // A checkpoint of another chain's entry 4.
        let other = Checkpoint::sign(&key, &AuditHead { entry: 4, hash: "k1:00".into() }, 99);
        assert_eq!(verify_since(&rows, &key, &other), Err(AuditBreak::Rewritten { entry: 4 }));
    }

    #[test]
    fn the_hash_is_the_documented_sha256() {
        // The chain of databases written before this crate must still verify.
        let event = AuditEvent::new("cli", "export", "x", "");
        assert_eq!(audit_hash(AUDIT_GENESIS, 1, 5, &event).len(), 64);
        assert_eq!(
            audit_hash(AUDIT_GENESIS, 1, 5, &event),
            hex::encode(Sha256::digest(
                format!("[\"{AUDIT_GENESIS}\",1,5,\"cli\",\"export\",\"x\",\"\",null]").as_bytes()
            ))
        );
    }

    #[test]
    fn tampering_is_detected_and_the_row_named() {
        let mut altered = chain(5);
        altered[2].detail = "nothing to see".into();
        assert_eq!(verify_audit_chain(&altered, &key()), Err(AuditBreak::Altered { id: 3 }));

        let mut removed = chain(5);
        removed.remove(1);
        assert_eq!(verify_audit_chain(&removed, &key()), Err(AuditBreak::Gap { id: 3, previous: 1 }));

        // Rewriting a row with a fresh hash still breaks the next row's link.
        let mut rewritten = chain(5);
        rewritten[1].actor = "someone else".into();
        let event =
            AuditEvent::new(&rewritten[1].actor.clone(), &rewritten[1].action.clone(), rewritten[1].target.clone(), "");
        rewritten[1].hash = keyed_audit_hash(&key(), &rewritten[1].prev_hash, 2, rewritten[1].at_ms, &event);
        assert_eq!(verify_audit_chain(&rewritten, &key()), Err(AuditBreak::Link { id: 3 }));
    }
}
