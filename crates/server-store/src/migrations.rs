//! The schema's migrations, one directory per backend, applied by `refinery`, which keeps a
//! checksum of every applied migration in `refinery_schema_history` and refuses to start when
//! a shipped migration was changed afterwards (or one is missing). Migrations only move
//! forward: add a file, never edit a shipped one.
//!
//! Databases created before refinery kept their history elsewhere (SQLite: `PRAGMA
//! user_version`, written by `rusqlite_migration`; PostgreSQL: a `schema_migrations` table).
//! [`adoption`] turns that history into refinery's, once, so such a database is neither
//! migrated twice nor refused.

use crate::error::DbError;
use refinery::Migration;
use time::format_description::well_known::Rfc3339;

/// Refinery's history table.
pub const HISTORY_TABLE: &str = "refinery_schema_history";

macro_rules! migration_list {
    ($dir:literal: $($version:literal $name:literal),* $(,)?) => {
        &[$(($version, $name, include_str!(concat!("../migrations/", $dir, "/", $name, ".sql")))),*]
    };
}

/// (version, file name, SQL) of every SQLite migration.
const SQLITE: &[(u32, &str, &str)] = migration_list!("sqlite":
    1 "0001_initial",
    2 "0002_audit",
    3 "0003_accounts",
    4 "0004_report_projection",
    5 "0005_purged_records",
    6 "0006_server_device",
    7 "0007_administration",
    8 "0008_device_unsent",
    9 "0009_server_meta",
    10 "0010_empty_tombstones",
    11 "0011_retention",
    12 "0012_people",
    13 "0013_nsp_target",
    14 "0014_dhis2",
    15 "0015_service_packages",
    16 "0016_report_rollups",
);

/// (version, file name, SQL) of every PostgreSQL migration.
const POSTGRES: &[(u32, &str, &str)] = migration_list!("postgres":
    1 "0001_initial",
    2 "0002_audit",
    3 "0003_accounts",
    4 "0004_report_projection",
    5 "0005_purged_records",
    6 "0006_server_device",
    7 "0007_administration",
    8 "0008_device_unsent",
    9 "0009_server_meta",
    10 "0010_empty_tombstones",
    11 "0011_retention",
    12 "0012_people",
    13 "0013_nsp_target",
    14 "0014_dhis2",
    15 "0015_service_packages",
    16 "0016_report_rollups",
);

fn build(list: &[(u32, &str, &str)]) -> Result<Vec<Migration>, DbError> {
    list.iter()
        .map(|(version, name, sql)| {
            let label = name.split_once('_').map_or(*name, |(_, rest)| rest);
            Migration::unapplied(&format!("V{version}__{label}"), sql)
                .map_err(|e| DbError::Migration(format!("migration {name}: {e}")))
        })
        .collect()
}

pub fn sqlite() -> Result<Vec<Migration>, DbError> {
    build(SQLITE)
}

pub fn postgres() -> Result<Vec<Migration>, DbError> {
    build(POSTGRES)
}

/// The runner both backends use: all pending migrations in one transaction, refusing a changed
/// or missing shipped migration.
pub fn runner(migrations: &[Migration]) -> refinery::Runner {
    refinery::Runner::new(migrations).set_grouped(true).set_abort_divergent(true).set_abort_missing(true)
}

/// A refinery failure, said plainly.
pub fn failed(e: refinery::Error) -> DbError {
    use refinery::error::Kind;
    let text = match e.kind() {
        Kind::DivergentVersion(applied, shipped) => format!(
            "migration {shipped} differs from the one this database applied ({applied}): a shipped migration was edited; \
             restore it and add a new migration instead"
        ),
        Kind::MissingVersion(migration) => {
            format!("this database applied migration {migration}, which this build does not have (is it older?)")
        }
        _ => e.to_string(),
    };
    DbError::Migration(text)
}

/// Statements that record the first `applied` migrations of `migrations` in refinery's history
/// (creating its table), for a database migrated before refinery.
pub fn adoption(migrations: &[Migration], applied: usize, now: time::OffsetDateTime) -> Result<Vec<String>, DbError> {
    let at = now.format(&Rfc3339).map_err(|e| DbError::Migration(e.to_string()))?;
    let mut out = vec![format!(
        "CREATE TABLE IF NOT EXISTS {HISTORY_TABLE} (version int4 PRIMARY KEY, name VARCHAR(255), applied_on VARCHAR(255), checksum VARCHAR(255))"
    )];
    for migration in migrations.iter().take(applied) {
        // Names are our own constants (letters and underscores): safe to write into the text.
        out.push(format!(
            "INSERT INTO {HISTORY_TABLE} (version, name, applied_on, checksum) VALUES ({}, '{}', '{at}', '{}')",
            migration.version(),
            migration.name(),
            migration.checksum()
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_have_the_same_migrations_in_order() {
        let (sqlite, postgres) = (sqlite().expect("sqlite"), postgres().expect("postgres"));
        assert_eq!(sqlite.len(), postgres.len());
        for (i, (a, b)) in sqlite.iter().zip(&postgres).enumerate() {
            assert_eq!(a.version() as usize, i + 1, "versions are 1, 2, 3...");
            assert_eq!(a.name(), b.name());
        }
        assert_eq!(sqlite[0].name(), "initial");
    }
}
