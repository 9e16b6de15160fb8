//! The encrypted local store.
//!
//! One SQLCipher database per device. Every local write saves the record's merged state and
//! its outbox entry `(device_id, op_seq)` in one transaction, together with the clock and the
//! next `op_seq`, so a crash can never leave a record without its outbox entry or reuse a
//! sequence number. A pulled page is applied and the cursor advanced in one transaction too.

use crate::error::StoreError;
use outpost_core::hlc::Hlc;
use outpost_core::merge::{self, Change, RecordState};
use outpost_core::schema::{self, Mutability};
use outpost_core::uic::UicScheme;
use outpost_core::wire::{EnrollResponse, Op, OpKind, PullResponse, SiteRef};
use outpost_core::{Collection, DeviceId, HlcClock, RecordId, SiteId};
use pull::apply_page;
use recovery::start_resync;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use rusqlite_migration::{M, Migrations};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// A 256-bit database key. The app derives it from the worker's PIN (Argon2id) and keeps it
/// only in memory; it is never printed.
/// The bytes are wiped from memory when the key is dropped.
#[derive(Clone, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
pub struct StoreKey([u8; 32]);

impl StoreKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    fn pragma_value(&self) -> zeroize::Zeroizing<String> {
        let hex = zeroize::Zeroizing::new(self.0.iter().map(|b| format!("{b:02x}")).collect::<String>());
        zeroize::Zeroizing::new(format!("\"x'{}'\"", hex.as_str()))
    }
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreKey(<hidden>)")
    }
}

/// Forward-only schema migrations. Never edit a shipped entry: append a new one.
pub fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("migrations/0001_initial.sql")),
        M::up(include_str!("migrations/0002_server_state.sql")),
        M::up(include_str!("migrations/0003_resync.sql")),
        M::up(include_str!("migrations/0004_empty_tombstones.sql")),
        M::up(include_str!("migrations/0005_client_lookup.sql")),
    ])
}

/// What the device learnt when it enrolled.
#[derive(Clone, Debug)]
pub struct Identity {
    pub device_id: DeviceId,
    pub server_url: String,
    pub token: String,
    pub org_name: String,
    pub sites: Vec<SiteRef>,
    pub scheme: UicScheme,
    /// The organisation's default language, once a pull told it (older servers do not).
    pub default_language: Option<String>,
}

/// Outbox operations ready to push, in `op_seq` order, each as its stored wire JSON.
#[derive(Clone, Debug, Default)]
pub struct OutboxBatch {
    pub op_seqs: Vec<u64>,
    pub ops_json: Vec<String>,
}

impl OutboxBatch {
    pub fn is_empty(&self) -> bool {
        self.op_seqs.is_empty()
    }

    pub fn len(&self) -> usize {
        self.op_seqs.len()
    }

    /// The newest `op_seq` of the batch (0 when empty).
    pub fn last_op_seq(&self) -> u64 {
        self.op_seqs.last().copied().unwrap_or(0)
    }

    /// The body of `POST /api/v1/sync/push` carrying these operations: a [`PushRequest`]
    /// in JSON, spliced from the stored text.
    ///
    /// [`PushRequest`]: outpost_core::wire::PushRequest
    pub fn request_body(&self) -> String {
        let size = self.ops_json.iter().map(|op| op.len() + 1).sum::<usize>() + 10;
        let mut body = String::with_capacity(size);
        body.push_str("{\"ops\":[");
        for (i, op) in self.ops_json.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push_str(op);
        }
        body.push_str("]}");
        body
    }
}

/// A rejected operation kept aside so nothing the worker entered is ever silently dropped.
#[derive(Clone, Debug)]
pub struct RejectedOp {
    pub op: Op,
    pub code: String,
    pub message: String,
}

/// The device's local database.
pub struct DeviceStore {
    pub(crate) conn: Connection,
    identity: Option<Identity>,
    clock: Option<HlcClock>,
    /// Simulated clock error, for tests of devices whose clock is wrong.
    clock_offset_ms: i64,
    /// Who is who, as the pulled merge records say (see `queries`): read at the first lookup
    /// after a pull, not at every keystroke.
    pub(crate) people: std::sync::Mutex<Option<std::sync::Arc<outpost_core::people::People>>>,
}

impl fmt::Debug for DeviceStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceStore").field("device", &self.identity.as_ref().map(|i| i.device_id)).finish()
    }
}

/// Creates `path` if missing, readable and writable by this user only (0600), or makes an
/// existing one so (best effort: a read-only disk is reported by the open that follows).
pub fn private_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if path.exists() {
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        return Ok(());
    }
    std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path)?;
    Ok(())
}

impl DeviceStore {
    /// Opens (creating if needed) the encrypted database at `path` with `key`.
    pub fn open(path: &Path, key: &StoreKey) -> Result<Self, StoreError> {
        // Readable by the app's user only; SQLite gives its journal files the same mode.
        private_file(path).map_err(|e| StoreError::Corrupt(format!("cannot create {}: {e}", path.display())))?;
        let conn = Connection::open(path)?;
        // HMAC-SHA256 page authentication: as strong as SQLCipher's default SHA-512 here, and
        // hardware-accelerated on current x86 and ARM tablets. Fixed for the file's lifetime.
        let pragma = zeroize::Zeroizing::new(format!(
            "PRAGMA key = {}; PRAGMA cipher_hmac_algorithm = HMAC_SHA256;",
            key.pragma_value().as_str()
        ));
        conn.execute_batch(&pragma)?;
        // The key is only checked when the first page is read.
        match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)) {
            Ok(_) => {}
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::NotADatabase => {
                return Err(StoreError::BadKey);
            }
            Err(e) => return Err(e.into()),
        }
        // Decrypted pages stay in a 32 MiB cache: re-reading them would mean decrypting again.
        conn.execute_batch(
            "PRAGMA cipher_memory_security = OFF; PRAGMA cache_size = -32768; PRAGMA temp_store = MEMORY;
             PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
        )?;
        Self::init(conn)
    }

    /// An unencrypted in-memory store, for tests and simulations.
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<Self, StoreError> {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrations().to_latest(&mut conn)?;
        let mut store = Self { conn, identity: None, clock: None, clock_offset_ms: 0, people: Default::default() };
        store.load_identity()?;
        Ok(store)
    }

    fn load_identity(&mut self) -> Result<(), StoreError> {
        let Some(device_id) = self.meta("device_id")? else { return Ok(()) };
        let parse = |what: &str, v: Option<String>| v.ok_or_else(|| StoreError::Corrupt(format!("missing {what}")));
        let identity = Identity {
            device_id: device_id.parse().map_err(|_| StoreError::Corrupt("device_id".into()))?,
            server_url: parse("server_url", self.meta("server_url")?)?,
            token: parse("token", self.meta("token")?)?,
            org_name: parse("org_name", self.meta("org_name")?)?,
            sites: serde_json::from_str(&parse("sites", self.meta("sites")?)?)?,
            scheme: serde_json::from_str(&parse("uic_scheme", self.meta("uic_scheme")?)?)?,
            default_language: self.meta("default_language")?,
        };
        let clock = match self.meta("clock")? {
            Some(text) => {
                let last = text.parse::<Hlc>().map_err(|e| StoreError::Corrupt(e.to_string()))?;
                // After a new enrolment the clock continues, under the new device id.
                HlcClock::resume(Hlc::new(last.wall_ms, last.counter, identity.device_id))
            }
            None => HlcClock::new(identity.device_id),
        };
        self.clock = Some(clock);
        self.identity = Some(identity);
        Ok(())
    }

    fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    /// Saves what the server returned at enrolment. Replaces an earlier enrolment's identity.
    pub fn save_enrollment(&mut self, server_url: &str, enrolled: &EnrollResponse) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        write_enrollment(&tx, server_url, enrolled)?;
        tx.commit()?;
        self.load_identity()
    }

    /// Moves this store to a new enrolment (a new device identity, after the old token expired
    /// or was lost) without losing anything: records stay, operations still waiting in the
    /// outbox are re-stamped with the new device id (same times, same order, same `op_seq`) so
    /// the server accepts them, and the cursor restarts so the device pulls its sites afresh.
    /// Returns how many pending operations were carried over.
    pub fn re_enroll(&mut self, server_url: &str, enrolled: &EnrollResponse) -> Result<usize, StoreError> {
        let device = enrolled.device_id;
        let now = self.now_ms();
        let tx = self.conn.transaction()?;
        let pending: Vec<(i64, String)> = {
            let mut stmt = tx.prepare("SELECT op_seq, op FROM outbox ORDER BY op_seq")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        for (op_seq, text) in &pending {
            let mut op: Op = serde_json::from_str(text)?;
            op.stamp = Hlc::new(op.stamp.wall_ms, op.stamp.counter, device);
            tx.execute("UPDATE outbox SET op = ?2 WHERE op_seq = ?1", params![op_seq, serde_json::to_string(&op)?])?;
        }
        write_enrollment(&tx, server_url, enrolled)?;
        // Pulling from 0 again is a full resync: what the server no longer has goes here too.
        start_resync(&tx, now)?;
        if let Some(clock) = &self.clock {
            let last = clock.last();
            set_meta(&tx, "clock", &Hlc::new(last.wall_ms, last.counter, device).to_string())?;
        }
        tx.commit()?;
        self.load_identity()?;
        Ok(pending.len())
    }

    /// The name people know this tablet by.
    pub fn device_name(&self) -> Result<Option<String>, StoreError> {
        self.meta("device_name")
    }

    /// Renames the tablet (locally; the server keeps the name given at enrolment).
    pub fn set_device_name(&mut self, name: &str) -> Result<(), StoreError> {
        set_meta(&self.conn, "device_name", name)
    }

    /// The enrolment, if the device has one.
    pub fn identity(&self) -> Option<&Identity> {
        self.identity.as_ref()
    }

    /// Makes this device's clock run `offset_ms` off real time (tests of skewed tablets).
    pub fn set_clock_offset_ms(&mut self, offset_ms: i64) {
        self.clock_offset_ms = offset_ms;
    }

    /// Wall-clock milliseconds as this device sees them.
    pub fn now_ms(&self) -> u64 {
        let real = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
        (real + self.clock_offset_ms).max(0) as u64
    }

    /// Creates a record at `site` and returns its new id.
    pub fn create(
        &mut self,
        collection: Collection,
        site: SiteId,
        fields: Map<String, Value>,
    ) -> Result<RecordId, StoreError> {
        self.write_batch(|batch| batch.create(collection, site, fields))
    }

    /// Changes some fields of a record.
    pub fn update(
        &mut self,
        collection: Collection,
        id: RecordId,
        fields: Map<String, Value>,
    ) -> Result<(), StoreError> {
        self.write_batch(|batch| batch.update(collection, id, fields))
    }

    /// Deletes a record (a tombstone that syncs like any change).
    pub fn delete(&mut self, collection: Collection, id: RecordId) -> Result<(), StoreError> {
        self.write_batch(|batch| batch.delete(collection, id))
    }

    /// Runs several writes in one transaction: all of them are saved, with their outbox
    /// entries, or none (a contact with its distribution lines, referrals and tests is saved in
    /// one tap and cannot be half-saved).
    pub fn write_batch<T>(
        &mut self,
        f: impl FnOnce(&mut WriteBatch<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let now = self.now_ms();
        let identity = self.identity.as_ref().ok_or(StoreError::NotEnrolled)?;
        let clock = self.clock.as_mut().ok_or(StoreError::NotEnrolled)?;
        let tx = self.conn.transaction()?;
        let mut batch = WriteBatch { tx: &tx, identity, clock, now, last: None };
        let out = f(&mut batch)?;
        if let Some((op_seq, stamp)) = batch.last {
            set_meta(&tx, "next_op_seq", &(op_seq + 1).to_string())?;
            set_meta(&tx, "clock", &stamp.to_string())?;
        }
        tx.commit()?;
        Ok(out)
    }

    /// The merged state of one record, deleted or not.
    pub fn get(&self, collection: Collection, id: RecordId) -> Result<Option<RecordState>, StoreError> {
        Ok(load_record(&self.conn, collection, id)?.map(|r| r.state))
    }

    /// Reads a live record as its typed form (`records::Client`, ...).
    pub fn get_typed<T: serde::de::DeserializeOwned>(
        &self,
        collection: Collection,
        id: RecordId,
    ) -> Result<Option<T>, StoreError> {
        match self.get(collection, id)? {
            Some(state) if state.deleted.is_none() => Ok(Some(serde_json::from_value(Value::Object(state.values()))?)),
            _ => Ok(None),
        }
    }

    /// Up to `limit` outbox entries, oldest first.
    pub fn pending_ops(&self, limit: usize) -> Result<Vec<Op>, StoreError> {
        let mut stmt = self.conn.prepare_cached("SELECT op FROM outbox ORDER BY op_seq LIMIT ?1")?;
        let rows = stmt.query_map([limit as i64], |r| r.get::<_, String>(0))?;
        rows.map(|row| Ok(serde_json::from_str(&row?)?)).collect()
    }

    /// Up to `limit` outbox operations with an `op_seq` above `after`, oldest first, as the JSON
    /// text they were stored as: a push sends that text as it is, without decoding and
    /// re-encoding each operation (the outbox holds exactly the wire form of [`Op`]; a
    /// migration that changed the wire form would rewrite the outbox).
    pub fn pending_batch(&self, after: u64, limit: usize) -> Result<OutboxBatch, StoreError> {
        let mut stmt =
            self.conn.prepare_cached("SELECT op_seq, op FROM outbox WHERE op_seq > ?1 ORDER BY op_seq LIMIT ?2")?;
        let rows = stmt.query_map(params![after as i64, limit as i64], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?))
        })?;
        let mut batch = OutboxBatch::default();
        for row in rows {
            let (op_seq, op) = row?;
            batch.op_seqs.push(op_seq);
            batch.ops_json.push(op);
        }
        Ok(batch)
    }

    /// How many changes wait to be pushed.
    pub fn pending_count(&self) -> Result<u64, StoreError> {
        Ok(self.conn.query_row("SELECT count(*) FROM outbox", [], |r| r.get::<_, i64>(0))? as u64)
    }

    /// Changes this tablet holds that the server does not have: its outbox and the changes the
    /// server refused (kept until a person looks at them). Reported with each sync request.
    pub fn unsent_count(&self) -> Result<u64, StoreError> {
        let sql = "SELECT (SELECT count(*) FROM outbox) + (SELECT count(*) FROM rejected)";
        Ok(self.conn.query_row(sql, [], |r| r.get::<_, i64>(0))? as u64)
    }

    /// Removes acknowledged entries from the outbox. Called only after the server's reply.
    ///
    /// Written without waiting for the disk (see [`Self::without_fsync`]): if power fails right
    /// after, the entries come back and are pushed again, which the server ignores as replays.
    pub fn ack(&mut self, op_seqs: &[u64]) -> Result<(), StoreError> {
        self.without_fsync(|conn| {
            let mut sorted = op_seqs.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            let tx = conn.transaction()?;
            {
                // Acknowledged operations are almost always one consecutive run: one range
                // delete per run instead of one statement per operation.
                let mut stmt = tx.prepare_cached("DELETE FROM outbox WHERE op_seq BETWEEN ?1 AND ?2")?;
                for run in sorted.chunk_by(|a, b| b == &(a + 1)) {
                    if let (Some(first), Some(last)) = (run.first(), run.last()) {
                        stmt.execute([*first as i64, *last as i64])?;
                    }
                }
            }
            // The highest operation the server acknowledged: a server that later says it holds
            // less was restored from an older backup (see `SyncClient::sync`).
            if let Some(highest) = sorted.last() {
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES ('acked_through', ?1)
                     ON CONFLICT (key) DO UPDATE SET value = CAST(max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER)) AS TEXT)",
                    [highest.to_string()],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// Runs `f` with commits that do not wait for the disk. Only for writes that are safe to
    /// lose on power failure because they are redone: removing acknowledged outbox entries
    /// (pushed again, ignored as replays) and applying a pulled page (its cursor is in the same
    /// transaction, so the page is pulled again). In WAL mode such a commit is still atomic.
    fn without_fsync<T>(&mut self, f: impl FnOnce(&mut Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.conn.execute_batch("PRAGMA synchronous = NORMAL")?;
        let result = f(&mut self.conn);
        self.conn.execute_batch("PRAGMA synchronous = FULL")?;
        result
    }

    /// Moves an operation the server refused out of the outbox into the rejected list, where it
    /// stays visible to the worker and coordinator instead of blocking every later sync.
    pub fn quarantine(&mut self, op_seq: u64, code: &str, message: &str) -> Result<(), StoreError> {
        let now = self.now_ms();
        let tx = self.conn.transaction()?;
        let moved = tx.execute(
            "INSERT INTO rejected (op_seq, op, code, message, rejected_ms)
             SELECT op_seq, op, ?2, ?3, ?4 FROM outbox WHERE op_seq = ?1",
            params![op_seq as i64, code, message, now as i64],
        )?;
        let refused: Option<String> =
            tx.query_row("SELECT op FROM outbox WHERE op_seq = ?1", [op_seq as i64], |r| r.get(0)).optional()?;
        tx.execute("DELETE FROM outbox WHERE op_seq = ?1", [op_seq as i64])?;
        if let Some(refused) = refused {
            let op: Op = serde_json::from_str(&refused)?;
            rebuild_without_refused(&tx, &op, now)?;
        }
        tx.commit()?;
        if moved == 0 {
            tracing::warn!(op_seq, "asked to quarantine an operation that is not in the outbox");
        }
        Ok(())
    }

    /// Operations the server refused.
    pub fn rejected_ops(&self) -> Result<Vec<RejectedOp>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT op, code, message FROM rejected ORDER BY op_seq")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?)))?;
        rows.map(|row| {
            let (op, code, message) = row?;
            Ok(RejectedOp { op: serde_json::from_str(&op)?, code, message })
        })
        .collect()
    }

    /// The server sequence number up to which this device has applied changes.
    pub fn cursor(&self) -> Result<u64, StoreError> {
        Ok(self.meta("cursor")?.and_then(|c| c.parse().ok()).unwrap_or(0))
    }

    /// When the last sync completed (device milliseconds), if ever.
    pub fn last_sync_ms(&self) -> Result<Option<u64>, StoreError> {
        Ok(self.meta("last_sync_ms")?.and_then(|c| c.parse().ok()))
    }

    /// Records a completed sync.
    pub fn mark_synced(&mut self) -> Result<(), StoreError> {
        set_meta(&self.conn, "last_sync_ms", &self.now_ms().to_string())
    }

    /// Checks the store after a crash or a suspicious shutdown: SQLite's own integrity check,
    /// then the invariants the engine keeps (every outbox entry has its record, no `op_seq` at
    /// or past the next one to be issued, no pulled record beyond the cursor, the clock ahead
    /// of every pending stamp). Returns what is wrong, empty when the store is sound.
    pub fn check_consistency(&self) -> Result<Vec<String>, StoreError> {
        let mut problems = Vec::new();
        {
            let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            for row in rows {
                let row = row?;
                if row != "ok" {
                    problems.push(format!("integrity: {row}"));
                }
            }
        }
        let orphans: i64 = self.conn.query_row(
            "SELECT count(*) FROM outbox o
             WHERE NOT EXISTS (SELECT 1 FROM records r WHERE r.collection = o.collection AND r.id = o.record_id)",
            [],
            |r| r.get(0),
        )?;
        if orphans > 0 {
            problems.push(format!("{orphans} outbox entries without their record"));
        }
        let next: u64 = self.meta("next_op_seq")?.and_then(|v| v.parse().ok()).unwrap_or(1);
        let max_op: Option<i64> = self.conn.query_row("SELECT max(op_seq) FROM outbox", [], |r| r.get(0))?;
        if let Some(max_op) = max_op.filter(|m| *m as u64 >= next) {
            problems.push(format!("outbox entry {max_op} is not below the next op_seq {next}"));
        }
        let cursor = self.cursor()?;
        let beyond: i64 =
            self.conn.query_row("SELECT count(*) FROM records WHERE server_seq > ?1", [cursor as i64], |r| r.get(0))?;
        // A resync pulls from 0 again over records pulled before: they are beyond the cursor
        // until their page comes.
        if beyond > 0 && !self.resync_in_progress()? {
            problems.push(format!("{beyond} pulled records beyond the cursor {cursor}"));
        }
        if let Some(clock) = &self.clock {
            let last = clock.last();
            for op in self.pending_ops(usize::MAX >> 1)? {
                if op.stamp > last {
                    problems.push(format!("pending op {} stamped after the saved clock", op.op_seq));
                }
            }
        }
        Ok(problems)
    }

    /// Applies one pulled page and advances the cursor, in one transaction.
    ///
    /// The server's state of a record already includes every acknowledged change, so it replaces
    /// the local state; changes still waiting in the outbox are re-applied on top.
    pub fn apply_pull(&mut self, page: &PullResponse) -> Result<usize, StoreError> {
        let now = self.now_ms();
        let mut clock = self.clock.take();
        let result = self.without_fsync(|conn| apply_page(conn, page, clock.as_mut(), now));
        self.clock = clock;
        // The page may have brought merges (or taken clients away): read them again when asked.
        if let Ok(mut people) = self.people.lock() {
            *people = None;
        }
        let changed = page.org.as_ref().zip(self.identity.as_ref()).is_some_and(|(org, me)| {
            org.name != me.org_name
                || org.uic_scheme != me.scheme
                || Some(&org.default_language) != me.default_language.as_ref()
        });
        if result.is_ok() && changed {
            self.load_identity()?;
        }
        result
    }
}

/// Writes inside one transaction, see [`DeviceStore::write_batch`].
pub struct WriteBatch<'a> {
    tx: &'a Transaction<'a>,
    identity: &'a Identity,
    clock: &'a mut HlcClock,
    now: u64,
    /// The last `op_seq` and stamp used, persisted at commit.
    last: Option<(u64, Hlc)>,
}

impl WriteBatch<'_> {
    /// The transaction, for reads that decide what the batch writes.
    pub(crate) fn conn(&self) -> &rusqlite::Connection {
        self.tx
    }

    /// Creates a record at `site` and returns its new id.
    pub fn create(
        &mut self,
        collection: Collection,
        site: SiteId,
        fields: Map<String, Value>,
    ) -> Result<RecordId, StoreError> {
        let id = RecordId::from_parts(self.now, rand::random());
        self.write(collection, id, Some(site), OpKind::Create, fields)?;
        Ok(id)
    }

    /// Changes some fields of a record.
    pub fn update(
        &mut self,
        collection: Collection,
        id: RecordId,
        fields: Map<String, Value>,
    ) -> Result<(), StoreError> {
        self.write(collection, id, None, OpKind::Update, fields).map(|_| ())
    }

    /// Deletes a record.
    pub fn delete(&mut self, collection: Collection, id: RecordId) -> Result<(), StoreError> {
        self.write(collection, id, None, OpKind::Delete, Map::new()).map(|_| ())
    }

    /// The merged state of a record as this transaction sees it.
    pub fn get(&self, collection: Collection, id: RecordId) -> Result<Option<RecordState>, StoreError> {
        Ok(load_record(self.tx, collection, id)?.map(|r| r.state))
    }

    fn write(
        &mut self,
        collection: Collection,
        id: RecordId,
        site: Option<SiteId>,
        kind: OpKind,
        fields: Map<String, Value>,
    ) -> Result<Op, StoreError> {
        let mutability = collection.mutability();
        if mutability == Mutability::Reference {
            return Err(merge::MergeError::Reference.into());
        }
        if !collection.written_by_devices() {
            return Err(StoreError::ServerOnly(collection));
        }
        if let Some(site) = site
            && !self.identity.sites.iter().any(|s| s.id == site)
        {
            return Err(StoreError::SiteNotEnrolled(site));
        }
        if kind != OpKind::Delete {
            schema::validate_fields(collection, &fields, kind == OpKind::Create, &self.identity.scheme)
                .map_err(StoreError::Invalid)?;
        }
        let current = load_record(self.tx, collection, id)?;
        let site = match (&current, site) {
            (Some(stored), _) => {
                if kind != OpKind::Create && stored.state.deleted.is_some() {
                    return Err(StoreError::Deleted { collection, id });
                }
                let site = stored.site_id.ok_or_else(|| StoreError::Corrupt("record without site".into()))?;
                // Another site's client, held through the organisation's client index: read
                // only (the server would refuse the change).
                if !self.identity.sites.iter().any(|s| s.id == site) {
                    return Err(StoreError::SiteNotEnrolled(site));
                }
                site
            }
            (None, Some(site)) => site,
            (None, None) => return Err(StoreError::NotFound { collection, id }),
        };
        let stamp = self.clock.tick(self.now);
        let bases: BTreeMap<String, Hlc> = match &current {
            Some(stored) => {
                fields.keys().filter_map(|k| stored.state.fields.get(k).map(|f| (k.clone(), f.stamp))).collect()
            }
            None => BTreeMap::new(),
        };
        let op_seq = match self.last {
            Some((last, _)) => last + 1,
            None => next_op_seq(self.tx)?,
        };
        let op = Op {
            op_seq,
            collection: collection.name().into(),
            record_id: id,
            site_id: site,
            kind,
            stamp,
            fields,
            bases,
        };
        let merged =
            merge::apply(current.as_ref().map(|c| &c.state), &Change { stamp, kind: op.change_kind() }, mutability)?;
        if let Some(stored) = &current
            && !has_pending(self.tx, collection.name(), id)?
        {
            // The first local change of a record the server sent: keep the server's state
            // so the change can be taken back if the server refuses it.
            set_server_state(self.tx, collection.name(), id, Some(&serde_json::to_string(&stored.state)?))?;
        }
        save_record(self.tx, collection.name(), id, Some(site), &merged.state, None, None, self.now)?;
        self.tx.execute(
            "INSERT INTO outbox (op_seq, collection, record_id, op, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![op_seq as i64, collection.name(), id.to_string(), serde_json::to_string(&op)?, self.now as i64],
        )?;
        self.last = Some((op_seq, stamp));
        Ok(op)
    }
}

pub(crate) struct StoredRecord {
    pub site_id: Option<SiteId>,
    pub state: RecordState,
}

fn has_pending(conn: &Connection, collection: &str, id: RecordId) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM outbox WHERE collection = ?1 AND record_id = ?2)")?
        .query_row(params![collection, id.to_string()], |r| r.get(0))?)
}

fn set_server_state(conn: &Connection, collection: &str, id: RecordId, state: Option<&str>) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE records SET server_state = ?3 WHERE collection = ?1 AND id = ?2")?.execute(params![
        collection,
        id.to_string(),
        state
    ])?;
    Ok(())
}

/// Rebuilds a record after the server refused one of its changes: the server's last state (or
/// nothing, for a record created here) with the changes still pending applied on top. A record
/// that only existed through refused changes disappears from the local data (the refused
/// change itself is kept in the rejected list).
fn rebuild_without_refused(conn: &Connection, refused: &Op, now: u64) -> Result<(), StoreError> {
    let Some(collection) = Collection::from_name(&refused.collection) else { return Ok(()) };
    let id = refused.record_id;
    let row: Option<(Option<String>, Option<String>)> = conn
        .query_row(
            "SELECT server_state, site_id FROM records WHERE collection = ?1 AND id = ?2",
            params![collection.name(), id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((server_state, site)) = row else { return Ok(()) };
    let mut state: Option<RecordState> = server_state.map(|s| serde_json::from_str(&s)).transpose()?;
    let pending = pending_for(conn, collection.name(), id)?;
    for op in &pending {
        let change = Change { stamp: op.stamp, kind: op.change_kind() };
        if let Ok(merged) = merge::apply(state.as_ref(), &change, collection.mutability()) {
            state = Some(merged.state);
        }
    }
    match state {
        None => {
            conn.execute(
                "DELETE FROM records WHERE collection = ?1 AND id = ?2",
                params![collection.name(), id.to_string()],
            )?;
        }
        Some(state) => {
            let site = site.map(|s| s.parse().map_err(|_| StoreError::Corrupt("site id".into()))).transpose()?;
            save_record(conn, collection.name(), id, site, &state, None, None, now)?;
            if pending.is_empty() {
                set_server_state(conn, collection.name(), id, None)?;
            }
        }
    }
    Ok(())
}

fn write_enrollment(conn: &Connection, server_url: &str, enrolled: &EnrollResponse) -> Result<(), StoreError> {
    let pairs = [
        ("device_id", enrolled.device_id.to_string()),
        ("server_url", server_url.trim_end_matches('/').to_string()),
        ("token", enrolled.token.clone()),
        ("org_name", enrolled.org_name.clone()),
        ("sites", serde_json::to_string(&enrolled.sites)?),
        ("uic_scheme", serde_json::to_string(&enrolled.uic_scheme)?),
        // A new device identity: the server holds none of its operations yet.
        ("acked_through", "0".to_string()),
        ("restore_pending", "0".to_string()),
    ];
    for (k, v) in pairs {
        set_meta(conn, k, &v)?;
    }
    Ok(())
}

fn set_meta(conn: &Connection, key: &str, value: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
}

fn next_op_seq(tx: &Transaction<'_>) -> Result<u64, StoreError> {
    let text: Option<String> =
        tx.query_row("SELECT value FROM meta WHERE key = 'next_op_seq'", [], |r| r.get(0)).optional()?;
    Ok(text.and_then(|t| t.parse().ok()).unwrap_or(1))
}

pub(crate) fn load_record(
    conn: &Connection,
    collection: Collection,
    id: RecordId,
) -> Result<Option<StoredRecord>, StoreError> {
    let row: Option<(Option<String>, String)> = conn
        .prepare_cached("SELECT site_id, state FROM records WHERE collection = ?1 AND id = ?2")?
        .query_row(params![collection.name(), id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(site, state)| {
        Ok(StoredRecord {
            site_id: site.map(|s| s.parse().map_err(|_| StoreError::Corrupt("site id".into()))).transpose()?,
            state: serde_json::from_str(&state)?,
        })
    })
    .transpose()
}

/// Inserts or replaces a record. `state_json` is `state` as JSON text when that is at hand (a
/// pulled record as the server sent it), saving writing it out again.
#[allow(clippy::too_many_arguments)]
fn save_record(
    conn: &Connection,
    collection: &str,
    id: RecordId,
    site: Option<SiteId>,
    state: &RecordState,
    state_json: Option<&str>,
    server_seq: Option<u64>,
    now: u64,
) -> Result<(), StoreError> {
    let state_json = match state_json {
        Some(text) => std::borrow::Cow::Borrowed(text),
        None => std::borrow::Cow::Owned(serde_json::to_string(state)?),
    };
    let text = |name: &str| state.fields.get(name).and_then(|f| f.value.as_str());
    conn.prepare_cached(
        "INSERT INTO records (collection, id, site_id, state, deleted, server_seq, updated_ms,
                              uic, client_id, contact_id, occurred_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (collection, id) DO UPDATE SET
           site_id = excluded.site_id, state = excluded.state, deleted = excluded.deleted,
           server_seq = coalesce(excluded.server_seq, records.server_seq), updated_ms = excluded.updated_ms,
           uic = excluded.uic, client_id = excluded.client_id, contact_id = excluded.contact_id,
           occurred_at = excluded.occurred_at",
    )?
    .execute(params![
        collection,
        id.to_string(),
        site.map(|s| s.to_string()),
        state_json,
        state.deleted.is_some(),
        server_seq.map(|s| s as i64),
        now as i64,
        text("uic"),
        text("client_id"),
        text("contact_id"),
        text("occurred_at"),
    ])?;
    Ok(())
}

fn pending_for(conn: &Connection, collection: &str, id: RecordId) -> Result<Vec<Op>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT op FROM outbox WHERE collection = ?1 AND record_id = ?2 ORDER BY op_seq")?;
    let rows = stmt.query_map(params![collection, id.to_string()], |r| r.get::<_, String>(0))?;
    rows.map(|row| Ok(serde_json::from_str(&row?)?)).collect()
}

mod pull;
mod recovery;

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
