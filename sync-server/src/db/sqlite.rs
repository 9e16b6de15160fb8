//! SQLite storage: the embedded default, one file under the data directory, in WAL mode.
//!
//! One connection serialises writers (SQLite allows one writer at a time anyway); work runs on
//! the blocking thread pool so the async runtime keeps serving. Every method is a single
//! transaction; a push is `BEGIN IMMEDIATE` so its sequence numbers are assigned in commit order.

use super::sql::{Dialect, Row, SqlValue, Statement};
use super::{
    AUDIT_GENESIS, AuditEvent, AuditRow, Batch, CodeRow, ConflictDumpRow, ConflictRow, DUMP_FORMAT, DbError,
    DeviceAuth, DeviceInfo, DeviceRow, DeviceSiteRow, Dump, Enrolled, MAX_OP_SEQ_JUMP, NewDevice, OrgRow, Page,
    RawRecord, RecordRow, SiteInfo, SiteRow, SnapshotRow, Storage, TokenCheck, audit_hash, demo_seed,
    merge_error_detail, op_seq_gap_detail, site_mismatch_detail, site_reference_state,
};
use outpost_core::merge::{self, Change, ChangeKind, RecordState};
use outpost_core::wire::{ErrorDetail, SiteRef};
use outpost_core::{Collection, DeviceId, RecordId, SiteId};
use rusqlite::{Connection, ErrorCode, OptionalExtension, TransactionBehavior, params};
use rusqlite_migration::{M, Migrations};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Forward-only migrations of the SQLite schema.
pub fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("../../migrations/sqlite/0001_initial.sql")),
        M::up(include_str!("../../migrations/sqlite/0002_audit.sql")),
        M::up(include_str!("../../migrations/sqlite/0003_accounts.sql")),
        M::up(include_str!("../../migrations/sqlite/0004_report_projection.sql")),
        M::up(include_str!("../../migrations/sqlite/0005_purged_records.sql")),
    ])
}

/// SQLite-backed storage. Cloning shares the connection.
#[derive(Clone, Debug)]
pub struct SqliteStorage {
    conn: Arc<Mutex<Connection>>,
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => DbError::Busy,
            Some(ErrorCode::DiskFull) => DbError::Full,
            Some(ErrorCode::ReadOnly | ErrorCode::SystemIoFailure | ErrorCode::CannotOpen) => {
                DbError::Unwritable(e.to_string())
            }
            _ => DbError::Backend(e.to_string()),
        }
    }
}

fn parse<T: std::str::FromStr>(text: &str) -> Result<T, DbError> {
    text.parse().map_err(|_| DbError::Corrupt(format!("unparsable id {text:?}")))
}

impl SqliteStorage {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| DbError::Backend(format!("cannot create {}: {e}", dir.display())))?;
        }
        let conn = Connection::open(path)?;
        // SQLite quietly opens a file it cannot write read-only; a server that cannot store
        // what devices push must say so at start, not with every push.
        if conn.is_readonly(rusqlite::MAIN_DB)? {
            return Err(DbError::Unwritable(format!(
                "{} is on a read-only disk or not writable by this user",
                path.display()
            )));
        }
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;")?;
        Self::init(conn)
    }

    /// A private in-memory database (tests).
    pub fn open_in_memory() -> Result<Self, DbError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<Self, DbError> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch("PRAGMA foreign_keys = ON;")?;
        migrations().to_latest(&mut conn).map_err(|e| DbError::Backend(format!("migration failed: {e}")))?;
        Ok(Self { conn: Arc::new(Mutex::new(conn)) })
    }

    async fn run<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, DbError> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().map_err(|_| DbError::Backend("connection lock poisoned".into()))?;
            f(&mut guard)
        })
        .await
        .map_err(|e| DbError::Backend(format!("storage task failed: {e}")))?
    }
}

/// The next server sequence number. Only called inside a write transaction, which also stores
/// the numbers it used with [`set_last_seq`].
fn next_seq(conn: &Connection) -> Result<u64, DbError> {
    Ok(conn.query_row("SELECT value + 1 FROM counters WHERE name = 'seq'", [], |r| r.get::<_, i64>(0))? as u64)
}

fn set_last_seq(conn: &Connection, last: u64) -> Result<(), DbError> {
    conn.prepare_cached("UPDATE counters SET value = ?1 WHERE name = 'seq' AND value < ?1")?.execute([last as i64])?;
    Ok(())
}

const AUDIT_COLUMNS: &str = "id, at_ms, actor, action, target, detail, address, prev_hash, hash";

fn audit_row(r: &rusqlite::Row<'_>) -> Result<AuditRow, DbError> {
    Ok(AuditRow {
        id: r.get(0)?,
        at_ms: r.get(1)?,
        actor: r.get(2)?,
        action: r.get(3)?,
        target: r.get(4)?,
        detail: r.get(5)?,
        address: r.get(6)?,
        prev_hash: r.get(7)?,
        hash: r.get(8)?,
    })
}

fn opt_id<T: std::str::FromStr>(text: Option<String>) -> Result<Option<T>, DbError> {
    text.map(|t| parse(&t)).transpose()
}

fn query_rows<T>(
    conn: &Connection,
    sql: &str,
    mut map: impl FnMut(&rusqlite::Row<'_>) -> Result<T, DbError>,
) -> Result<Vec<T>, DbError> {
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(map(row)?);
    }
    Ok(out)
}

fn to_sql(value: &SqlValue) -> rusqlite::types::Value {
    use rusqlite::types::Value;
    match value {
        SqlValue::Null => Value::Null,
        SqlValue::Int(i) => Value::Integer(*i),
        SqlValue::Real(r) => Value::Real(*r),
        SqlValue::Text(t) => Value::Text(t.clone()),
    }
}

fn from_sql(value: rusqlite::types::ValueRef<'_>) -> SqlValue {
    use rusqlite::types::ValueRef;
    match value {
        ValueRef::Null => SqlValue::Null,
        ValueRef::Integer(i) => SqlValue::Int(i),
        ValueRef::Real(r) => SqlValue::Real(r),
        ValueRef::Text(t) | ValueRef::Blob(t) => SqlValue::Text(String::from_utf8_lossy(t).into_owned()),
    }
}

struct Stored {
    org_id: String,
    site_id: Option<String>,
    state: RecordState,
}

fn load(conn: &Connection, collection: &str, id: &str) -> Result<Option<Stored>, DbError> {
    let row: Option<(String, Option<String>, String)> = conn
        .prepare_cached("SELECT org_id, site_id, state FROM records WHERE collection = ?1 AND id = ?2")?
        .query_row(params![collection, id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    row.map(|(org_id, site_id, state)| Ok(Stored { org_id, site_id, state: serde_json::from_str(&state)? })).transpose()
}

/// Inserts a record that must not exist yet; returns false (writing nothing) if it does.
#[allow(clippy::too_many_arguments)]
fn insert_new(
    conn: &Connection,
    collection: &str,
    id: &str,
    org: &str,
    site: &str,
    state: &RecordState,
    seq: u64,
    now_ms: u64,
) -> Result<bool, DbError> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO records (collection, id, org_id, site_id, state, deleted, seq, created_ms, updated_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7, ?7) ON CONFLICT (collection, id) DO NOTHING",
        )?
        .execute(params![collection, id, org, site, serde_json::to_string(state)?, seq as i64, now_ms as i64])?;
    Ok(inserted == 1)
}

#[allow(clippy::too_many_arguments)]
fn save(
    conn: &Connection,
    collection: &str,
    id: &str,
    org: &str,
    site: Option<&str>,
    state: &RecordState,
    seq: u64,
    now_ms: u64,
) -> Result<(), DbError> {
    conn.prepare_cached(
        "INSERT INTO records (collection, id, org_id, site_id, state, deleted, seq, created_ms, updated_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
         ON CONFLICT (collection, id) DO UPDATE SET
           state = excluded.state, deleted = excluded.deleted, seq = excluded.seq, updated_ms = excluded.updated_ms",
    )?
    .execute(params![
        collection,
        id,
        org,
        site,
        serde_json::to_string(state)?,
        state.deleted.is_some(),
        seq as i64,
        now_ms as i64
    ])?;
    Ok(())
}

impl Storage for SqliteStorage {
    async fn seed_demo(&self, now_ms: u64) -> Result<bool, DbError> {
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let orgs: i64 = tx.query_row("SELECT count(*) FROM orgs", [], |r| r.get(0))?;
            if orgs > 0 {
                return Ok(false);
            }
            let seed = demo_seed(now_ms)?;
            let org = seed.org_id.to_string();
            tx.execute(
                "INSERT INTO orgs (id, name, uic_scheme, created_ms) VALUES (?1, ?2, ?3, ?4)",
                params![org, seed.org_name, serde_json::to_string(&seed.uic_scheme)?, now_ms as i64],
            )?;
            for (site, name) in &seed.sites {
                tx.execute(
                    "INSERT INTO sites (id, org_id, name) VALUES (?1, ?2, ?3)",
                    params![site.to_string(), org, name],
                )?;
            }
            let mut seq = next_seq(&tx)?;
            for record in &seed.records {
                let site = record.site_id.map(|s| s.to_string());
                save(
                    &tx,
                    record.collection.name(),
                    &record.id.to_string(),
                    &org,
                    site.as_deref(),
                    &record.state,
                    seq,
                    now_ms,
                )?;
                seq += 1;
            }
            set_last_seq(&tx, seq - 1)?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn create_enrollment_code(
        &self,
        site_name: &str,
        code_hash: &str,
        expires_ms: u64,
        now_ms: u64,
    ) -> Result<SiteRef, DbError> {
        let (site_name, code_hash) = (site_name.to_string(), code_hash.to_string());
        self.run(move |conn| {
            let tx = conn.transaction()?;
            let found: Vec<(String, String, String)> = {
                let mut stmt = tx.prepare("SELECT id, org_id, name FROM sites WHERE name = ?1")?;
                let rows = stmt.query_map([&site_name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                rows.collect::<Result<_, _>>()?
            };
            let (site_id, org_id, name) = match found.as_slice() {
                [one] => one.clone(),
                [] => {
                    let names: Vec<String> = {
                        let mut stmt = tx.prepare("SELECT name FROM sites ORDER BY name")?;
                        let rows = stmt.query_map([], |r| r.get(0))?;
                        rows.collect::<Result<_, _>>()?
                    };
                    return Err(DbError::NotFound(format!("no site is named {site_name:?}; sites: {}", names.join(", "))));
                }
                _ => return Err(DbError::NotFound(format!("several organisations have a site named {site_name:?}"))),
            };
            tx.execute(
                "INSERT INTO enrollment_codes (code_hash, org_id, site_id, created_ms, expires_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![code_hash, org_id, site_id, now_ms as i64, expires_ms as i64],
            )?;
            tx.commit()?;
            Ok(SiteRef { id: parse(&site_id)?, name })
        })
        .await
    }

    async fn enroll(&self, code_hash: &str, device: NewDevice, now_ms: u64) -> Result<Enrolled, DbError> {
        let code_hash = code_hash.to_string();
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let code: Option<(String, String)> = tx
                .query_row(
                    "SELECT org_id, site_id FROM enrollment_codes
                     WHERE code_hash = ?1 AND used_ms IS NULL AND expires_ms > ?2",
                    params![code_hash, now_ms as i64],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((org_id, site_id)) = code else { return Err(DbError::CodeInvalid) };
            let device_id = DeviceId(uuid::Uuid::now_v7());
            tx.execute(
                "INSERT INTO devices (id, org_id, name, app_version, token_hash, enrolled_ms, last_seen_ms, token_expires_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)",
                params![
                    device_id.to_string(),
                    org_id,
                    device.name,
                    device.app_version,
                    device.token_hash,
                    now_ms as i64,
                    device.token_expires_ms as i64
                ],
            )?;
            tx.execute("INSERT INTO device_sites (device_id, site_id) VALUES (?1, ?2)", params![device_id.to_string(), site_id])?;
            tx.execute(
                "UPDATE enrollment_codes SET used_ms = ?2, device_id = ?3 WHERE code_hash = ?1",
                params![code_hash, now_ms as i64, device_id.to_string()],
            )?;
            // A code issued for a worker ties the device to them: removing the worker from a
            // site later removes the site from their devices.
            tx.execute(
                "UPDATE devices SET user_id = (SELECT user_id FROM enrollment_codes WHERE code_hash = ?1) WHERE id = ?2",
                params![code_hash, device_id.to_string()],
            )?;
            let (org_name, scheme): (String, String) =
                tx.query_row("SELECT name, uic_scheme FROM orgs WHERE id = ?1", [&org_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            let site_name: String = tx.query_row("SELECT name FROM sites WHERE id = ?1", [&site_id], |r| r.get(0))?;
            tx.commit()?;
            Ok(Enrolled {
                device_id,
                org_id: parse(&org_id)?,
                org_name,
                sites: vec![SiteRef { id: parse(&site_id)?, name: site_name }],
                uic_scheme: serde_json::from_str(&scheme)?,
            })
        })
        .await
    }

    async fn authenticate(&self, token_hash: &str, now_ms: u64, ttl_ms: u64) -> Result<TokenCheck, DbError> {
        let token_hash = token_hash.to_string();
        self.run(move |conn| {
            let row: Option<(String, String, i64, i64, Option<i64>, String)> = conn
                .prepare_cached(
                    "SELECT d.id, d.org_id, d.last_seen_ms, d.token_expires_ms, d.revoked_ms, o.uic_scheme
                     FROM devices d JOIN orgs o ON o.id = d.org_id WHERE d.token_hash = ?1",
                )?
                .query_row([&token_hash], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
                .optional()?;
            let Some((id, org_id, last_seen, expires, revoked, scheme)) = row else { return Ok(TokenCheck::Unknown) };
            if revoked.is_some() {
                return Ok(TokenCheck::Revoked);
            }
            if expires as u64 <= now_ms {
                return Ok(TokenCheck::Expired);
            }
            // Sliding expiry, written at most once a minute to spare the disk.
            if now_ms.saturating_sub(last_seen as u64) > 60_000 {
                conn.prepare_cached("UPDATE devices SET last_seen_ms = ?2, token_expires_ms = ?3 WHERE id = ?1")?
                    .execute(params![id, now_ms as i64, now_ms.saturating_add(ttl_ms) as i64])?;
            }
            let sites: Vec<SiteId> = {
                let mut stmt =
                    conn.prepare_cached("SELECT site_id FROM device_sites WHERE device_id = ?1 ORDER BY site_id")?;
                let rows = stmt.query_map([&id], |r| r.get::<_, String>(0))?;
                rows.map(|r| parse(&r?)).collect::<Result<_, DbError>>()?
            };
            Ok(TokenCheck::Valid(DeviceAuth {
                device_id: parse(&id)?,
                org_id: parse(&org_id)?,
                sites,
                uic_scheme: serde_json::from_str(&scheme)?,
            }))
        })
        .await
    }

    async fn push(&self, device: &DeviceAuth, batch: Batch, now_ms: u64) -> Result<Vec<u64>, DbError> {
        let device = device.clone();
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let device_id = device.device_id.to_string();
            let org_id = device.org_id.to_string();
            let first_seq = next_seq(&tx)?;
            let mut seq = first_seq;
            let applied_up_to: i64 = tx
                .prepare_cached("SELECT max_op_seq FROM devices WHERE id = ?1")?
                .query_row([&device_id], |r| r.get(0))?;
            let mut acked = Vec::with_capacity(batch.ops.len());
            let mut errors = Vec::new();
            for (index, op) in batch.ops.iter().enumerate() {
                if op.op_seq <= applied_up_to as u64 {
                    // A replay of an operation already committed.
                    acked.push(op.op_seq);
                    continue;
                }
                if op.op_seq > applied_up_to as u64 + MAX_OP_SEQ_JUMP {
                    errors.push(op_seq_gap_detail(index, op.op_seq, applied_up_to as u64));
                    continue;
                }
                let Some(collection) = Collection::from_name(&op.collection) else {
                    errors.push(ErrorDetail {
                        index,
                        op_seq: Some(op.op_seq),
                        field: None,
                        code: "unknown_collection".into(),
                        message: format!("unknown collection {:?}", op.collection),
                    });
                    continue;
                };
                let record_id = op.record_id.to_string();
                let site_id = op.site_id.to_string();
                let change = Change { stamp: op.stamp, kind: op.change_kind() };
                // Most operations create a new record: try the insert first and fall back to
                // the merge only when the record exists (saves a lookup per new record).
                if matches!(change.kind, ChangeKind::Create(_)) {
                    if let Ok(fresh) = merge::apply(None, &change, collection.mutability()) {
                        if insert_new(&tx, collection.name(), &record_id, &org_id, &site_id, &fresh.state, seq, now_ms)? {
                            seq += 1;
                            acked.push(op.op_seq);
                            continue;
                        }
                    }
                }
                let current = load(&tx, collection.name(), &record_id)?;
                if let Some(stored) = &current {
                    if stored.org_id != org_id || stored.site_id.as_deref() != Some(site_id.as_str()) {
                        errors.push(site_mismatch_detail(index, op.op_seq));
                        continue;
                    }
                }
                match merge::apply(current.as_ref().map(|c| &c.state), &change, collection.mutability()) {
                    Err(e) => errors.push(merge_error_detail(index, op.op_seq, &e)),
                    Ok(merged) => {
                        if merged.changed {
                            save(&tx, collection.name(), &record_id, &org_id, Some(&site_id), &merged.state, seq, now_ms)?;
                            seq += 1;
                        }
                        let mut insert = tx.prepare_cached(
                            "INSERT INTO conflicts (collection, record_id, org_id, site_id, field, winner, loser, detected_ms)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                        )?;
                        for c in &merged.conflicts {
                            insert.execute(params![
                                collection.name(),
                                record_id,
                                org_id,
                                site_id,
                                c.field,
                                serde_json::to_string(&c.winner)?,
                                serde_json::to_string(&c.loser)?,
                                now_ms as i64
                            ])?;
                        }
                        acked.push(op.op_seq);
                    }
                }
            }
            if !errors.is_empty() {
                // Dropping the transaction rolls everything back: nothing of the batch applies.
                return Err(DbError::Batch(errors));
            }
            if seq > first_seq {
                set_last_seq(&tx, seq - 1)?;
            }
            if let Some(last) = acked.iter().max() {
                tx.prepare_cached("UPDATE devices SET max_op_seq = ?2 WHERE id = ?1 AND max_op_seq < ?2")?
                    .execute(params![device_id, *last as i64])?;
            }
            tx.commit()?;
            Ok(acked)
        })
        .await
    }

    async fn pull(&self, device: &DeviceAuth, after: u64, limit: u32) -> Result<Page, DbError> {
        let device = device.clone();
        self.run(move |conn| {
            let tx = conn.transaction()?;
            let scope = "org_id = ?2 AND (site_id IS NULL OR site_id IN (SELECT site_id FROM device_sites WHERE device_id = ?3))";
            let mut records: Vec<RawRecord> = {
                let mut stmt = tx.prepare_cached(&format!(
                    "SELECT seq, collection, id, site_id, state FROM records WHERE seq > ?1 AND {scope} ORDER BY seq LIMIT ?4"
                ))?;
                let rows = stmt.query_map(
                    params![after as i64, device.org_id.to_string(), device.device_id.to_string(), limit as i64 + 1],
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, Option<String>>(3)?, r.get::<_, String>(4)?)),
                )?;
                rows.map(|row| {
                    let (seq, collection, id, site, state) = row?;
                    Ok(RawRecord {
                        seq: seq as u64,
                        collection,
                        record_id: parse(&id)?,
                        site_id: site.map(|s| parse(&s)).transpose()?,
                        state_json: state,
                    })
                })
                .collect::<Result<_, DbError>>()?
            };
            // One row more than asked tells whether more follow; the remainder is estimated from
            // the sequence counter (an upper bound: it also counts other sites' changes), since
            // counting exactly on every page would make a long pull quadratic.
            let has_more = records.len() > limit as usize;
            records.truncate(limit as usize);
            let last = records.last().map_or(after, |r| r.seq);
            let newest: i64 = tx.query_row("SELECT value FROM counters WHERE name = 'seq'", [], |r| r.get(0))?;
            let remaining = if has_more { (newest as u64).saturating_sub(last).max(1) } else { 0 };
            Ok(Page { records, remaining })
        })
        .await
    }

    async fn flag_clock_skew(&self, device: DeviceId, skew_ms: i64, _now_ms: u64) -> Result<(), DbError> {
        self.run(move |conn| {
            conn.execute(
                "UPDATE devices SET clock_skew_ms = ?2, clamped_count = clamped_count + 1 WHERE id = ?1",
                params![device.to_string(), skew_ms],
            )?;
            Ok(())
        })
        .await
    }

    async fn record(&self, collection: &str, id: RecordId) -> Result<Option<RecordState>, DbError> {
        let collection = collection.to_string();
        self.run(move |conn| Ok(load(conn, &collection, &id.to_string())?.map(|s| s.state))).await
    }

    async fn snapshot(&self) -> Result<Vec<SnapshotRow>, DbError> {
        self.run(|conn| {
            let mut stmt =
                conn.prepare("SELECT collection, id, site_id, state FROM records ORDER BY collection, id")?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })?;
            rows.map(|row| {
                let (collection, id, site, state) = row?;
                Ok(SnapshotRow {
                    collection,
                    id: parse(&id)?,
                    site_id: site.map(|s| parse(&s)).transpose()?,
                    state: serde_json::from_str(&state)?,
                })
            })
            .collect()
        })
        .await
    }

    async fn conflicts(&self) -> Result<Vec<ConflictRow>, DbError> {
        self.run(|conn| {
            let mut stmt =
                conn.prepare("SELECT collection, record_id, field, winner, loser FROM conflicts ORDER BY id")?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })?;
            rows.map(|row| {
                let (collection, id, field, winner, loser) = row?;
                let winner: merge::FieldState = serde_json::from_str(&winner)?;
                let loser: merge::FieldState = serde_json::from_str(&loser)?;
                Ok(ConflictRow {
                    collection,
                    record_id: parse(&id)?,
                    field,
                    winner_device: winner.stamp.device,
                    loser_device: loser.stamp.device,
                    winner: winner.value,
                    loser: loser.value,
                })
            })
            .collect()
        })
        .await
    }

    async fn expire_token(&self, device: DeviceId) -> Result<(), DbError> {
        self.run(move |conn| {
            conn.execute("UPDATE devices SET token_expires_ms = 0 WHERE id = ?1", [device.to_string()])?;
            Ok(())
        })
        .await
    }

    async fn check(&self) -> Result<(), DbError> {
        self.run(|conn| {
            let result: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
            if result == "ok" { Ok(()) } else { Err(DbError::Corrupt(result)) }
        })
        .await
    }

    async fn append_audit(&self, event: AuditEvent, now_ms: u64) -> Result<(), DbError> {
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let last: Option<(i64, String)> = tx
                .query_row("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            let (id, prev) = last.map_or((1, AUDIT_GENESIS.to_string()), |(id, hash)| (id + 1, hash));
            let hash = audit_hash(&prev, id, now_ms as i64, &event);
            tx.execute(
                "INSERT INTO audit_log (id, at_ms, actor, action, target, detail, address, prev_hash, hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    id,
                    now_ms as i64,
                    event.actor,
                    event.action,
                    event.target,
                    event.detail,
                    event.address,
                    prev,
                    hash
                ],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn audit_log(&self) -> Result<Vec<AuditRow>, DbError> {
        self.run(|conn| query_rows(conn, &format!("SELECT {AUDIT_COLUMNS} FROM audit_log ORDER BY id"), audit_row))
            .await
    }

    async fn list_sites(&self) -> Result<Vec<SiteInfo>, DbError> {
        self.run(|conn| {
            query_rows(
                conn,
                "SELECT s.id, s.name, (SELECT count(*) FROM device_sites ds JOIN devices d ON d.id = ds.device_id
                                       WHERE ds.site_id = s.id AND d.revoked_ms IS NULL)
                 FROM sites s ORDER BY s.name",
                |r| Ok(SiteInfo { id: parse(&r.get::<_, String>(0)?)?, name: r.get(1)?, active_devices: r.get(2)? }),
            )
        })
        .await
    }

    async fn add_site(&self, name: &str, pwid_estimate: Option<u32>, now_ms: u64) -> Result<SiteRef, DbError> {
        let name = name.to_string();
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let orgs: Vec<String> = query_rows(&tx, "SELECT id FROM orgs", |r| Ok(r.get(0)?))?;
            let [org] = orgs.as_slice() else {
                return Err(DbError::NotFound(format!(
                    "this server has {} organisations; sites need exactly one",
                    orgs.len()
                )));
            };
            let exists: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM sites WHERE org_id = ?1 AND name = ?2)",
                params![org, name],
                |r| r.get(0),
            )?;
            if exists {
                return Err(DbError::Conflict(format!("a site named {name:?} already exists")));
            }
            let site = SiteId(uuid::Uuid::now_v7());
            tx.execute(
                "INSERT INTO sites (id, org_id, name) VALUES (?1, ?2, ?3)",
                params![site.to_string(), org, name],
            )?;
            let state = site_reference_state(&name, pwid_estimate, now_ms);
            let seq = next_seq(&tx)?;
            save(&tx, Collection::Sites.name(), &site.to_string(), org, Some(&site.to_string()), &state, seq, now_ms)?;
            set_last_seq(&tx, seq)?;
            tx.commit()?;
            Ok(SiteRef { id: site, name })
        })
        .await
    }

    async fn list_devices(&self) -> Result<Vec<DeviceInfo>, DbError> {
        self.run(|conn| {
            query_rows(
                conn,
                "SELECT d.id, d.name, d.app_version, d.enrolled_ms, d.last_seen_ms, d.revoked_ms, d.clock_skew_ms, d.max_op_seq,
                        (SELECT group_concat(s.name, ', ') FROM device_sites ds JOIN sites s ON s.id = ds.site_id WHERE ds.device_id = d.id)
                 FROM devices d ORDER BY d.enrolled_ms",
                |r| {
                    Ok(DeviceInfo {
                        id: parse(&r.get::<_, String>(0)?)?,
                        name: r.get(1)?,
                        app_version: r.get(2)?,
                        enrolled_ms: r.get(3)?,
                        last_seen_ms: r.get(4)?,
                        revoked_ms: r.get(5)?,
                        clock_skew_ms: r.get(6)?,
                        max_op_seq: r.get(7)?,
                        sites: r.get::<_, Option<String>>(8)?.map(|s| s.split(", ").map(str::to_string).collect()).unwrap_or_default(),
                    })
                },
            )
        })
        .await
    }

    async fn revoke_device(&self, device: DeviceId, now_ms: u64) -> Result<(), DbError> {
        self.run(move |conn| {
            let changed = conn.execute(
                "UPDATE devices SET revoked_ms = coalesce(revoked_ms, ?2) WHERE id = ?1",
                params![device.to_string(), now_ms as i64],
            )?;
            if changed == 0 {
                return Err(DbError::NotFound(format!("no device {device}")));
            }
            Ok(())
        })
        .await
    }

    async fn rename_device(&self, device: DeviceId, name: &str) -> Result<(), DbError> {
        let name = name.to_string();
        self.run(move |conn| {
            let changed =
                conn.execute("UPDATE devices SET name = ?2 WHERE id = ?1", params![device.to_string(), name])?;
            if changed == 0 {
                return Err(DbError::NotFound(format!("no device {device}")));
            }
            Ok(())
        })
        .await
    }

    async fn export(&self) -> Result<Dump, DbError> {
        self.run(|conn| {
            let tx = conn.transaction()?;
            let orgs = query_rows(&tx, "SELECT id, name, uic_scheme, created_ms FROM orgs ORDER BY id", |r| {
                Ok(OrgRow {
                    id: parse(&r.get::<_, String>(0)?)?,
                    name: r.get(1)?,
                    uic_scheme: serde_json::from_str(&r.get::<_, String>(2)?)?,
                    created_ms: r.get(3)?,
                })
            })?;
            let sites = query_rows(&tx, "SELECT id, org_id, name FROM sites ORDER BY id", |r| {
                Ok(SiteRow { id: parse(&r.get::<_, String>(0)?)?, org_id: parse(&r.get::<_, String>(1)?)?, name: r.get(2)? })
            })?;
            let enrollment_codes = query_rows(
                &tx,
                "SELECT code_hash, org_id, site_id, created_ms, expires_ms, used_ms, device_id FROM enrollment_codes ORDER BY code_hash",
                |r| {
                    Ok(CodeRow {
                        code_hash: r.get(0)?,
                        org_id: parse(&r.get::<_, String>(1)?)?,
                        site_id: parse(&r.get::<_, String>(2)?)?,
                        created_ms: r.get(3)?,
                        expires_ms: r.get(4)?,
                        used_ms: r.get(5)?,
                        device_id: opt_id(r.get(6)?)?,
                    })
                },
            )?;
            let devices = query_rows(
                &tx,
                "SELECT id, org_id, name, app_version, token_hash, enrolled_ms, last_seen_ms, token_expires_ms, revoked_ms,
                        clock_skew_ms, clamped_count, max_op_seq FROM devices ORDER BY id",
                |r| {
                    Ok(DeviceRow {
                        id: parse(&r.get::<_, String>(0)?)?,
                        org_id: parse(&r.get::<_, String>(1)?)?,
                        name: r.get(2)?,
                        app_version: r.get(3)?,
                        token_hash: r.get(4)?,
                        enrolled_ms: r.get(5)?,
                        last_seen_ms: r.get(6)?,
                        token_expires_ms: r.get(7)?,
                        revoked_ms: r.get(8)?,
                        clock_skew_ms: r.get(9)?,
                        clamped_count: r.get(10)?,
                        max_op_seq: r.get(11)?,
                    })
                },
            )?;
            let device_sites = query_rows(&tx, "SELECT device_id, site_id FROM device_sites ORDER BY 1, 2", |r| {
                Ok(DeviceSiteRow { device_id: parse(&r.get::<_, String>(0)?)?, site_id: parse(&r.get::<_, String>(1)?)? })
            })?;
            let records = query_rows(
                &tx,
                "SELECT collection, id, org_id, site_id, state, seq, created_ms, updated_ms FROM records ORDER BY seq",
                |r| {
                    Ok(RecordRow {
                        collection: r.get(0)?,
                        id: parse(&r.get::<_, String>(1)?)?,
                        org_id: parse(&r.get::<_, String>(2)?)?,
                        site_id: opt_id(r.get(3)?)?,
                        state: serde_json::from_str(&r.get::<_, String>(4)?)?,
                        seq: r.get(5)?,
                        created_ms: r.get(6)?,
                        updated_ms: r.get(7)?,
                    })
                },
            )?;
            let conflicts = query_rows(
                &tx,
                "SELECT collection, record_id, org_id, site_id, field, winner, loser, detected_ms, resolved_ms, resolution
                 FROM conflicts ORDER BY id",
                |r| {
                    Ok(ConflictDumpRow {
                        collection: r.get(0)?,
                        record_id: parse(&r.get::<_, String>(1)?)?,
                        org_id: parse(&r.get::<_, String>(2)?)?,
                        site_id: opt_id(r.get(3)?)?,
                        field: r.get(4)?,
                        winner: serde_json::from_str(&r.get::<_, String>(5)?)?,
                        loser: serde_json::from_str(&r.get::<_, String>(6)?)?,
                        detected_ms: r.get(7)?,
                        resolved_ms: r.get(8)?,
                        resolution: r.get(9)?,
                    })
                },
            )?;
            let audit_log = query_rows(
                &tx,
                &format!("SELECT {AUDIT_COLUMNS} FROM audit_log ORDER BY id"),
                audit_row,
            )?;
            let last_seq: i64 = tx.query_row("SELECT value FROM counters WHERE name = 'seq'", [], |r| r.get(0))?;
            Ok(Dump {
                audit_log,
                format: DUMP_FORMAT,
                last_seq: last_seq as u64,
                orgs,
                sites,
                enrollment_codes,
                devices,
                device_sites,
                records,
                conflicts,
                accounts: Default::default(),
                purged: Default::default(),
            })
        })
        .await
    }

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn query(&self, statement: Statement) -> Result<Vec<Row>, DbError> {
        self.run(move |conn| {
            let _slow = super::sql::SlowQuery::new(&statement.sql);
            let mut stmt = conn.prepare_cached(&statement.sql)?;
            let columns = stmt.column_count();
            let mut rows = stmt.query(rusqlite::params_from_iter(statement.params.iter().map(to_sql)))?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                let mut values = Vec::with_capacity(columns);
                for i in 0..columns {
                    values.push(from_sql(row.get_ref(i)?));
                }
                out.push(values);
            }
            Ok(out)
        })
        .await
    }

    async fn execute(&self, statements: Vec<Statement>) -> Result<Vec<u64>, DbError> {
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut changed = Vec::with_capacity(statements.len());
            for statement in &statements {
                let n = tx
                    .prepare_cached(&statement.sql)?
                    .execute(rusqlite::params_from_iter(statement.params.iter().map(to_sql)))?;
                changed.push(n as u64);
            }
            tx.commit()?;
            Ok(changed)
        })
        .await
    }

    async fn import(&self, dump: Dump) -> Result<(), DbError> {
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let orgs: i64 = tx.query_row("SELECT count(*) FROM orgs", [], |r| r.get(0))?;
            if orgs > 0 {
                return Err(DbError::NotEmpty);
            }
            let id = |v: &dyn std::fmt::Display| v.to_string();
            for o in &dump.orgs {
                tx.execute(
                    "INSERT INTO orgs (id, name, uic_scheme, created_ms) VALUES (?1, ?2, ?3, ?4)",
                    params![id(&o.id), o.name, serde_json::to_string(&o.uic_scheme)?, o.created_ms],
                )?;
            }
            for x in &dump.sites {
                tx.execute("INSERT INTO sites (id, org_id, name) VALUES (?1, ?2, ?3)", params![id(&x.id), id(&x.org_id), x.name])?;
            }
            for c in &dump.enrollment_codes {
                tx.execute(
                    "INSERT INTO enrollment_codes (code_hash, org_id, site_id, created_ms, expires_ms, used_ms, device_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![c.code_hash, id(&c.org_id), id(&c.site_id), c.created_ms, c.expires_ms, c.used_ms, c.device_id.map(|d| d.to_string())],
                )?;
            }
            for d in &dump.devices {
                tx.execute(
                    "INSERT INTO devices (id, org_id, name, app_version, token_hash, enrolled_ms, last_seen_ms, token_expires_ms,
                                          revoked_ms, clock_skew_ms, clamped_count, max_op_seq)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                    params![
                        id(&d.id), id(&d.org_id), d.name, d.app_version, d.token_hash, d.enrolled_ms, d.last_seen_ms,
                        d.token_expires_ms, d.revoked_ms, d.clock_skew_ms, d.clamped_count, d.max_op_seq
                    ],
                )?;
            }
            for x in &dump.device_sites {
                tx.execute("INSERT INTO device_sites (device_id, site_id) VALUES (?1, ?2)", params![id(&x.device_id), id(&x.site_id)])?;
            }
            for r in &dump.records {
                save(&tx, &r.collection, &id(&r.id), &id(&r.org_id), r.site_id.map(|s| s.to_string()).as_deref(), &r.state, r.seq as u64, r.created_ms as u64)?;
                tx.execute("UPDATE records SET updated_ms = ?3 WHERE collection = ?1 AND id = ?2", params![r.collection, id(&r.id), r.updated_ms])?;
            }
            for c in &dump.conflicts {
                tx.execute(
                    "INSERT INTO conflicts (collection, record_id, org_id, site_id, field, winner, loser, detected_ms, resolved_ms, resolution)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    params![
                        c.collection, id(&c.record_id), id(&c.org_id), c.site_id.map(|s| s.to_string()), c.field,
                        serde_json::to_string(&c.winner)?, serde_json::to_string(&c.loser)?, c.detected_ms, c.resolved_ms, c.resolution
                    ],
                )?;
            }
            for a in &dump.audit_log {
                tx.execute(
                    "INSERT INTO audit_log (id, at_ms, actor, action, target, detail, address, prev_hash, hash)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    params![a.id, a.at_ms, a.actor, a.action, a.target, a.detail, a.address, a.prev_hash, a.hash],
                )?;
            }
            tx.execute("UPDATE counters SET value = ?1 WHERE name = 'seq'", [dump.last_seq as i64])?;
            for statement in crate::accounts::import_statements(Dialect::Sqlite, &dump.accounts)
                .into_iter()
                .chain(crate::purge::import_statements(Dialect::Sqlite, &dump.purged)) {
                tx.prepare_cached(&statement.sql)?
                    .execute(rusqlite::params_from_iter(statement.params.iter().map(to_sql)))?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        assert!(migrations().validate().is_ok());
    }
}
