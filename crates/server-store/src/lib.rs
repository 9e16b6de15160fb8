//! Outpost server storage: everything the sync server keeps, written once over a small
//! [`Backend`] seam that SQLite (the embedded default) and PostgreSQL (several instances)
//! implement with IO only.
//!
//! * [`Store`]: the storage API; each method is one transaction. Its parts live in the modules
//!   below, each an `impl Store` block over [`Store::transaction`], [`Store::query`] and
//!   [`Store::execute`].
//! * [`plan`]: the pure push planner (core's merge rules applied to a batch and the stored
//!   records), which the push and the conflict revert both call.
//! * [`sql`]: statements, values, the placeholder builder and the dialects' differences.
//! * [`migrations`]: the schema's migrations, with checksums (refinery).
//!
//! This crate knows nothing of HTTP.

pub mod accounts;
pub mod audit;
pub mod backend;
pub mod conflicts;
pub mod devices;
pub mod dhis2;
pub mod dump;
pub mod erase;
pub mod error;
pub mod forms;
pub mod keys;
pub mod meta;
pub mod migrations;
pub mod org;
pub mod people;
pub mod plan;
pub mod postgres;
pub mod projection;
pub mod purge;
pub mod records;
pub mod reference;
pub mod restore;
pub mod rollup;
pub mod seed;
pub mod sql;
pub mod sqlite;
pub mod sync;
pub mod table;

pub use backend::{Backend, BoxFuture, Tx, TxMode};
pub use error::DbError;
pub use keys::ServerKey;
pub use sql::{Dialect, Outcome, Row, RowExt, Sql, SqlValue, Statement};

use std::sync::Arc;

/// The server's storage over one backend, with the server key (kept outside the database) that
/// seals its secrets and keys its audit chain. Cloning shares it.
#[derive(Clone, Debug)]
pub struct Store {
    backend: Arc<dyn Backend>,
    key: Arc<ServerKey>,
}

impl Store {
    /// Storage over `backend` written with `key`: refused when the database was written with
    /// another key; a database without a key yet records this one's fingerprint and has its
    /// second-factor secrets sealed.
    pub async fn new(backend: impl Backend, key: ServerKey) -> Result<Self, DbError> {
        let store = Self { backend: Arc::new(backend), key: Arc::new(key) };
        store.bind_key().await?;
        Ok(store)
    }

    /// Opens `sqlite://PATH` (a file, created if missing) or `postgres://...`, bringing the
    /// schema up to date; see [`Store::new`] for the key.
    pub async fn open(url: &str, max_connections: usize, key: ServerKey) -> Result<Self, DbError> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(DbError::Backend("sqlite:// needs a file path".into()));
            }
            Self::new(sqlite::Sqlite::open(std::path::Path::new(path))?, key).await
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::new(postgres::Postgres::connect(url, None, max_connections).await?, key).await
        } else {
            Err(DbError::Backend("the database URL must start with sqlite:// or postgres://".into()))
        }
    }

    /// The server key this storage writes with.
    pub fn key(&self) -> &ServerKey {
        &self.key
    }

    pub fn dialect(&self) -> Dialect {
        self.backend.dialect()
    }

    /// A short name of the backend, for logs.
    pub fn kind(&self) -> &'static str {
        match self.dialect() {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }

    /// Runs `work` in one transaction: committed when it returns `Ok`, rolled back otherwise
    /// (and when the future is dropped half-way).
    pub async fn transaction<T, F>(&self, mode: TxMode, work: F) -> Result<T, DbError>
    where
        T: Send,
        F: for<'t> FnOnce(&'t mut Tx) -> BoxFuture<'t, Result<T, DbError>> + Send,
    {
        let mut tx = Tx::new(self.backend.begin(mode).await?, self.dialect());
        let value = work(&mut tx).await?;
        tx.commit().await?;
        Ok(value)
    }

    /// The rows of one read.
    pub async fn query(&self, statement: Statement) -> Result<Vec<Row>, DbError> {
        let mut outcomes = self.backend.run_once(TxMode::Autocommit, vec![statement]).await?;
        Ok(outcomes.pop().map(|o| o.rows).unwrap_or_default())
    }

    /// Several reads from one consistent snapshot.
    pub async fn query_all(&self, statements: Vec<Statement>) -> Result<Vec<Vec<Row>>, DbError> {
        let outcomes = self.backend.run_once(TxMode::Read, statements).await?;
        Ok(outcomes.into_iter().map(|o| o.rows).collect())
    }

    /// Runs statements in one write transaction; returns the rows each changed.
    pub async fn execute(&self, statements: Vec<Statement>) -> Result<Vec<u64>, DbError> {
        let outcomes = self.backend.run_once(TxMode::Write, statements).await?;
        Ok(outcomes.into_iter().map(|o| o.changed).collect())
    }
}

/// Logs a warning when a statement takes longer than [`SlowQuery::THRESHOLD`] (dropped at the
/// end of the statement), naming it by its first words.
pub struct SlowQuery<'a> {
    sql: &'a str,
    started: std::time::Instant,
}

impl<'a> SlowQuery<'a> {
    pub const THRESHOLD: std::time::Duration = std::time::Duration::from_secs(1);

    pub fn new(sql: &'a str) -> Self {
        Self { sql, started: std::time::Instant::now() }
    }
}

impl Drop for SlowQuery<'_> {
    fn drop(&mut self) {
        let elapsed = self.started.elapsed();
        if elapsed >= Self::THRESHOLD {
            let head: String = self.sql.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(300).collect();
            tracing::warn!(ms = elapsed.as_millis() as u64, sql = %head, "slow query");
        }
    }
}
