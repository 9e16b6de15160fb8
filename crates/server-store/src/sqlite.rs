//! SQLite: the embedded default, one file under the data directory, in WAL mode with
//! `synchronous = FULL`. IO only: it runs the statements it is given.
//!
//! One connection serialises writers (SQLite allows one writer at a time anyway); a pool of
//! read-only connections serves reads beside it, so a pull or a report never waits behind a push
//! (in WAL mode readers and the writer do not block each other: each read transaction sees the
//! database as of its first read). Read transactions and reads that run on their own go to the
//! pool; everything else to the writer. Statements run on the blocking thread pool so the async
//! runtime keeps serving; an open transaction is a blocking task that holds its connection and
//! runs the statements sent to it.

use crate::backend::{Backend, BoxFuture, Connection, TxMode};
use crate::error::DbError;
use crate::migrations;
use crate::sql::{Dialect, Outcome, SqlValue, Statement};
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{ErrorCode, ffi};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use tokio::sync::{mpsc, oneshot};

/// SQLite storage. Cloning shares the connections.
#[derive(Clone, Debug)]
pub struct Sqlite {
    /// The one connection that writes.
    conn: Arc<Mutex<rusqlite::Connection>>,
    /// Read-only connections (none for an in-memory database, which only its own connection
    /// sees).
    readers: Option<Arc<Readers>>,
}

/// Read-only connections, taken one at a time (waiting when all are busy).
#[derive(Debug)]
struct Readers {
    free: Mutex<Vec<rusqlite::Connection>>,
    returned: Condvar,
}

impl Readers {
    fn open(path: &Path, count: usize) -> Result<Self, DbError> {
        use rusqlite::OpenFlags;
        let mut free = Vec::with_capacity(count);
        for _ in 0..count {
            let conn = rusqlite::Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            conn.busy_timeout(std::time::Duration::from_secs(10))?;
            conn.set_prepared_statement_cache_capacity(256);
            conn.execute_batch("PRAGMA query_only = ON;")?;
            free.push(conn);
        }
        Ok(Self { free: Mutex::new(free), returned: Condvar::new() })
    }

    /// A free connection, waiting for one when all are in use.
    fn take(self: &Arc<Self>) -> Reader {
        let mut free = self.free.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        loop {
            if let Some(conn) = free.pop() {
                return Reader { pool: self.clone(), conn: Some(conn) };
            }
            free = self.returned.wait(free).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }
}

/// A reader taken from the pool, given back when dropped.
struct Reader {
    pool: Arc<Readers>,
    conn: Option<rusqlite::Connection>,
}

impl std::ops::Deref for Reader {
    type Target = rusqlite::Connection;

    fn deref(&self) -> &rusqlite::Connection {
        // Present from `take` until `drop`.
        self.conn.as_ref().unwrap_or_else(|| unreachable!("a reader holds its connection until dropped"))
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // A read left open by a failure is ended before the next user gets the connection.
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            self.pool.free.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(conn);
            self.pool.returned.notify_one();
        }
    }
}

/// Whether every statement only reads (so it may run on a read-only connection).
fn only_reads(statements: &[Statement]) -> bool {
    statements.iter().all(|s| {
        let sql = s.sql.trim_start();
        s.returns_rows && sql.get(..6).is_some_and(|word| word.eq_ignore_ascii_case("select"))
    })
}

/// How many read-only connections a file database gets: one per core, two to eight.
fn reader_count() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 8)
}

/// A connection for a transaction: the writer (locked) or a reader from the pool.
enum Held<'a> {
    Writer(std::sync::MutexGuard<'a, rusqlite::Connection>),
    Reader(Reader),
}

impl std::ops::Deref for Held<'_> {
    type Target = rusqlite::Connection;

    fn deref(&self) -> &rusqlite::Connection {
        match self {
            Held::Writer(guard) => guard,
            Held::Reader(reader) => reader,
        }
    }
}

impl Sqlite {
    /// The connection `statements` (or a transaction in `mode`) should run on.
    fn hold<'a>(conn: &'a Mutex<rusqlite::Connection>, readers: Option<&Arc<Readers>>, reads: bool) -> Held<'a> {
        match readers {
            Some(pool) if reads => Held::Reader(pool.take()),
            _ => Held::Writer(lock(conn)),
        }
    }
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        let extended = match &e {
            rusqlite::Error::SqliteFailure(f, _) => Some(f.extended_code),
            _ => None,
        };
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => DbError::Busy,
            Some(ErrorCode::DiskFull) => DbError::Full,
            Some(ErrorCode::ReadOnly | ErrorCode::SystemIoFailure | ErrorCode::CannotOpen) => {
                DbError::Unwritable(e.to_string())
            }
            Some(ErrorCode::ConstraintViolation)
                if matches!(extended, Some(ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY)) =>
            {
                DbError::Unique(e.to_string())
            }
            _ => DbError::Backend(e.to_string()),
        }
    }
}

impl rusqlite::ToSql for SqlValue {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            SqlValue::Null => ToSqlOutput::Owned(Value::Null),
            SqlValue::Int(i) => ToSqlOutput::Owned(Value::Integer(*i)),
            SqlValue::Real(r) => ToSqlOutput::Owned(Value::Real(*r)),
            SqlValue::Text(t) | SqlValue::Json(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            SqlValue::Uuid(u) => ToSqlOutput::Owned(Value::Text(u.to_string())),
            SqlValue::Bool(b) => ToSqlOutput::Owned(Value::Integer(i64::from(*b))),
        })
    }
}

fn from_sqlite(value: ValueRef<'_>) -> SqlValue {
    match value {
        ValueRef::Null => SqlValue::Null,
        ValueRef::Integer(i) => SqlValue::Int(i),
        ValueRef::Real(r) => SqlValue::Real(r),
        ValueRef::Text(t) | ValueRef::Blob(t) => SqlValue::Text(String::from_utf8_lossy(t).into_owned()),
    }
}

/// Runs one statement on the connection.
fn run_statement(conn: &rusqlite::Connection, statement: &Statement) -> Result<Outcome, DbError> {
    let _slow = crate::SlowQuery::new(&statement.sql);
    let mut prepared = conn.prepare_cached(&statement.sql)?;
    if prepared.parameter_count() != statement.params.len() {
        return Err(DbError::Backend(format!(
            "the statement has {} placeholders but {} values: {}",
            prepared.parameter_count(),
            statement.params.len(),
            statement.sql
        )));
    }
    let params = rusqlite::params_from_iter(statement.params.iter());
    if !statement.returns_rows {
        let changed = prepared.execute(params)?;
        return Ok(Outcome { rows: Vec::new(), changed: changed as u64 });
    }
    let columns = prepared.column_count();
    let mut rows = prepared.query(params)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut values = Vec::with_capacity(columns);
        for i in 0..columns {
            values.push(from_sqlite(row.get_ref(i)?));
        }
        out.push(values);
    }
    drop(rows);
    let changed = if prepared.readonly() { out.len() as u64 } else { conn.changes() };
    Ok(Outcome { rows: out, changed })
}

fn run_all(conn: &rusqlite::Connection, statements: &[Statement]) -> Result<Vec<Outcome>, DbError> {
    statements.iter().map(|s| run_statement(conn, s)).collect()
}

fn begin_sql(mode: TxMode) -> Option<&'static str> {
    match mode {
        TxMode::Autocommit => None,
        TxMode::Read => Some("BEGIN DEFERRED"),
        TxMode::Write => Some("BEGIN IMMEDIATE"),
    }
}

fn lock(conn: &Mutex<rusqlite::Connection>) -> std::sync::MutexGuard<'_, rusqlite::Connection> {
    // A panic while holding the connection leaves no open transaction behind (the guard's
    // owner rolled back or never began), so the connection is still usable.
    conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Creates `path` (and its directory, 0700) if missing, and makes it readable and writable by
/// this user only (0600).
fn private_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    if path.exists() {
        // Best effort: a read-only disk is reported by the open that follows, in its own words.
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        return Ok(());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    }
    std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path)?;
    Ok(())
}

impl Sqlite {
    /// Opens (creating if needed) the database file and brings its schema up to date. A data
    /// directory it creates is readable by this user only (0700), and the database file is
    /// made so (0600) whatever it was: SQLite gives its WAL and shared-memory files the same.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        private_file(path).map_err(|e| DbError::Backend(format!("cannot create {}: {e}", path.display())))?;
        let conn = rusqlite::Connection::open(path)?;
        // SQLite quietly opens a file it cannot write read-only; a server that cannot store
        // what devices push must say so at start, not with every push.
        if conn.is_readonly(rusqlite::MAIN_DB)? {
            return Err(DbError::Unwritable(format!(
                "{} is on a read-only disk or not writable by this user",
                path.display()
            )));
        }
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;")?;
        let mut store = Self::init(conn)?;
        // Opened after the migrations, so they read the current schema.
        store.readers = Some(Arc::new(Readers::open(path, reader_count())?));
        Ok(store)
    }

    /// A private in-memory database (tests); it has no readers beside its one connection.
    pub fn open_in_memory() -> Result<Self, DbError> {
        Self::init(rusqlite::Connection::open_in_memory()?)
    }

    fn init(mut conn: rusqlite::Connection) -> Result<Self, DbError> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.set_prepared_statement_cache_capacity(256);
        conn.execute_batch("PRAGMA foreign_keys = ON;")?;
        Self::migrate(&mut conn)?;
        Ok(Self { conn: Arc::new(Mutex::new(conn)), readers: None })
    }

    fn migrate(conn: &mut rusqlite::Connection) -> Result<(), DbError> {
        let migrations = migrations::sqlite()?;
        let adopted: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
            [migrations::HISTORY_TABLE],
            |r| r.get(0),
        )?;
        if !adopted {
            // rusqlite_migration numbered the applied migrations in user_version.
            let applied: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            if applied > 0 {
                let tx = conn.transaction()?;
                for sql in migrations::adoption(&migrations, applied as usize, time::OffsetDateTime::now_utc())? {
                    tx.execute_batch(&sql)?;
                }
                tx.commit()?;
                tracing::info!(applied, "SQLite migration history moved to refinery");
            }
        }
        migrations::runner(&migrations).run(conn).map_err(migrations::failed)?;
        Ok(())
    }
}

enum Request {
    Run(Vec<Statement>, oneshot::Sender<Result<Vec<Outcome>, DbError>>),
    Commit(oneshot::Sender<Result<(), DbError>>),
}

/// An open transaction: a blocking task holding the connection, fed statements over a channel.
/// When the channel closes without a commit, the task rolls back.
struct SqliteTx {
    requests: mpsc::UnboundedSender<Request>,
}

fn closed() -> DbError {
    DbError::Backend("the database task ended".into())
}

impl Connection for SqliteTx {
    fn run(&mut self, statements: Vec<Statement>) -> BoxFuture<'_, Result<Vec<Outcome>, DbError>> {
        Box::pin(async move {
            let (reply, answer) = oneshot::channel();
            self.requests.send(Request::Run(statements, reply)).map_err(|_| closed())?;
            answer.await.map_err(|_| closed())?
        })
    }

    fn commit(self: Box<Self>) -> BoxFuture<'static, Result<(), DbError>> {
        Box::pin(async move {
            let (reply, answer) = oneshot::channel();
            self.requests.send(Request::Commit(reply)).map_err(|_| closed())?;
            answer.await.map_err(|_| closed())?
        })
    }
}

impl Backend for Sqlite {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn begin(&self, mode: TxMode) -> BoxFuture<'_, Result<Box<dyn Connection>, DbError>> {
        let conn = self.conn.clone();
        let readers = self.readers.clone();
        Box::pin(async move {
            let (requests, mut incoming) = mpsc::unbounded_channel::<Request>();
            let (ready, started) = oneshot::channel::<Result<(), DbError>>();
            tokio::task::spawn_blocking(move || {
                let guard = Self::hold(&conn, readers.as_ref(), mode == TxMode::Read);
                if let Some(begin) = begin_sql(mode)
                    && let Err(e) = guard.execute_batch(begin)
                {
                    let _ = ready.send(Err(e.into()));
                    return;
                }
                if ready.send(Ok(())).is_err() {
                    if begin_sql(mode).is_some() {
                        let _ = guard.execute_batch("ROLLBACK");
                    }
                    return;
                }
                let mut failed = false;
                while let Some(request) = incoming.blocking_recv() {
                    match request {
                        Request::Run(statements, reply) => {
                            let outcome = run_all(&guard, &statements);
                            failed |= outcome.is_err();
                            let _ = reply.send(outcome);
                        }
                        Request::Commit(reply) => {
                            let result = match begin_sql(mode) {
                                None => Ok(()),
                                Some(_) if failed => {
                                    let _ = guard.execute_batch("ROLLBACK");
                                    Err(DbError::Backend("a statement of the transaction failed".into()))
                                }
                                Some(_) => guard.execute_batch("COMMIT").map_err(DbError::from),
                            };
                            if result.is_err() && begin_sql(mode).is_some() && !guard.is_autocommit() {
                                let _ = guard.execute_batch("ROLLBACK");
                            }
                            let _ = reply.send(result);
                            return;
                        }
                    }
                }
                // Dropped without a commit.
                if !guard.is_autocommit() {
                    let _ = guard.execute_batch("ROLLBACK");
                }
            });
            started.await.map_err(|_| closed())??;
            Ok(Box::new(SqliteTx { requests }) as Box<dyn Connection>)
        })
    }

    fn run_once(&self, mode: TxMode, statements: Vec<Statement>) -> BoxFuture<'_, Result<Vec<Outcome>, DbError>> {
        let conn = self.conn.clone();
        let readers = self.readers.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let reads = match mode {
                    TxMode::Read => true,
                    TxMode::Autocommit => only_reads(&statements),
                    TxMode::Write => false,
                };
                let guard = Self::hold(&conn, readers.as_ref(), reads);
                let Some(begin) = begin_sql(mode) else { return run_all(&guard, &statements) };
                guard.execute_batch(begin)?;
                match run_all(&guard, &statements) {
                    Ok(outcomes) => match guard.execute_batch("COMMIT") {
                        Ok(()) => Ok(outcomes),
                        Err(e) => {
                            let _ = guard.execute_batch("ROLLBACK");
                            Err(e.into())
                        }
                    },
                    Err(e) => {
                        let _ = guard.execute_batch("ROLLBACK");
                        Err(e)
                    }
                }
            })
            .await
            .map_err(|e| DbError::Backend(format!("storage task failed: {e}")))?
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).map(|m| m.permissions().mode() & 0o777).unwrap_or(0)
    }

    fn count_probes(rows: &[Outcome]) -> i64 {
        match rows.first().and_then(|o| o.rows.first()).and_then(|r| r.first()) {
            Some(SqlValue::Int(n)) => *n,
            _ => -1,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_long_read_does_not_hold_up_writes() -> Result<(), DbError> {
        let dir = tempfile::tempdir().map_err(|e| DbError::Backend(e.to_string()))?;
        let store = Sqlite::open(&dir.path().join("outpost.db"))?;
        let probes = || Statement::query("SELECT count(*) FROM server_meta WHERE name = 'probe'", vec![]);
        // A report's snapshot stays open...
        let mut reading = store.begin(TxMode::Read).await?;
        assert_eq!(count_probes(&reading.run(vec![probes()]).await?), 0);
        // ...while a push writes (with one shared connection it waited for the report to end).
        let write = store.run_once(
            TxMode::Write,
            vec![Statement::exec("INSERT INTO server_meta (name, value) VALUES ('probe', 'x')", vec![])],
        );
        tokio::time::timeout(std::time::Duration::from_secs(5), write)
            .await
            .map_err(|_| DbError::Backend("the write waited for the open read".into()))??;
        // Reads alone, beside the open one, see the write; the open one keeps its snapshot.
        assert_eq!(count_probes(&store.run_once(TxMode::Autocommit, vec![probes()]).await?), 1);
        assert_eq!(count_probes(&reading.run(vec![probes()]).await?), 0);
        reading.commit().await?;
        assert_eq!(count_probes(&store.run_once(TxMode::Read, vec![probes()]).await?), 1);
        // A write sent as a read by mistake is refused by the read-only connection, not run.
        let mut wrong = store.begin(TxMode::Read).await?;
        let refused = wrong.run(vec![Statement::exec("DELETE FROM server_meta", vec![])]).await;
        assert!(refused.is_err());
        drop(wrong);
        assert_eq!(count_probes(&store.run_once(TxMode::Autocommit, vec![probes()]).await?), 1);
        Ok(())
    }

    #[test]
    fn only_plain_selects_count_as_reads() {
        assert!(only_reads(&[Statement::query("  select 1", vec![]), Statement::query("SELECT 2", vec![])]));
        assert!(!only_reads(&[Statement::query("SELECT 1", vec![]), Statement::exec("UPDATE x SET y = 1", vec![])]));
        assert!(!only_reads(&[Statement::query("INSERT INTO x VALUES (1) RETURNING id", vec![])]));
    }

    #[test]
    fn the_data_directory_and_database_files_are_private() -> Result<(), DbError> {
        let dir = tempfile::tempdir().map_err(|e| DbError::Backend(e.to_string()))?;
        let data = dir.path().join("data");
        let db = data.join("outpost.db");
        let store = Sqlite::open(&db)?;
        assert_eq!(mode(&data), 0o700, "the data directory it created");
        assert_eq!(mode(&db), 0o600);
        for companion in ["outpost.db-wal", "outpost.db-shm"] {
            let path = data.join(companion);
            assert!(path.exists(), "{companion} exists while the database is open");
            assert_eq!(mode(&path), 0o600, "SQLite gives {companion} the database's mode");
        }
        drop(store);
        // A database made readable by others is made private again at the next start.
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644))
            .map_err(|e| DbError::Backend(e.to_string()))?;
        drop(Sqlite::open(&db)?);
        assert_eq!(mode(&db), 0o600);
        Ok(())
    }
}
