//! The one seam of the server's storage: a backend runs statements, in a transaction or not,
//! and nothing else. SQLite and PostgreSQL implement it (modules `sqlite` and `postgres`);
//! everything the server stores and reads is written once over it (the crate's `Store`).

use crate::error::DbError;
use crate::sql::{Dialect, Outcome, Row, Statement};
use std::future::Future;
use std::pin::Pin;

/// A boxed future, as the object-safe traits below return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How statements run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxMode {
    /// Each statement on its own (reads that need no snapshot, single writes).
    Autocommit,
    /// One consistent snapshot for every statement (an export, a report's several queries).
    Read,
    /// A write transaction: SQLite takes the write lock at once (`BEGIN IMMEDIATE`), PostgreSQL
    /// runs at READ COMMITTED and locks rows where the statements say so.
    Write,
}

/// A database the server can store its data in.
pub trait Backend: Send + Sync + std::fmt::Debug + 'static {
    fn dialect(&self) -> Dialect;

    /// Opens a transaction (or, in [`TxMode::Autocommit`], a connection running each statement
    /// on its own).
    fn begin(&self, mode: TxMode) -> BoxFuture<'_, Result<Box<dyn Connection>, DbError>>;

    /// Runs `statements` in one go in `mode` and commits: the common case of [`Backend::begin`],
    /// [`Connection::run`] and [`Connection::commit`], with less overhead.
    fn run_once(&self, mode: TxMode, statements: Vec<Statement>) -> BoxFuture<'_, Result<Vec<Outcome>, DbError>>;
}

/// An open transaction. Dropping it without [`Connection::commit`] rolls it back.
pub trait Connection: Send {
    /// Runs statements in order; one outcome each. The first failure fails the transaction.
    fn run(&mut self, statements: Vec<Statement>) -> BoxFuture<'_, Result<Vec<Outcome>, DbError>>;

    fn commit(self: Box<Self>) -> BoxFuture<'static, Result<(), DbError>>;
}

/// A transaction as the store's code sees it.
pub struct Tx {
    conn: Box<dyn Connection>,
    dialect: Dialect,
}

impl Tx {
    pub(crate) fn new(conn: Box<dyn Connection>, dialect: Dialect) -> Self {
        Self { conn, dialect }
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Runs statements in order, one outcome each.
    pub async fn run(&mut self, statements: Vec<Statement>) -> Result<Vec<Outcome>, DbError> {
        if statements.is_empty() {
            return Ok(Vec::new());
        }
        self.conn.run(statements).await
    }

    /// The rows of one query.
    pub async fn query(&mut self, statement: Statement) -> Result<Vec<Row>, DbError> {
        Ok(self.run(vec![statement]).await?.pop().map(|o| o.rows).unwrap_or_default())
    }

    /// The rows one statement changed.
    pub async fn exec(&mut self, statement: Statement) -> Result<u64, DbError> {
        Ok(self.run(vec![statement]).await?.pop().map_or(0, |o| o.changed))
    }

    pub(crate) async fn commit(self) -> Result<(), DbError> {
        self.conn.commit().await
    }
}
