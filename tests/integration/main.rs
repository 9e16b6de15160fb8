//! Cross-crate integration tests: a real server on a loopback port over a real SQLite file, and
//! simulated devices built on `outpost-device`. One test binary (see ripgrep's `tests/tests.rs`).

/// Runs each named scenario `async fn name(backend: Backend)` twice: on SQLite always, and on
/// PostgreSQL when `OUTPOST_TEST_DATABASE_URL` is set (`scripts/test.sh` always sets it).
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() -> anyhow::Result<()> {
                    super::$name(outpost_tests::Backend::Sqlite).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() -> anyhow::Result<()> {
                    if outpost_tests::postgres_url().is_none() {
                        eprintln!("PostgreSQL scenario skipped: OUTPOST_TEST_DATABASE_URL is not set");
                        return Ok(());
                    }
                    super::$name(outpost_tests::Backend::Postgres).await
                }
            }
        )*
    };
}

mod admin;
mod administration;
mod app_e2e;
mod back_pressure;
mod bad_input;
mod compression;
mod conflicts;
mod connections;
mod convergence;
mod dashboard;
mod dashboard_browser;
mod device_crash;
mod dhis2;
mod disk;
mod erasure;
mod forms;
mod indicator_sets;
mod linkage;
mod migration;
mod multi_instance;
mod openapi;
mod people;
mod purge;
mod reliability;
mod report_rollups;
mod restore;
mod server_key;
mod sync;
mod ui_types;
