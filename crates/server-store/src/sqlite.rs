//! SQLite: the embedded default, one file under the data directory, in WAL mode with
//! `synchronous = FULL`. IO only: it runs the statements it is given.
//!
//! One connection serialises writers (SQLite allows one writer at a time anyway). Statements
//! run on the blocking thread pool so the async runtime keeps serving; an open transaction is
//! a blocking task that holds the connection and runs the statements sent to it.

use crate::backend::{Backend, BoxFuture, Connection, TxMode};
use crate::error::DbError;
use crate::migrations;
use crate::sql::{Dialect, Outcome, SqlValue, Statement};
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{ErrorCode, ffi};
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

/// SQLite storage. Cloning shares the connection.
#[derive(Clone, Debug)]
pub struct Sqlite {
    conn: Arc<Mutex<rusqlite::Connection>>,
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
        Self::init(conn)
    }

    /// A private in-memory database (tests).
    pub fn open_in_memory() -> Result<Self, DbError> {
        Self::init(rusqlite::Connection::open_in_memory()?)
    }

    fn init(mut conn: rusqlite::Connection) -> Result<Self, DbError> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.set_prepared_statement_cache_capacity(256);
        conn.execute_batch("PRAGMA foreign_keys = ON;")?;
        Self::migrate(&mut conn)?;
        Ok(Self { conn: Arc::new(Mutex::new(conn)) })
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
        Box::pin(async move {
            let (requests, mut incoming) = mpsc::unbounded_channel::<Request>();
            let (ready, started) = oneshot::channel::<Result<(), DbError>>();
            tokio::task::spawn_blocking(move || {
                let guard = lock(&conn);
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
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let guard = lock(&conn);
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
