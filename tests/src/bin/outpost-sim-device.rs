//! `outpost-sim-device`: one simulated tablet as its own process, so tests can `kill -9` it in
//! the middle of a save, a push or a pull-apply and then check the store it leaves behind.
//!
//! Every command opens the SQLCipher store at `DB` with a fixed test key, exactly as the app
//! does, and prints one line per durable step (after the commit, flushed), so the killer knows
//! what the store promised before it died:
//!
//! * `enroll DB URL CODE` — enrols the store with a server.
//! * `save DB COUNT` — saves COUNT contacts, each with three distribution lines in one
//!   transaction; prints `saved <contact id>` after each commit.
//! * `sync DB PUSH_BATCH PULL_LIMIT` — one full sync with small batches and pages; prints
//!   `push <done>/<total>` and `pull <done>` after each request, then `synced`.
//! * `check DB` — prints `ok pending=<n> cursor=<c> records=<r>` and exits 0 when the store's
//!   consistency check is clean; prints each problem and exits 1 otherwise.

use anyhow::{Context, Result, anyhow, bail};
use outpost_core::Collection;
use outpost_device::{DeviceStore, StoreKey, SyncClient, SyncOptions, SyncPhase};
use serde_json::{Map, Value, json};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

fn open(path: &str) -> Result<DeviceStore> {
    Ok(DeviceStore::open(Path::new(path), &StoreKey::from_bytes(outpost_tests::SIM_DEVICE_KEY))?)
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn say(line: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    Ok(())
}

fn arg<'a>(args: &'a [String], i: usize, what: &str) -> Result<&'a str> {
    args.get(i).map(String::as_str).with_context(|| format!("missing argument: {what}"))
}

fn number<T: std::str::FromStr>(args: &[String], i: usize, what: &str) -> Result<T> {
    arg(args, i, what)?.parse().map_err(|_| anyhow!("{what} must be a number"))
}

fn save(db: &str, count: usize) -> Result<()> {
    let mut store = open(db)?;
    let site = store.identity().and_then(|i| i.sites.first()).map(|s| s.id).context("not enrolled")?;
    for i in 0..count {
        let contact = store.write_batch(|batch| {
            let contact = batch.create(
                Collection::Contacts,
                site,
                object(json!({"setting": "window", "occurred_at": format!("2026-11-{:02}T10:00:00Z", 1 + i % 28)})),
            )?;
            for commodity in ["syringe_1ml", "alcohol_swab", "condom_external"] {
                batch.create(
                    Collection::DistributionLines,
                    site,
                    object(json!({"contact_id": contact.to_string(), "commodity": commodity, "quantity": 1 + i % 10})),
                )?;
            }
            Ok(contact)
        })?;
        say(&format!("saved {contact}"))?;
    }
    Ok(())
}

async fn sync(db: &str, push_batch: usize, pull_limit: u32) -> Result<()> {
    let store = open(db)?;
    let url = store.identity().map(|i| i.server_url.clone()).context("not enrolled")?;
    let store = Mutex::new(store);
    let client = SyncClient::with_timeout(&url, Duration::from_secs(10))?;
    let options = SyncOptions {
        push_batch,
        pull_limit,
        max_attempts: 3,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
    };
    let mut failed = None;
    let mut report = |p: outpost_device::Progress| {
        let line = match p.phase {
            SyncPhase::Push => format!("push {}/{}", p.done, p.total),
            SyncPhase::Pull => format!("pull {}", p.done),
        };
        if let Err(e) = say(&line) {
            failed = Some(e);
        }
    };
    client.sync(&store, &options, &mut report).await?;
    if let Some(e) = failed {
        return Err(e);
    }
    say("synced")
}

fn check(db: &str) -> Result<bool> {
    let store = open(db)?;
    let problems = store.check_consistency()?;
    for problem in &problems {
        say(&format!("problem: {problem}"))?;
    }
    let records = store.snapshot()?.len();
    say(&format!("ok pending={} cursor={} records={records}", store.pending_count()?, store.cursor()?))?;
    Ok(problems.is_empty())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let db = arg(&args, 1, "DB")?;
    match arg(&args, 0, "command")? {
        "enroll" => {
            let url = arg(&args, 2, "URL")?;
            let code = arg(&args, 3, "CODE")?;
            let store = Mutex::new(open(db)?);
            SyncClient::new(url)?.enroll(&store, code, "crash-test tablet").await?;
            say("enrolled")
        }
        "save" => save(db, number(&args, 2, "COUNT")?),
        "sync" => sync(db, number(&args, 2, "PUSH_BATCH")?, number(&args, 3, "PULL_LIMIT")?).await,
        "check" => {
            if check(db)? {
                Ok(())
            } else {
                std::process::exit(1)
            }
        }
        other => bail!("unknown command {other}: enroll, save, sync or check"),
    }
}
