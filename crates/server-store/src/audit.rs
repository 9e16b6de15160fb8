//! The audit log: every enrolment, revocation, site and user change, login and export, each
//! entry hash-chained to the one before, so changing, removing or reordering a row is
//! detectable (`outpost-server audit verify`).

use crate::backend::TxMode;
use crate::error::DbError;
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

/// The `prev_hash` of the first entry.
pub const AUDIT_GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of an entry: SHA-256 over the previous hash and every field, as a JSON array (so
/// no two different entries serialise alike).
pub fn audit_hash(prev_hash: &str, id: i64, at_ms: i64, event: &AuditEvent) -> String {
    let canonical =
        serde_json::json!([prev_hash, id, at_ms, event.actor, event.action, event.target, event.detail, event.address])
            .to_string();
    hex::encode(Sha256::digest(canonical.as_bytes()))
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
}

/// Checks the whole chain; returns the number of entries.
pub fn verify_audit_chain(rows: &[AuditRow]) -> Result<usize, AuditBreak> {
    let mut previous_hash = AUDIT_GENESIS.to_string();
    let mut previous_id = 0;
    for row in rows {
        if row.id != previous_id + 1 {
            return Err(AuditBreak::Gap { id: row.id, previous: previous_id });
        }
        if row.prev_hash != previous_hash {
            return Err(AuditBreak::Link { id: row.id });
        }
        let event = AuditEvent {
            actor: row.actor.clone(),
            action: row.action.clone(),
            target: row.target.clone(),
            detail: row.detail.clone(),
            address: row.address.clone(),
        };
        if audit_hash(&row.prev_hash, row.id, row.at_ms, &event) != row.hash {
            return Err(AuditBreak::Altered { id: row.id });
        }
        previous_hash = row.hash.clone();
        previous_id = row.id;
    }
    Ok(rows.len())
}

impl Store {
    /// Appends an entry to the chain (one writer at a time extends it, across instances).
    pub async fn append_audit(&self, event: AuditEvent, now_ms: u64) -> Result<(), DbError> {
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
                let hash = audit_hash(&prev_hash, id, at_ms, &event);
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

    fn chain(n: i64) -> Vec<AuditRow> {
        let mut rows = Vec::new();
        let mut prev = AUDIT_GENESIS.to_string();
        for id in 1..=n {
            let event = AuditEvent::new("cli", "site.add", format!("site-{id}"), "");
            let hash = audit_hash(&prev, id, 1000 + id, &event);
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
        assert_eq!(verify_audit_chain(&chain(5)), Ok(5));
        assert_eq!(verify_audit_chain(&[]), Ok(0));
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
        assert_eq!(verify_audit_chain(&altered), Err(AuditBreak::Altered { id: 3 }));

        let mut removed = chain(5);
        removed.remove(1);
        assert_eq!(verify_audit_chain(&removed), Err(AuditBreak::Gap { id: 3, previous: 1 }));

        // Rewriting a row with a fresh hash still breaks the next row's link.
        let mut rewritten = chain(5);
        rewritten[1].actor = "someone else".into();
        let event =
            AuditEvent::new(&rewritten[1].actor.clone(), &rewritten[1].action.clone(), rewritten[1].target.clone(), "");
        rewritten[1].hash = audit_hash(&rewritten[1].prev_hash, 2, rewritten[1].at_ms, &event);
        assert_eq!(verify_audit_chain(&rewritten), Err(AuditBreak::Link { id: 3 }));
    }
}
