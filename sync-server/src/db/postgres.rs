//! PostgreSQL storage, for several server instances over one database.
//!
//! Each push is a handful of set-based statements whatever the batch size: lock the device's
//! row (its pushes are serialised, so a retried batch racing itself is a replay), load and lock
//! every record the batch touches in one query, merge in Rust with the rules of
//! `outpost_core::merge` (the same code as SQLite and the devices), take a block of sequence
//! numbers, and write all records and conflicts with one `unnest` statement each.
//!
//! Sequence numbers come from the `counters` row, locked from `UPDATE ... RETURNING` to commit,
//! so they become visible in the order they were handed out: a device pulling `seq > cursor`
//! never skips a change that commits late.

use super::sql::{Dialect, Row as SqlRow, SqlValue, Statement};
use super::{
    AUDIT_GENESIS, AuditEvent, AuditRow, Batch, CodeRow, ConflictDumpRow, ConflictRow, DUMP_FORMAT, DbError,
    DeviceAuth, DeviceInfo, DeviceRow, DeviceSiteRow, Dump, Enrolled, MAX_OP_SEQ_JUMP, NewDevice, OrgRow, Page,
    RawRecord, RecordRow, SiteInfo, SiteRow, SnapshotRow, Storage, TokenCheck, audit_hash, demo_seed,
    merge_error_detail, op_seq_gap_detail, site_mismatch_detail, site_reference_state,
};
use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod};
use outpost_core::merge::{self, Change, ConflictEntry, RecordState};
use outpost_core::wire::{ErrorDetail, SiteRef};
use outpost_core::{Collection, DeviceId, OrgId, RecordId, SiteId};
use std::collections::HashMap;
use std::str::FromStr;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::Type;
use tokio_postgres::{IsolationLevel, NoTls};
use uuid::Uuid;

type PgParam = Box<dyn tokio_postgres::types::ToSql + Sync + Send>;

/// Parameters with the PostgreSQL types their values have (text, bigint, double precision).
fn pg_params(values: &[SqlValue]) -> (Vec<Type>, Vec<PgParam>) {
    values
        .iter()
        .map(|v| -> (Type, PgParam) {
            match v {
                SqlValue::Null => (Type::TEXT, Box::new(None::<String>)),
                SqlValue::Int(i) => (Type::INT8, Box::new(*i)),
                SqlValue::Real(r) => (Type::FLOAT8, Box::new(*r)),
                SqlValue::Text(t) => (Type::TEXT, Box::new(t.clone())),
            }
        })
        .unzip()
}

fn params_ref(params: &[PgParam]) -> Vec<&(dyn tokio_postgres::types::ToSql + Sync)> {
    params.iter().map(|p| p.as_ref() as &(dyn tokio_postgres::types::ToSql + Sync)).collect()
}

fn from_pg_row(row: &tokio_postgres::Row) -> Result<SqlRow, DbError> {
    let mut values = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let t = column.type_();
        let value = if *t == Type::INT8 {
            row.get::<_, Option<i64>>(i).map(SqlValue::Int)
        } else if *t == Type::INT4 {
            row.get::<_, Option<i32>>(i).map(|v| SqlValue::Int(v.into()))
        } else if *t == Type::INT2 {
            row.get::<_, Option<i16>>(i).map(|v| SqlValue::Int(v.into()))
        } else if *t == Type::BOOL {
            row.get::<_, Option<bool>>(i).map(SqlValue::from)
        } else if *t == Type::FLOAT8 {
            row.get::<_, Option<f64>>(i).map(SqlValue::Real)
        } else if *t == Type::FLOAT4 {
            row.get::<_, Option<f32>>(i).map(|v| SqlValue::Real(v.into()))
        } else if *t == Type::UUID {
            row.get::<_, Option<Uuid>>(i).map(|v| SqlValue::Text(v.to_string()))
        } else if *t == Type::TEXT || *t == Type::VARCHAR || *t == Type::NAME || *t == Type::BPCHAR {
            row.get::<_, Option<String>>(i).map(SqlValue::Text)
        } else {
            return Err(DbError::Backend(format!("column {} has type {t}: cast it in the query", column.name())));
        };
        values.push(value.unwrap_or(SqlValue::Null));
    }
    Ok(values)
}

/// Forward-only migrations, applied in order under an advisory lock.
const MIGRATIONS: &[(i32, &str)] = &[
    (1, include_str!("../../migrations/postgres/0001_initial.sql")),
    (2, include_str!("../../migrations/postgres/0002_audit.sql")),
    (3, include_str!("../../migrations/postgres/0003_accounts.sql")),
    (4, include_str!("../../migrations/postgres/0004_report_projection.sql")),
    (5, include_str!("../../migrations/postgres/0005_purged_records.sql")),
];

/// Advisory lock key that serialises migrations between instances starting together.
const MIGRATION_LOCK: i64 = 0x6f75_7470_6f73_7401;

/// Advisory lock key that serialises appends to the audit chain between instances.
const AUDIT_LOCK: i64 = MIGRATION_LOCK + 2;

/// PostgreSQL-backed storage over a connection pool. Cloning shares the pool.
#[derive(Clone)]
pub struct PgStorage {
    pool: Pool,
}

impl std::fmt::Debug for PgStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStorage").field("pool_size", &self.pool.status().max_size).finish()
    }
}

impl From<tokio_postgres::Error> for DbError {
    fn from(e: tokio_postgres::Error) -> Self {
        match e.code() {
            Some(c) if *c == SqlState::DISK_FULL => DbError::Full,
            Some(c)
                if *c == SqlState::T_R_SERIALIZATION_FAILURE
                    || *c == SqlState::T_R_DEADLOCK_DETECTED
                    || *c == SqlState::LOCK_NOT_AVAILABLE
                    || *c == SqlState::TOO_MANY_CONNECTIONS =>
            {
                DbError::Busy
            }
            None if e.is_closed() => DbError::Busy,
            _ => match e.as_db_error() {
                // The server's own message says what went wrong ("db error" alone does not).
                Some(db) => DbError::Backend(format!("{}: {}", db.code().code(), db.message())),
                None => DbError::Backend(e.to_string()),
            },
        }
    }
}

impl From<deadpool_postgres::PoolError> for DbError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        tracing::warn!(error = %e, "no database connection available");
        DbError::Busy
    }
}

impl PgStorage {
    /// Connects to `url` (`postgres://user@host:port/db`), optionally inside `schema` (created
    /// if missing; tests use one schema each), and brings the schema up to date.
    pub async fn connect(url: &str, schema: Option<&str>, max_connections: usize) -> Result<Self, DbError> {
        let mut config =
            tokio_postgres::Config::from_str(url).map_err(|e| DbError::Backend(format!("bad database URL: {e}")))?;
        if let Some(schema) = schema {
            if !schema.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(DbError::Backend("schema names are letters, digits and underscores".into()));
            }
            let (client, connection) = config.connect(NoTls).await?;
            let task = tokio::spawn(connection);
            client.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}")).await?;
            drop(client);
            let _ = task.await;
            config.options(format!("-c search_path={schema}"));
        }
        let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(max_connections)
            .build()
            .map_err(|e| DbError::Backend(format!("connection pool: {e}")))?;
        let storage = Self { pool };
        storage.migrate().await?;
        Ok(storage)
    }

    /// Applies the migrations this build knows and the database has not seen.
    pub async fn migrate(&self) -> Result<(), DbError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .await?;
        let applied: Vec<i32> =
            tx.query("SELECT version FROM schema_migrations", &[]).await?.iter().map(|r| r.get(0)).collect();
        for (version, sql) in MIGRATIONS {
            if !applied.contains(version) {
                tx.batch_execute(sql).await?;
                tx.execute("INSERT INTO schema_migrations (version) VALUES ($1)", &[version]).await?;
                tracing::info!(version, "PostgreSQL schema migrated");
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Drops a test schema and everything in it.
    pub async fn drop_schema(&self, schema: &str) -> Result<(), DbError> {
        if !schema.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(DbError::Backend("bad schema name".into()));
        }
        let client = self.pool.get().await?;
        client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).await?;
        Ok(())
    }
}

const AUDIT_COLUMNS: &str = "id, at_ms, actor, action, target, detail, address, prev_hash, hash";

fn audit_row(r: &tokio_postgres::Row) -> AuditRow {
    AuditRow {
        id: r.get(0),
        at_ms: r.get(1),
        actor: r.get(2),
        action: r.get(3),
        target: r.get(4),
        detail: r.get(5),
        address: r.get(6),
        prev_hash: r.get(7),
        hash: r.get(8),
    }
}

/// Takes `count` sequence numbers; returns the first. Holds the counter row until commit.
async fn take_seqs(tx: &impl GenericClient, count: i64) -> Result<i64, DbError> {
    let row =
        tx.query_one("UPDATE counters SET value = value + $1 WHERE name = 'seq' RETURNING value", &[&count]).await?;
    let last: i64 = row.get(0);
    Ok(last - count + 1)
}

/// A record's new state, to be written.
struct Write {
    collection: &'static str,
    id: Uuid,
    site: Option<Uuid>,
    state: RecordState,
}

/// Writes records with consecutive sequence numbers from `first_seq`, in one statement.
async fn write_records(
    tx: &impl GenericClient,
    org: Uuid,
    writes: &[Write],
    first_seq: i64,
    now_ms: i64,
) -> Result<(), DbError> {
    let collections: Vec<&str> = writes.iter().map(|w| w.collection).collect();
    let ids: Vec<Uuid> = writes.iter().map(|w| w.id).collect();
    let sites: Vec<Option<Uuid>> = writes.iter().map(|w| w.site).collect();
    let states: Vec<String> = writes.iter().map(|w| serde_json::to_string(&w.state)).collect::<Result<_, _>>()?;
    let deleted: Vec<bool> = writes.iter().map(|w| w.state.deleted.is_some()).collect();
    let seqs: Vec<i64> = (0..writes.len() as i64).map(|i| first_seq + i).collect();
    tx.execute(
        "INSERT INTO records (collection, id, org_id, site_id, state, deleted, seq, created_ms, updated_ms)
         SELECT c, i, $3, s, st::jsonb, d, q, $8, $8
         FROM unnest($1::text[], $2::uuid[], $4::uuid[], $5::text[], $6::bool[], $7::int8[]) AS t (c, i, s, st, d, q)
         ON CONFLICT (collection, id) DO UPDATE SET
           state = excluded.state, deleted = excluded.deleted, seq = excluded.seq, updated_ms = excluded.updated_ms",
        &[&collections, &ids, &org, &sites, &states, &deleted, &seqs, &now_ms],
    )
    .await?;
    Ok(())
}

impl Storage for PgStorage {
    async fn seed_demo(&self, now_ms: u64) -> Result<bool, DbError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&(MIGRATION_LOCK + 1)]).await?;
        let orgs: i64 = tx.query_one("SELECT count(*) FROM orgs", &[]).await?.get(0);
        if orgs > 0 {
            return Ok(false);
        }
        let seed = demo_seed(now_ms)?;
        let org = seed.org_id.0;
        tx.execute(
            "INSERT INTO orgs (id, name, uic_scheme, created_ms) VALUES ($1, $2, $3::text::jsonb, $4)",
            &[&org, &seed.org_name, &serde_json::to_string(&seed.uic_scheme)?, &(now_ms as i64)],
        )
        .await?;
        for (site, name) in &seed.sites {
            tx.execute("INSERT INTO sites (id, org_id, name) VALUES ($1, $2, $3)", &[&site.0, &org, name]).await?;
        }
        let writes: Vec<Write> = seed
            .records
            .into_iter()
            .map(|r| Write {
                collection: r.collection.name(),
                id: r.id.0,
                site: r.site_id.map(|s| s.0),
                state: r.state,
            })
            .collect();
        let first = take_seqs(&tx, writes.len() as i64).await?;
        write_records(&tx, org, &writes, first, now_ms as i64).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn create_enrollment_code(
        &self,
        site_name: &str,
        code_hash: &str,
        expires_ms: u64,
        now_ms: u64,
    ) -> Result<SiteRef, DbError> {
        let client = self.pool.get().await?;
        let rows = client.query("SELECT id, org_id, name FROM sites WHERE name = $1", &[&site_name]).await?;
        let (site, org, name): (Uuid, Uuid, String) = match rows.as_slice() {
            [one] => (one.get(0), one.get(1), one.get(2)),
            [] => {
                let names: Vec<String> =
                    client.query("SELECT name FROM sites ORDER BY name", &[]).await?.iter().map(|r| r.get(0)).collect();
                return Err(DbError::NotFound(format!("no site is named {site_name:?}; sites: {}", names.join(", "))));
            }
            _ => return Err(DbError::NotFound(format!("several organisations have a site named {site_name:?}"))),
        };
        client
            .execute(
                "INSERT INTO enrollment_codes (code_hash, org_id, site_id, created_ms, expires_ms) VALUES ($1, $2, $3, $4, $5)",
                &[&code_hash, &org, &site, &(now_ms as i64), &(expires_ms as i64)],
            )
            .await?;
        Ok(SiteRef { id: SiteId(site), name })
    }

    async fn enroll(&self, code_hash: &str, device: NewDevice, now_ms: u64) -> Result<Enrolled, DbError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        // Consuming the code is the first write: a second enrolment with it finds it used.
        let row = tx
            .query_opt(
                "UPDATE enrollment_codes SET used_ms = $2 WHERE code_hash = $1 AND used_ms IS NULL AND expires_ms > $2
                 RETURNING org_id, site_id",
                &[&code_hash, &(now_ms as i64)],
            )
            .await?;
        let Some(row) = row else { return Err(DbError::CodeInvalid) };
        let (org, site): (Uuid, Uuid) = (row.get(0), row.get(1));
        let device_id = Uuid::now_v7();
        tx.execute(
            "INSERT INTO devices (id, org_id, name, app_version, token_hash, enrolled_ms, last_seen_ms, token_expires_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
            &[&device_id, &org, &device.name, &device.app_version, &device.token_hash, &(now_ms as i64), &(device.token_expires_ms as i64)],
        )
        .await?;
        tx.execute("INSERT INTO device_sites (device_id, site_id) VALUES ($1, $2)", &[&device_id, &site]).await?;
        tx.execute("UPDATE enrollment_codes SET device_id = $2 WHERE code_hash = $1", &[&code_hash, &device_id])
            .await?;
        // A code issued for a worker ties the device to them: removing the worker from a site
        // later removes the site from their devices.
        tx.execute(
            "UPDATE devices SET user_id = (SELECT user_id FROM enrollment_codes WHERE code_hash = $1) WHERE id = $2",
            &[&code_hash, &device_id],
        )
        .await?;
        let org_row = tx.query_one("SELECT name, uic_scheme::text FROM orgs WHERE id = $1", &[&org]).await?;
        let site_name: String = tx.query_one("SELECT name FROM sites WHERE id = $1", &[&site]).await?.get(0);
        tx.commit().await?;
        let scheme: String = org_row.get(1);
        Ok(Enrolled {
            device_id: DeviceId(device_id),
            org_id: OrgId(org),
            org_name: org_row.get(0),
            sites: vec![SiteRef { id: SiteId(site), name: site_name }],
            uic_scheme: serde_json::from_str(&scheme)?,
        })
    }

    async fn authenticate(&self, token_hash: &str, now_ms: u64, ttl_ms: u64) -> Result<TokenCheck, DbError> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                "SELECT d.id, d.org_id, d.last_seen_ms, d.token_expires_ms, d.revoked_ms, o.uic_scheme::text,
                        array(SELECT site_id FROM device_sites s WHERE s.device_id = d.id ORDER BY site_id)
                 FROM devices d JOIN orgs o ON o.id = d.org_id WHERE d.token_hash = $1",
                &[&token_hash],
            )
            .await?;
        let Some(row) = row else { return Ok(TokenCheck::Unknown) };
        let (id, org, last_seen, expires, revoked): (Uuid, Uuid, i64, i64, Option<i64>) =
            (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
        if revoked.is_some() {
            return Ok(TokenCheck::Revoked);
        }
        if expires as u64 <= now_ms {
            return Ok(TokenCheck::Expired);
        }
        if now_ms.saturating_sub(last_seen as u64) > 60_000 {
            client
                .execute(
                    "UPDATE devices SET last_seen_ms = $2, token_expires_ms = $3 WHERE id = $1",
                    &[&id, &(now_ms as i64), &(now_ms.saturating_add(ttl_ms) as i64)],
                )
                .await?;
        }
        let scheme: String = row.get(5);
        let sites: Vec<Uuid> = row.get(6);
        Ok(TokenCheck::Valid(DeviceAuth {
            device_id: DeviceId(id),
            org_id: OrgId(org),
            sites: sites.into_iter().map(SiteId).collect(),
            uic_scheme: serde_json::from_str(&scheme)?,
        }))
    }

    async fn push(&self, device: &DeviceAuth, batch: Batch, now_ms: u64) -> Result<Vec<u64>, DbError> {
        let mut client = self.pool.get().await?;
        let tx = client.build_transaction().isolation_level(IsolationLevel::ReadCommitted).start().await?;
        let org = device.org_id.0;
        // Serialises this device's pushes across instances.
        let applied_up_to: i64 = tx
            .query_one("SELECT max_op_seq FROM devices WHERE id = $1 FOR UPDATE", &[&device.device_id.0])
            .await?
            .get(0);

        let fresh: Vec<(usize, &outpost_core::wire::Op)> =
            batch.ops.iter().enumerate().filter(|(_, op)| op.op_seq > applied_up_to as u64).collect();
        let mut acked: Vec<u64> =
            batch.ops.iter().filter(|op| op.op_seq <= applied_up_to as u64).map(|op| op.op_seq).collect();

        // Load and lock every record the batch touches, in one query, in a fixed order.
        let keys_c: Vec<&str> = fresh.iter().map(|(_, op)| op.collection.as_str()).collect();
        let keys_i: Vec<Uuid> = fresh.iter().map(|(_, op)| op.record_id.0).collect();
        let rows = tx
            .query(
                "SELECT r.collection, r.id, r.org_id, r.site_id, r.state::text FROM records r
                 JOIN unnest($1::text[], $2::uuid[]) AS k (c, i) ON r.collection = k.c AND r.id = k.i
                 ORDER BY r.collection, r.id FOR UPDATE OF r",
                &[&keys_c, &keys_i],
            )
            .await?;
        let mut current: HashMap<(String, Uuid), (Uuid, Option<Uuid>, RecordState)> = HashMap::new();
        for row in rows {
            let state: String = row.get(4);
            current.insert((row.get(0), row.get(1)), (row.get(2), row.get(3), serde_json::from_str(&state)?));
        }

        // Merge in order with the core's rules, exactly as the SQLite backend does.
        let mut errors: Vec<ErrorDetail> = Vec::new();
        let mut changed: Vec<(String, Uuid)> = Vec::new();
        let mut conflicts: Vec<(Collection, Uuid, Uuid, ConflictEntry)> = Vec::new();
        for (index, op) in &fresh {
            if op.op_seq > applied_up_to as u64 + MAX_OP_SEQ_JUMP {
                errors.push(op_seq_gap_detail(*index, op.op_seq, applied_up_to as u64));
                continue;
            }
            let Some(collection) = Collection::from_name(&op.collection) else {
                errors.push(ErrorDetail {
                    index: *index,
                    op_seq: Some(op.op_seq),
                    field: None,
                    code: "unknown_collection".into(),
                    message: format!("unknown collection {:?}", op.collection),
                });
                continue;
            };
            let key = (op.collection.clone(), op.record_id.0);
            let existing = current.get(&key);
            if let Some((record_org, site, _)) = existing {
                if *record_org != org || *site != Some(op.site_id.0) {
                    errors.push(site_mismatch_detail(*index, op.op_seq));
                    continue;
                }
            }
            let change = Change { stamp: op.stamp, kind: op.change_kind() };
            match merge::apply(existing.map(|(_, _, s)| s), &change, collection.mutability()) {
                Err(e) => errors.push(merge_error_detail(*index, op.op_seq, &e)),
                Ok(merged) => {
                    conflicts
                        .extend(merged.conflicts.into_iter().map(|c| (collection, op.record_id.0, op.site_id.0, c)));
                    if merged.changed {
                        if !changed.contains(&key) {
                            changed.push(key.clone());
                        }
                        current.insert(key, (org, Some(op.site_id.0), merged.state));
                    }
                    acked.push(op.op_seq);
                }
            }
        }
        if !errors.is_empty() {
            return Err(DbError::Batch(errors));
        }

        let writes: Vec<Write> = changed
            .into_iter()
            .filter_map(|key| {
                let collection = Collection::from_name(&key.0)?.name();
                current.remove(&key).map(|(_, site, state)| Write { collection, id: key.1, site, state })
            })
            .collect();
        if !writes.is_empty() {
            let first = take_seqs(&tx, writes.len() as i64).await?;
            write_records(&tx, org, &writes, first, now_ms as i64).await?;
        }
        if !conflicts.is_empty() {
            let c: Vec<&str> = conflicts.iter().map(|x| x.0.name()).collect();
            let r: Vec<Uuid> = conflicts.iter().map(|x| x.1).collect();
            let s: Vec<Uuid> = conflicts.iter().map(|x| x.2).collect();
            let f: Vec<&str> = conflicts.iter().map(|x| x.3.field.as_str()).collect();
            let w: Vec<String> =
                conflicts.iter().map(|x| serde_json::to_string(&x.3.winner)).collect::<Result<_, _>>()?;
            let l: Vec<String> =
                conflicts.iter().map(|x| serde_json::to_string(&x.3.loser)).collect::<Result<_, _>>()?;
            tx.execute(
                "INSERT INTO conflicts (collection, record_id, org_id, site_id, field, winner, loser, detected_ms)
                 SELECT c, r, $7, s, f, w::jsonb, l::jsonb, $8
                 FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[]) AS t (c, r, s, f, w, l)",
                &[&c, &r, &s, &f, &w, &l, &org, &(now_ms as i64)],
            )
            .await?;
        }
        if let Some(last) = acked.iter().max() {
            tx.execute(
                "UPDATE devices SET max_op_seq = greatest(max_op_seq, $2) WHERE id = $1",
                &[&device.device_id.0, &(*last as i64)],
            )
            .await?;
        }
        tx.commit().await?;
        // Acknowledge in the order of the batch.
        acked.sort_unstable();
        Ok(acked)
    }

    async fn pull(&self, device: &DeviceAuth, after: u64, limit: u32) -> Result<Page, DbError> {
        let client = self.pool.get().await?;
        let sites: Vec<Uuid> = device.sites.iter().map(|s| s.0).collect();
        let rows = client
            .query(
                "SELECT seq, collection, id, site_id, state::text FROM records
                 WHERE org_id = $1 AND seq > $2 AND (site_id IS NULL OR site_id = ANY($3))
                 ORDER BY seq LIMIT $4",
                &[&device.org_id.0, &(after as i64), &sites, &(limit as i64 + 1)],
            )
            .await?;
        let has_more = rows.len() > limit as usize;
        let mut records = Vec::with_capacity(rows.len());
        for row in rows.iter().take(limit as usize) {
            let seq: i64 = row.get(0);
            let site: Option<Uuid> = row.get(3);
            records.push(RawRecord {
                seq: seq as u64,
                collection: row.get(1),
                record_id: RecordId(row.get(2)),
                site_id: site.map(SiteId),
                state_json: row.get(4),
            });
        }
        let last = records.last().map_or(after, |r| r.seq);
        let newest: i64 = client.query_one("SELECT value FROM counters WHERE name = 'seq'", &[]).await?.get(0);
        let remaining = if has_more { (newest as u64).saturating_sub(last).max(1) } else { 0 };
        Ok(Page { records, remaining })
    }

    async fn flag_clock_skew(&self, device: DeviceId, skew_ms: i64, _now_ms: u64) -> Result<(), DbError> {
        let client = self.pool.get().await?;
        client
            .execute(
                "UPDATE devices SET clock_skew_ms = $2, clamped_count = clamped_count + 1 WHERE id = $1",
                &[&device.0, &skew_ms],
            )
            .await?;
        Ok(())
    }

    async fn record(&self, collection: &str, id: RecordId) -> Result<Option<RecordState>, DbError> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt("SELECT state::text FROM records WHERE collection = $1 AND id = $2", &[&collection, &id.0])
            .await?;
        row.map(|r| Ok(serde_json::from_str(r.get::<_, &str>(0))?)).transpose()
    }

    async fn snapshot(&self) -> Result<Vec<SnapshotRow>, DbError> {
        let client = self.pool.get().await?;
        let rows = client
            .query("SELECT collection, id, site_id, state::text FROM records ORDER BY collection, id", &[])
            .await?;
        rows.iter()
            .map(|row| {
                let site: Option<Uuid> = row.get(2);
                Ok(SnapshotRow {
                    collection: row.get(0),
                    id: RecordId(row.get(1)),
                    site_id: site.map(SiteId),
                    state: serde_json::from_str(row.get::<_, &str>(3))?,
                })
            })
            .collect()
    }

    async fn conflicts(&self) -> Result<Vec<ConflictRow>, DbError> {
        let client = self.pool.get().await?;
        let rows = client
            .query("SELECT collection, record_id, field, winner::text, loser::text FROM conflicts ORDER BY id", &[])
            .await?;
        rows.iter()
            .map(|row| {
                let winner: merge::FieldState = serde_json::from_str(row.get::<_, &str>(3))?;
                let loser: merge::FieldState = serde_json::from_str(row.get::<_, &str>(4))?;
                Ok(ConflictRow {
                    collection: row.get(0),
                    record_id: RecordId(row.get(1)),
                    field: row.get(2),
                    winner_device: winner.stamp.device,
                    loser_device: loser.stamp.device,
                    winner: winner.value,
                    loser: loser.value,
                })
            })
            .collect()
    }

    async fn expire_token(&self, device: DeviceId) -> Result<(), DbError> {
        let client = self.pool.get().await?;
        client.execute("UPDATE devices SET token_expires_ms = 0 WHERE id = $1", &[&device.0]).await?;
        Ok(())
    }

    async fn check(&self) -> Result<(), DbError> {
        let client = self.pool.get().await?;
        // Every record's sequence number is unique and below the counter.
        let row = client
            .query_one(
                "SELECT (SELECT count(*) - count(DISTINCT seq) FROM records),
                        (SELECT count(*) FROM records WHERE seq > (SELECT value FROM counters WHERE name = 'seq'))",
                &[],
            )
            .await?;
        let (duplicates, beyond): (i64, i64) = (row.get(0), row.get(1));
        if duplicates != 0 || beyond != 0 {
            return Err(DbError::Corrupt(format!("{duplicates} duplicate and {beyond} out-of-range sequence numbers")));
        }
        Ok(())
    }

    async fn append_audit(&self, event: AuditEvent, now_ms: u64) -> Result<(), DbError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        // One writer at a time extends the chain, across instances.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&AUDIT_LOCK]).await?;
        let last = tx.query_opt("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1", &[]).await?;
        let (id, prev): (i64, String) =
            last.map_or((1, AUDIT_GENESIS.to_string()), |r| (r.get::<_, i64>(0) + 1, r.get(1)));
        let hash = audit_hash(&prev, id, now_ms as i64, &event);
        tx.execute(
            "INSERT INTO audit_log (id, at_ms, actor, action, target, detail, address, prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &id,
                &(now_ms as i64),
                &event.actor,
                &event.action,
                &event.target,
                &event.detail,
                &event.address,
                &prev,
                &hash,
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn audit_log(&self) -> Result<Vec<AuditRow>, DbError> {
        let client = self.pool.get().await?;
        let rows = client.query(&format!("SELECT {AUDIT_COLUMNS} FROM audit_log ORDER BY id"), &[]).await?;
        Ok(rows.iter().map(audit_row).collect())
    }

    async fn list_sites(&self) -> Result<Vec<SiteInfo>, DbError> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT s.id, s.name, (SELECT count(*) FROM device_sites ds JOIN devices d ON d.id = ds.device_id
                                       WHERE ds.site_id = s.id AND d.revoked_ms IS NULL)
                 FROM sites s ORDER BY s.name",
                &[],
            )
            .await?;
        Ok(rows.iter().map(|r| SiteInfo { id: SiteId(r.get(0)), name: r.get(1), active_devices: r.get(2) }).collect())
    }

    async fn add_site(&self, name: &str, pwid_estimate: Option<u32>, now_ms: u64) -> Result<SiteRef, DbError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let orgs: Vec<Uuid> = tx.query("SELECT id FROM orgs", &[]).await?.iter().map(|r| r.get(0)).collect();
        let [org] = orgs.as_slice() else {
            return Err(DbError::NotFound(format!(
                "this server has {} organisations; sites need exactly one",
                orgs.len()
            )));
        };
        let exists: bool = tx
            .query_one("SELECT EXISTS (SELECT 1 FROM sites WHERE org_id = $1 AND name = $2)", &[org, &name])
            .await?
            .get(0);
        if exists {
            return Err(DbError::Conflict(format!("a site named {name:?} already exists")));
        }
        let site = Uuid::now_v7();
        tx.execute("INSERT INTO sites (id, org_id, name) VALUES ($1, $2, $3)", &[&site, org, &name]).await?;
        let write = Write {
            collection: Collection::Sites.name(),
            id: site,
            site: Some(site),
            state: site_reference_state(name, pwid_estimate, now_ms),
        };
        let first = take_seqs(&tx, 1).await?;
        write_records(&tx, *org, std::slice::from_ref(&write), first, now_ms as i64).await?;
        tx.commit().await?;
        Ok(SiteRef { id: SiteId(site), name: name.to_string() })
    }

    async fn list_devices(&self) -> Result<Vec<DeviceInfo>, DbError> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT d.id, d.name, d.app_version, d.enrolled_ms, d.last_seen_ms, d.revoked_ms, d.clock_skew_ms, d.max_op_seq,
                        array(SELECT s.name FROM device_sites ds JOIN sites s ON s.id = ds.site_id WHERE ds.device_id = d.id ORDER BY s.name)
                 FROM devices d ORDER BY d.enrolled_ms",
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| DeviceInfo {
                id: DeviceId(r.get(0)),
                name: r.get(1),
                app_version: r.get(2),
                enrolled_ms: r.get(3),
                last_seen_ms: r.get(4),
                revoked_ms: r.get(5),
                clock_skew_ms: r.get(6),
                max_op_seq: r.get(7),
                sites: r.get(8),
            })
            .collect())
    }

    async fn revoke_device(&self, device: DeviceId, now_ms: u64) -> Result<(), DbError> {
        let client = self.pool.get().await?;
        let changed = client
            .execute(
                "UPDATE devices SET revoked_ms = coalesce(revoked_ms, $2) WHERE id = $1",
                &[&device.0, &(now_ms as i64)],
            )
            .await?;
        if changed == 0 {
            return Err(DbError::NotFound(format!("no device {device}")));
        }
        Ok(())
    }

    async fn rename_device(&self, device: DeviceId, name: &str) -> Result<(), DbError> {
        let client = self.pool.get().await?;
        let changed = client.execute("UPDATE devices SET name = $2 WHERE id = $1", &[&device.0, &name]).await?;
        if changed == 0 {
            return Err(DbError::NotFound(format!("no device {device}")));
        }
        Ok(())
    }

    async fn export(&self) -> Result<Dump, DbError> {
        let mut client = self.pool.get().await?;
        let tx =
            client.build_transaction().isolation_level(IsolationLevel::RepeatableRead).read_only(true).start().await?;
        let orgs = tx
            .query("SELECT id, name, uic_scheme::text, created_ms FROM orgs ORDER BY id", &[])
            .await?
            .iter()
            .map(|r| {
                Ok(OrgRow {
                    id: OrgId(r.get(0)),
                    name: r.get(1),
                    uic_scheme: serde_json::from_str(r.get::<_, &str>(2))?,
                    created_ms: r.get(3),
                })
            })
            .collect::<Result<_, DbError>>()?;
        let sites = tx
            .query("SELECT id, org_id, name FROM sites ORDER BY id", &[])
            .await?
            .iter()
            .map(|r| SiteRow { id: SiteId(r.get(0)), org_id: OrgId(r.get(1)), name: r.get(2) })
            .collect();
        let enrollment_codes = tx
            .query(
                "SELECT code_hash, org_id, site_id, created_ms, expires_ms, used_ms, device_id FROM enrollment_codes ORDER BY code_hash",
                &[],
            )
            .await?
            .iter()
            .map(|r| CodeRow {
                code_hash: r.get(0),
                org_id: OrgId(r.get(1)),
                site_id: SiteId(r.get(2)),
                created_ms: r.get(3),
                expires_ms: r.get(4),
                used_ms: r.get(5),
                device_id: r.get::<_, Option<Uuid>>(6).map(DeviceId),
            })
            .collect();
        let devices = tx
            .query(
                "SELECT id, org_id, name, app_version, token_hash, enrolled_ms, last_seen_ms, token_expires_ms, revoked_ms,
                        clock_skew_ms, clamped_count, max_op_seq FROM devices ORDER BY id",
                &[],
            )
            .await?
            .iter()
            .map(|r| DeviceRow {
                id: DeviceId(r.get(0)),
                org_id: OrgId(r.get(1)),
                name: r.get(2),
                app_version: r.get(3),
                token_hash: r.get(4),
                enrolled_ms: r.get(5),
                last_seen_ms: r.get(6),
                token_expires_ms: r.get(7),
                revoked_ms: r.get(8),
                clock_skew_ms: r.get(9),
                clamped_count: r.get(10),
                max_op_seq: r.get(11),
            })
            .collect();
        let device_sites = tx
            .query("SELECT device_id, site_id FROM device_sites ORDER BY 1, 2", &[])
            .await?
            .iter()
            .map(|r| DeviceSiteRow { device_id: DeviceId(r.get(0)), site_id: SiteId(r.get(1)) })
            .collect();
        let records = tx
            .query("SELECT collection, id, org_id, site_id, state::text, seq, created_ms, updated_ms FROM records ORDER BY seq", &[])
            .await?
            .iter()
            .map(|r| {
                Ok(RecordRow {
                    collection: r.get(0),
                    id: RecordId(r.get(1)),
                    org_id: OrgId(r.get(2)),
                    site_id: r.get::<_, Option<Uuid>>(3).map(SiteId),
                    state: serde_json::from_str(r.get::<_, &str>(4))?,
                    seq: r.get(5),
                    created_ms: r.get(6),
                    updated_ms: r.get(7),
                })
            })
            .collect::<Result<_, DbError>>()?;
        let conflicts = tx
            .query(
                "SELECT collection, record_id, org_id, site_id, field, winner::text, loser::text, detected_ms, resolved_ms, resolution
                 FROM conflicts ORDER BY id",
                &[],
            )
            .await?
            .iter()
            .map(|r| {
                Ok(ConflictDumpRow {
                    collection: r.get(0),
                    record_id: RecordId(r.get(1)),
                    org_id: OrgId(r.get(2)),
                    site_id: r.get::<_, Option<Uuid>>(3).map(SiteId),
                    field: r.get(4),
                    winner: serde_json::from_str(r.get::<_, &str>(5))?,
                    loser: serde_json::from_str(r.get::<_, &str>(6))?,
                    detected_ms: r.get(7),
                    resolved_ms: r.get(8),
                    resolution: r.get(9),
                })
            })
            .collect::<Result<_, DbError>>()?;
        let audit_log = tx
            .query(&format!("SELECT {AUDIT_COLUMNS} FROM audit_log ORDER BY id"), &[])
            .await?
            .iter()
            .map(audit_row)
            .collect();
        let last_seq: i64 = tx.query_one("SELECT value FROM counters WHERE name = 'seq'", &[]).await?.get(0);
        tx.commit().await?;
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
    }

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn query(&self, statement: Statement) -> Result<Vec<SqlRow>, DbError> {
        let _slow = super::sql::SlowQuery::new(&statement.sql);
        let client = self.pool.get().await?;
        let (types, params) = pg_params(&statement.params);
        let prepared = client.prepare_typed_cached(&statement.sql, &types).await?;
        let rows = client.query(&prepared, &params_ref(&params)).await?;
        rows.iter().map(from_pg_row).collect()
    }

    async fn execute(&self, statements: Vec<Statement>) -> Result<Vec<u64>, DbError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let mut changed = Vec::with_capacity(statements.len());
        for statement in &statements {
            let (types, params) = pg_params(&statement.params);
            let prepared = tx.prepare_typed_cached(&statement.sql, &types).await?;
            changed.push(tx.execute(&prepared, &params_ref(&params)).await?);
        }
        tx.commit().await?;
        Ok(changed)
    }

    async fn import(&self, dump: Dump) -> Result<(), DbError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&(MIGRATION_LOCK + 1)]).await?;
        let orgs: i64 = tx.query_one("SELECT count(*) FROM orgs", &[]).await?.get(0);
        if orgs > 0 {
            return Err(DbError::NotEmpty);
        }
        for o in &dump.orgs {
            tx.execute(
                "INSERT INTO orgs (id, name, uic_scheme, created_ms) VALUES ($1, $2, $3::text::jsonb, $4)",
                &[&o.id.0, &o.name, &serde_json::to_string(&o.uic_scheme)?, &o.created_ms],
            )
            .await?;
        }
        for x in &dump.sites {
            tx.execute("INSERT INTO sites (id, org_id, name) VALUES ($1, $2, $3)", &[&x.id.0, &x.org_id.0, &x.name])
                .await?;
        }
        for c in &dump.enrollment_codes {
            tx.execute(
                "INSERT INTO enrollment_codes (code_hash, org_id, site_id, created_ms, expires_ms, used_ms, device_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &c.code_hash,
                    &c.org_id.0,
                    &c.site_id.0,
                    &c.created_ms,
                    &c.expires_ms,
                    &c.used_ms,
                    &c.device_id.map(|d| d.0),
                ],
            )
            .await?;
        }
        for d in &dump.devices {
            tx.execute(
                "INSERT INTO devices (id, org_id, name, app_version, token_hash, enrolled_ms, last_seen_ms, token_expires_ms,
                                      revoked_ms, clock_skew_ms, clamped_count, max_op_seq)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                &[
                    &d.id.0, &d.org_id.0, &d.name, &d.app_version, &d.token_hash, &d.enrolled_ms, &d.last_seen_ms,
                    &d.token_expires_ms, &d.revoked_ms, &d.clock_skew_ms, &d.clamped_count, &d.max_op_seq,
                ],
            )
            .await?;
        }
        for x in &dump.device_sites {
            tx.execute(
                "INSERT INTO device_sites (device_id, site_id) VALUES ($1, $2)",
                &[&x.device_id.0, &x.site_id.0],
            )
            .await?;
        }
        // Records in chunks, one statement each.
        for chunk in dump.records.chunks(1000) {
            let c: Vec<&str> = chunk.iter().map(|r| r.collection.as_str()).collect();
            let i: Vec<Uuid> = chunk.iter().map(|r| r.id.0).collect();
            let o: Vec<Uuid> = chunk.iter().map(|r| r.org_id.0).collect();
            let s: Vec<Option<Uuid>> = chunk.iter().map(|r| r.site_id.map(|x| x.0)).collect();
            let st: Vec<String> = chunk.iter().map(|r| serde_json::to_string(&r.state)).collect::<Result<_, _>>()?;
            let d: Vec<bool> = chunk.iter().map(|r| r.state.deleted.is_some()).collect();
            let q: Vec<i64> = chunk.iter().map(|r| r.seq).collect();
            let cr: Vec<i64> = chunk.iter().map(|r| r.created_ms).collect();
            let up: Vec<i64> = chunk.iter().map(|r| r.updated_ms).collect();
            tx.execute(
                "INSERT INTO records (collection, id, org_id, site_id, state, deleted, seq, created_ms, updated_ms)
                 SELECT c, i, o, s, st::jsonb, d, q, cr, up
                 FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::bool[], $7::int8[], $8::int8[], $9::int8[])
                   AS t (c, i, o, s, st, d, q, cr, up)",
                &[&c, &i, &o, &s, &st, &d, &q, &cr, &up],
            )
            .await?;
        }
        for c in &dump.conflicts {
            tx.execute(
                "INSERT INTO conflicts (collection, record_id, org_id, site_id, field, winner, loser, detected_ms, resolved_ms, resolution)
                 VALUES ($1, $2, $3, $4, $5, $6::text::jsonb, $7::text::jsonb, $8, $9, $10)",
                &[
                    &c.collection, &c.record_id.0, &c.org_id.0, &c.site_id.map(|x| x.0), &c.field,
                    &serde_json::to_string(&c.winner)?, &serde_json::to_string(&c.loser)?, &c.detected_ms, &c.resolved_ms, &c.resolution,
                ],
            )
            .await?;
        }
        for a in &dump.audit_log {
            tx.execute(
                "INSERT INTO audit_log (id, at_ms, actor, action, target, detail, address, prev_hash, hash)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[&a.id, &a.at_ms, &a.actor, &a.action, &a.target, &a.detail, &a.address, &a.prev_hash, &a.hash],
            )
            .await?;
        }
        tx.execute("UPDATE counters SET value = $1 WHERE name = 'seq'", &[&(dump.last_seq as i64)]).await?;
        for statement in crate::accounts::import_statements(Dialect::Postgres, &dump.accounts)
            .into_iter()
            .chain(crate::purge::import_statements(Dialect::Postgres, &dump.purged))
        {
            let (types, params) = pg_params(&statement.params);
            let prepared = tx.prepare_typed_cached(&statement.sql, &types).await?;
            tx.execute(&prepared, &params_ref(&params)).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
