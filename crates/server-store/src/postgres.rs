//! PostgreSQL, for several server instances over one database. IO only: it runs the statements
//! it is given over a connection pool.
//!
//! Values bind with the type of their [`SqlValue`] variant (a NULL takes the type of its place),
//! so statements need no casts. The statements of one step are sent together (pipelined over
//! the connection) and run in order.

use crate::backend::{Backend, BoxFuture, Connection, TxMode};
use crate::error::DbError;
use crate::migrations;
use crate::sql::{Dialect, Outcome, Row, SqlValue, Statement, numbered};
use bytes::BufMut;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use std::str::FromStr;
use tokio_postgres::NoTls;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{FromSql, IsNull, Kind, ToSql, Type, to_sql_checked};
use uuid::Uuid;

/// Advisory lock key that serialises migrations between instances starting together.
const MIGRATION_LOCK: i64 = 0x6f75_7470_6f73_7401;

/// PostgreSQL storage over a connection pool. Cloning shares the pool.
#[derive(Clone)]
pub struct Postgres {
    pool: Pool,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgres").field("pool_size", &self.pool.status().max_size).finish()
    }
}

impl From<tokio_postgres::Error> for DbError {
    fn from(e: tokio_postgres::Error) -> Self {
        match e.code() {
            Some(c) if *c == SqlState::DISK_FULL => DbError::Full,
            Some(c) if *c == SqlState::UNIQUE_VIOLATION => {
                DbError::Unique(e.as_db_error().map_or_else(|| e.to_string(), |d| d.message().to_string()))
            }
            Some(c) if *c == SqlState::READ_ONLY_SQL_TRANSACTION => DbError::Unwritable(e.to_string()),
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

/// A parameter whose type PostgreSQL infers from where it stands (type oid 0).
fn inferred() -> Type {
    Type::new("unspecified".into(), 0, Kind::Pseudo, "pg_catalog".into())
}

impl SqlValue {
    fn pg_type(&self) -> Type {
        match self {
            SqlValue::Null => inferred(),
            SqlValue::Int(_) => Type::INT8,
            SqlValue::Real(_) => Type::FLOAT8,
            SqlValue::Text(_) => Type::TEXT,
            SqlValue::Uuid(_) => Type::UUID,
            SqlValue::Json(_) => Type::JSONB,
            SqlValue::Bool(_) => Type::BOOL,
        }
    }
}

impl ToSql for SqlValue {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            SqlValue::Null => Ok(IsNull::Yes),
            SqlValue::Int(i) => i.to_sql(ty, out),
            SqlValue::Real(r) => r.to_sql(ty, out),
            SqlValue::Text(t) => t.as_str().to_sql(ty, out),
            SqlValue::Uuid(u) => u.to_sql(ty, out),
            SqlValue::Bool(b) => b.to_sql(ty, out),
            SqlValue::Json(text) => {
                if *ty == Type::JSONB {
                    out.put_u8(1);
                }
                out.put_slice(text.as_bytes());
                Ok(IsNull::No)
            }
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// A `json` or `jsonb` value read as its text.
struct JsonText(String);

impl<'a> FromSql<'a> for JsonText {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let text = if *ty == Type::JSONB {
            match raw.split_first() {
                Some((1, rest)) => rest,
                _ => return Err("unknown jsonb version".into()),
            }
        } else {
            raw
        };
        Ok(JsonText(std::str::from_utf8(text)?.to_string()))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSON || *ty == Type::JSONB
    }
}

fn from_pg_row(row: &tokio_postgres::Row) -> Result<Row, DbError> {
    let mut values = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let t = column.type_();
        let value = if *t == Type::INT8 {
            row.try_get::<_, Option<i64>>(i)?.map(SqlValue::Int)
        } else if *t == Type::INT4 {
            row.try_get::<_, Option<i32>>(i)?.map(|v| SqlValue::Int(v.into()))
        } else if *t == Type::INT2 {
            row.try_get::<_, Option<i16>>(i)?.map(|v| SqlValue::Int(v.into()))
        } else if *t == Type::BOOL {
            row.try_get::<_, Option<bool>>(i)?.map(SqlValue::Bool)
        } else if *t == Type::FLOAT8 {
            row.try_get::<_, Option<f64>>(i)?.map(SqlValue::Real)
        } else if *t == Type::FLOAT4 {
            row.try_get::<_, Option<f32>>(i)?.map(|v| SqlValue::Real(v.into()))
        } else if *t == Type::UUID {
            row.try_get::<_, Option<Uuid>>(i)?.map(|v| SqlValue::Text(v.to_string()))
        } else if *t == Type::JSON || *t == Type::JSONB {
            row.try_get::<_, Option<JsonText>>(i)?.map(|v| SqlValue::Text(v.0))
        } else if *t == Type::TEXT || *t == Type::VARCHAR || *t == Type::NAME || *t == Type::BPCHAR {
            row.try_get::<_, Option<String>>(i)?.map(SqlValue::Text)
        } else if *t == Type::VOID {
            None
        } else {
            return Err(DbError::Backend(format!("column {} has type {t}: cast it in the query", column.name())));
        };
        values.push(value.unwrap_or(SqlValue::Null));
    }
    Ok(values)
}

type Param<'a> = &'a (dyn ToSql + Sync);

async fn run_statement(client: &Object, statement: &Statement) -> Result<Outcome, DbError> {
    let _slow = crate::SlowQuery::new(&statement.sql);
    let sql = numbered(&statement.sql, statement.params.len())?;
    let types: Vec<Type> = statement.params.iter().map(SqlValue::pg_type).collect();
    let prepared = client.prepare_typed_cached(&sql, &types).await?;
    let params: Vec<Param<'_>> = statement.params.iter().map(|p| p as Param<'_>).collect();
    if statement.returns_rows {
        let rows = client.query(&prepared, &params).await?;
        let rows = rows.iter().map(from_pg_row).collect::<Result<Vec<_>, _>>()?;
        Ok(Outcome { changed: rows.len() as u64, rows })
    } else {
        Ok(Outcome { rows: Vec::new(), changed: client.execute(&prepared, &params).await? })
    }
}

/// Runs statements strictly in order: a later one may depend on an earlier one (a site on its
/// organisation, a record on its sequence number). They were once sent concurrently, which let
/// a statement whose plan was cached overtake one still being prepared: under load a site was
/// inserted before its organisation.
async fn run_all(client: &Object, statements: &[Statement]) -> Result<Vec<Outcome>, DbError> {
    let mut out = Vec::with_capacity(statements.len());
    for statement in statements {
        out.push(run_statement(client, statement).await?);
    }
    Ok(out)
}

fn begin_sql(mode: TxMode) -> Option<&'static str> {
    match mode {
        TxMode::Autocommit => None,
        TxMode::Read => Some("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"),
        TxMode::Write => Some("BEGIN ISOLATION LEVEL READ COMMITTED"),
    }
}

impl Postgres {
    /// Connects to `url` (`postgres://user@host:port/db`), optionally inside `schema` (created
    /// if missing; tests use one schema each), and brings the schema up to date.
    pub async fn connect(url: &str, schema: Option<&str>, max_connections: usize) -> Result<Self, DbError> {
        let mut config =
            tokio_postgres::Config::from_str(url).map_err(|e| DbError::Backend(format!("bad database URL: {e}")))?;
        if let Some(schema) = schema {
            check_schema_name(schema)?;
            let (client, connection) = config.connect(NoTls).await?;
            let task = tokio::spawn(connection);
            client.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}")).await?;
            drop(client);
            let _ = task.await;
            config.options(format!("-c search_path={schema}"));
        }
        let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(max_connections.max(1))
            .build()
            .map_err(|e| DbError::Backend(format!("connection pool: {e}")))?;
        let storage = Self { pool };
        storage.migrate().await?;
        Ok(storage)
    }

    /// Applies the migrations this build knows and the database has not seen, one instance at
    /// a time.
    async fn migrate(&self) -> Result<(), DbError> {
        let mut client = self.pool.get().await?;
        client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK]).await?;
        let result = Self::migrate_locked(&mut client).await;
        client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]).await?;
        result
    }

    async fn migrate_locked(client: &mut Object) -> Result<(), DbError> {
        let migrations = migrations::postgres()?;
        if !table_exists(client, migrations::HISTORY_TABLE).await? && table_exists(client, "schema_migrations").await? {
            // The runner before refinery listed the applied versions in `schema_migrations`.
            let row = client.query_one("SELECT count(*) FROM schema_migrations", &[]).await?;
            let applied: i64 = row.get(0);
            let tx = client.transaction().await?;
            for sql in migrations::adoption(&migrations, applied as usize, time::OffsetDateTime::now_utc())? {
                tx.batch_execute(&sql).await?;
            }
            tx.commit().await?;
            tracing::info!(applied, "PostgreSQL migration history moved to refinery");
        }
        let client: &mut tokio_postgres::Client = client;
        migrations::runner(&migrations).run_async(client).await.map_err(migrations::failed)?;
        Ok(())
    }

    /// Drops a schema and everything in it (tests use one schema each).
    pub async fn drop_schema(url: &str, schema: &str) -> Result<(), DbError> {
        check_schema_name(schema)?;
        let config =
            tokio_postgres::Config::from_str(url).map_err(|e| DbError::Backend(format!("bad database URL: {e}")))?;
        let (client, connection) = config.connect(NoTls).await?;
        let task = tokio::spawn(connection);
        let result = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).await;
        drop(client);
        let _ = task.await;
        Ok(result?)
    }
}

async fn table_exists(client: &Object, name: &str) -> Result<bool, DbError> {
    let row = client.query_one("SELECT to_regclass($1) IS NOT NULL", &[&name]).await?;
    Ok(row.get(0))
}

fn check_schema_name(schema: &str) -> Result<(), DbError> {
    if schema.is_empty() || !schema.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(DbError::Backend("schema names are letters, digits and underscores".into()));
    }
    Ok(())
}

/// An open transaction on a pooled connection. Dropped without a commit, it rolls back before
/// the connection goes back to the pool.
struct PgTx {
    client: Option<Object>,
    open: bool,
}

impl Connection for PgTx {
    fn run(&mut self, statements: Vec<Statement>) -> BoxFuture<'_, Result<Vec<Outcome>, DbError>> {
        Box::pin(async move {
            let client = self.client.as_ref().ok_or_else(|| DbError::Backend("transaction already ended".into()))?;
            run_all(client, &statements).await
        })
    }

    fn commit(mut self: Box<Self>) -> BoxFuture<'static, Result<(), DbError>> {
        let client = self.client.take();
        let open = std::mem::replace(&mut self.open, false);
        Box::pin(async move {
            let client = client.ok_or_else(|| DbError::Backend("transaction already ended".into()))?;
            if open && let Err(e) = client.batch_execute("COMMIT").await {
                let _ = client.batch_execute("ROLLBACK").await;
                return Err(e.into());
            }
            Ok(())
        })
    }
}

impl Drop for PgTx {
    fn drop(&mut self) {
        if let (Some(client), true) = (self.client.take(), self.open) {
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => {
                    runtime.spawn(async move {
                        if client.batch_execute("ROLLBACK").await.is_err() {
                            // A connection whose state is unknown must not serve anyone else.
                            let _ = Object::take(client);
                        }
                    });
                }
                Err(_) => {
                    let _ = Object::take(client);
                }
            }
        }
    }
}

impl Backend for Postgres {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn begin(&self, mode: TxMode) -> BoxFuture<'_, Result<Box<dyn Connection>, DbError>> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            if let Some(begin) = begin_sql(mode) {
                client.batch_execute(begin).await?;
            }
            Ok(Box::new(PgTx { client: Some(client), open: begin_sql(mode).is_some() }) as Box<dyn Connection>)
        })
    }

    fn run_once(&self, mode: TxMode, statements: Vec<Statement>) -> BoxFuture<'_, Result<Vec<Outcome>, DbError>> {
        Box::pin(async move {
            let mut tx = self.begin(mode).await?;
            let outcomes = tx.run(statements).await?;
            tx.commit().await?;
            Ok(outcomes)
        })
    }
}
