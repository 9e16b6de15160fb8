//! Migrations only move forward, and nothing lets a shipped one change: refinery records a
//! checksum of each applied migration and the store refuses to open a database whose history
//! differs from this build's migrations. Databases migrated before refinery (SQLite's
//! `user_version`, PostgreSQL's `schema_migrations`) are adopted once, without re-running
//! anything or losing data.

use outpost_server_store::postgres::Postgres;
use outpost_server_store::sqlite::Sqlite;
use outpost_server_store::{DbError, migrations};

fn old_sqlite_database(path: &std::path::Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).expect("open");
    // What rusqlite_migration left behind: the five migrations of that time applied, counted in
    // user_version (later ones are refinery's to apply).
    for m in migrations::sqlite().expect("migrations").into_iter().take(5) {
        conn.execute_batch(m.sql().expect("sql")).expect("apply");
    }
    conn.execute_batch("PRAGMA user_version = 5;").expect("version");
    conn.execute(
        "INSERT INTO orgs (id, name, uic_scheme, created_ms) VALUES ('0192f1a0-0000-7000-8000-000000000001', 'Kept', '{}', 1)",
        [],
    )
    .expect("data");
    conn
}

fn history(conn: &rusqlite::Connection) -> Vec<(i64, String)> {
    let mut stmt = conn.prepare("SELECT version, name FROM refinery_schema_history ORDER BY version").expect("history");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).expect("rows").collect::<Result<_, _>>().expect("read")
}

#[test]
fn a_sqlite_database_from_before_refinery_is_adopted_and_an_edited_migration_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("outpost.db");
    drop(old_sqlite_database(&path));
    Sqlite::open(&path).expect("an old database opens");
    let conn = rusqlite::Connection::open(&path).expect("reopen");
    let versions: Vec<i64> = history(&conn).into_iter().map(|(v, _)| v).collect();
    assert_eq!(
        versions,
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16],
        "its five migrations are recorded, not run again; the newer ones applied"
    );
    let kept: String = conn.query_row("SELECT name FROM orgs", [], |r| r.get(0)).expect("org");
    assert_eq!(kept, "Kept");
    // Migration 12: the organisation's client index is off; who is who and the pairs judged
    // two people start empty.
    let index: i64 = conn.query_row("SELECT client_index FROM orgs", [], |r| r.get(0)).expect("client_index");
    assert_eq!(index, 0);
    // Migration 13: no target of its own (the default applies).
    let target: Option<i64> = conn.query_row("SELECT nsp_target FROM orgs", [], |r| r.get(0)).expect("nsp_target");
    assert_eq!(target, None);
    // Migration 14: no DHIS2 connection, no mappings.
    let dhis2: (Option<String>, Option<String>, Option<String>) = conn
        .query_row("SELECT dhis2_url, dhis2_token, dhis2_mappings FROM orgs", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .expect("dhis2 columns");
    assert_eq!(dhis2, (None, None, None));
    // Migration 15: the shipped service packages.
    let packages: Option<String> =
        conn.query_row("SELECT service_packages FROM orgs", [], |r| r.get(0)).expect("packages");
    assert_eq!(packages, None);
    // Migration 16: the reports' rollups, empty until the projection's first catch-up.
    for table in [
        "report_people",
        "duplicate_dismissals",
        "report_visits",
        "report_items",
        "report_site_days",
        "report_links",
        "report_dirty",
    ] {
        let rows: i64 = conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).expect(table);
        assert_eq!(rows, 0, "{table}");
    }
    Sqlite::open(&path).expect("and opens again");

    // A shipped migration edited after it was applied: the checksum no longer matches.
    conn.execute("UPDATE refinery_schema_history SET checksum = '12345' WHERE version = 2", []).expect("tamper");
    drop(conn);
    match Sqlite::open(&path) {
        Err(DbError::Migration(message)) => assert!(message.contains("was edited"), "{message}"),
        other => panic!("an edited migration must be refused, got {other:?}"),
    }
}

#[test]
fn a_new_sqlite_database_records_every_migration() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("outpost.db");
    Sqlite::open(&path).expect("opens");
    let conn = rusqlite::Connection::open(&path).expect("reopen");
    let names: Vec<String> = history(&conn).into_iter().map(|(_, n)| n).collect();
    assert_eq!(
        names,
        [
            "initial",
            "audit",
            "accounts",
            "report_projection",
            "purged_records",
            "server_device",
            "administration",
            "device_unsent",
            "server_meta",
            "empty_tombstones",
            "retention",
            "people",
            "nsp_target",
            "dhis2",
            "service_packages",
            "report_rollups"
        ]
    );
}

#[tokio::test]
async fn a_postgres_database_from_before_refinery_is_adopted_and_an_edited_migration_refused() {
    let Some(url) = std::env::var("OUTPOST_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) else {
        eprintln!("PostgreSQL test skipped: OUTPOST_TEST_DATABASE_URL is not set");
        return;
    };
    let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connect");
    let task = tokio::spawn(connection);
    client.batch_execute(&format!("CREATE SCHEMA {schema}; SET search_path = {schema};")).await.expect("schema");
    for m in migrations::postgres().expect("migrations").into_iter().take(5) {
        client.batch_execute(m.sql().expect("sql")).await.expect("apply");
    }
    // What the runner before refinery left behind.
    client
        .batch_execute(
            "CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
             INSERT INTO schema_migrations (version) VALUES (1), (2), (3), (4), (5);",
        )
        .await
        .expect("old history");
    Postgres::connect(&url, Some(&schema), 2).await.expect("an old database opens");
    let rows = client.query("SELECT name FROM refinery_schema_history ORDER BY version", &[]).await.expect("history");
    assert_eq!(rows.len(), 16, "its five migrations are recorded, not run again; the newer ones applied");
    Postgres::connect(&url, Some(&schema), 2).await.expect("and opens again");
    client
        .execute("UPDATE refinery_schema_history SET checksum = '12345' WHERE version = 4", &[])
        .await
        .expect("tamper");
    let refused = Postgres::connect(&url, Some(&schema), 2).await;
    assert!(matches!(&refused, Err(DbError::Migration(m)) if m.contains("was edited")), "{refused:?}");
    drop(client);
    let _ = task.await;
    Postgres::drop_schema(&url, &schema).await.expect("drop");
}
