//! The server key (issue 18, items 11 to 13), through the real `outpost-server` commands over a
//! data directory: the key file is created private, second-factor secrets are sealed in the
//! database and in exports, the audit chain is keyed and its checkpoints find a log cut short, a
//! database refuses another key, and an unknown login name is never recorded as typed.

use anyhow::{Context, Result};
use outpost_server::settings::Settings;
use outpost_server_store::keys::{KEY_FILE, ServerKey};
use outpost_server_store::{RowExt, Statement, Store};
use outpost_tests::{Backend, SERVER_KEY_VARIABLE, ServerProcess, TestServer, WebClient};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Runs `outpost-server ARGS` over `dir` with the key file (no key in the environment).
fn cli(dir: &Path, args: &[&str]) -> Result<(bool, String, String)> {
    let output = std::process::Command::new(ServerProcess::binary()?)
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env("RUST_LOG", "warn")
        .env_remove(SERVER_KEY_VARIABLE)
        .output()?;
    Ok((
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    ))
}

fn ok(result: (bool, String, String)) -> Result<String> {
    anyhow::ensure!(result.0, "the command failed: {}", result.2);
    Ok(result.1)
}

async fn open(dir: &Path) -> Result<Store> {
    let url = format!("sqlite://{}", dir.join("outpost.db").display());
    Ok(Store::open(&url, 1, ServerKey::load(dir)?).await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_key_seals_secrets_and_keys_the_audit_chain() -> Result<()> {
    let temp = tempfile::tempdir()?;
    let dir = temp.path().join("data");
    // The first command to open the database creates the key file.
    ok(cli(&dir, &["migrate"])?)?;
    open(&dir).await?.seed_demo(outpost_server::time::now_ms()).await?;
    ok(cli(&dir, &["user", "add", "--username", "amira", "--role", "admin"])?)?;
    let key_file = dir.join(KEY_FILE);
    assert_eq!(std::fs::metadata(&key_file)?.permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(&dir)?.permissions().mode() & 0o777, 0o700);

    // The second factor's secret is sealed in the database and in an export.
    let secret = ok(cli(&dir, &["user", "totp", "--username", "amira"])?)?.trim().to_string();
    assert!(secret.len() >= 16, "{secret:?}");
    let store = open(&dir).await?;
    let rows = store.query(Statement::query("SELECT totp_secret FROM users WHERE username = 'amira'", vec![])).await?;
    let stored: String = rows.first().context("no user")?.col(0)?;
    assert!(stored.starts_with("sealed1:") && !stored.contains(&secret), "stored in clear: {stored}");
    let found = store.find_user("amira").await?.context("no user")?;
    assert_eq!(found.totp_secret.as_deref(), Some(secret.as_str()), "the server opens its own seal");
    drop(store);
    let export = temp.path().join("export.json");
    ok(cli(&dir, &["export", "--out", &export.display().to_string()])?)?;
    let exported = std::fs::read_to_string(&export)?;
    assert!(!exported.contains(&secret), "the export holds the second-factor secret in clear");

    // A secret stored in clear by an older version is sealed at the next start.
    let store = open(&dir).await?;
    store.execute(vec![Statement::exec("UPDATE users SET totp_secret = 'JBSWY3DPEHPK3PXP'", vec![])]).await?;
    drop(store);
    let store = open(&dir).await?;
    let rows = store.query(Statement::query("SELECT totp_secret FROM users", vec![])).await?;
    assert!(rows.first().context("no user")?.col::<String>(0)?.starts_with("sealed1:"));
    assert_eq!(store.find_user("amira").await?.and_then(|u| u.totp_secret).as_deref(), Some("JBSWY3DPEHPK3PXP"));

    // The chain is keyed; verify prints its head.
    let verified = ok(cli(&dir, &["audit", "verify"])?)?;
    assert!(verified.contains("audit log intact") && verified.contains("newest entry: ") && verified.contains("k1:"));

    // A checkpoint kept outside finds the newest entries removed, which the chain alone cannot.
    let checkpoints = temp.path().join("checkpoints");
    let since = checkpoints.display().to_string();
    ok(cli(&dir, &["audit", "checkpoint", "--out", &since])?)?;
    ok(cli(&dir, &["user", "add", "--username", "bakyt", "--role", "admin"])?)?;
    ok(cli(&dir, &["audit", "verify", "--since", &since])?)?;
    let head = store.audit_head().await?.context("no entries")?;
    store.execute(vec![Statement::exec("DELETE FROM audit_log WHERE id >= ?", vec![(head.entry - 1).into()])]).await?;
    drop(store);
    ok(cli(&dir, &["audit", "verify"])?).context("the shorter chain is intact by itself")?;
    let (passed, _, stderr) = cli(&dir, &["audit", "verify", "--since", &since])?;
    assert!(!passed && stderr.contains("truncated"), "{stderr}");
    // A checkpoint file edited to match is refused as forged.
    let forged = std::fs::read_to_string(&checkpoints)?.replace("\"entry\":", "\"entry\":1000");
    std::fs::write(&checkpoints, forged)?;
    let (passed, _, stderr) = cli(&dir, &["audit", "verify", "--since", &since])?;
    assert!(!passed && stderr.contains("not signed with this server key"), "{stderr}");

    // Another key: the database refuses it and says which key it expects.
    let fingerprint = ServerKey::load(&dir)?.fingerprint();
    std::fs::write(&key_file, format!("{}\n", "ab".repeat(32)))?;
    let (passed, _, stderr) = cli(&dir, &["audit", "verify"])?;
    assert!(!passed && stderr.contains("another server key") && stderr.contains(&fingerprint), "{stderr}");
    // So does an import of the export into a new directory with its own new key.
    let other = temp.path().join("other");
    let (passed, _, stderr) = cli(&other, &["import", "--in", &export.display().to_string()])?;
    assert!(!passed && stderr.contains("another server key"), "{stderr}");
    // A key file other users could read is refused.
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644))?;
    let (passed, _, stderr) = cli(&dir, &["audit", "verify"])?;
    assert!(!passed && stderr.contains("chmod 600"), "{stderr}");
    Ok(())
}

on_both_backends!(an_unknown_login_name_is_recorded_only_as_a_keyed_tag);

async fn an_unknown_login_name_is_recorded_only_as_a_keyed_tag(backend: Backend) -> Result<()> {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let typed = "Tr0ub4dor&3-horse";
    for _ in 0..2 {
        let mut web = WebClient::new(&server.url());
        let (status, _) = web.login(typed, "whatever-password", None).await?;
        assert_eq!(status, 401);
    }
    let log = server.storage.audit_log().await?;
    let failed: Vec<_> = log.iter().filter(|r| r.action == "login.failed").collect();
    assert_eq!(failed.len(), 2);
    assert!(
        log.iter().all(|r| !format!("{r:?}").to_lowercase().contains("tr0ub4dor")),
        "the typed name is in the audit log"
    );
    // Names are compared in lower case: so are they tagged.
    let tag = format!("unknown:{}", server.storage.key().name_tag(&typed.to_lowercase()));
    assert!(failed.iter().all(|r| r.target == tag), "{failed:?}");
    server.stop().await
}
