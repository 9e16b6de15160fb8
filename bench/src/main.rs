//! `outpost-bench`: sync throughput against the raw SQLite limit, on the same disk, in one run.
//!
//! `outpost-bench sync --records N` starts a local server (SQLite file), writes N records on a
//! device (encrypted store), pushes them, pulls them into a fresh device, and prints records/s
//! and bytes per record for each step. In the same run it inserts the same rows into a plain
//! SQLite table in batched transactions with the same durability settings, and prints each
//! sync rate as a share of that raw limit (target: at least 20%).

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use outpost_core::Collection;
use outpost_core::wire::PushRequest;
use outpost_device::{DeviceStore, StoreKey, SyncClient};
use outpost_tests::{SITE_A, TestServer, object};
use serde_json::json;
use std::sync::Mutex;
use std::time::Instant;

#[derive(Parser)]
#[command(name = "outpost-bench", about = "Outpost benchmarks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Push N records from one device to a local server, pull them into a fresh device.
    Sync {
        #[arg(long, default_value_t = 100_000)]
        records: usize,
        /// Operations per push request.
        #[arg(long, default_value_t = 1000)]
        batch: usize,
        /// Records per pull page.
        #[arg(long, default_value_t = 1000)]
        page: u32,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Sync { records, batch, page } => {
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            runtime.block_on(sync_bench(records, batch, page))
        }
    }
}

fn rate(n: usize, seconds: f64) -> f64 {
    n as f64 / seconds.max(1e-9)
}

async fn sync_bench(records: usize, batch: usize, page: u32) -> Result<()> {
    let work = tempfile::tempdir_in(".").context("temporary directory on this disk")?;
    let server = TestServer::start().await?;
    let key = StoreKey::from_bytes([42; 32]);

    // 1. A device writes N records locally (each: record + outbox entry, one transaction).
    let store = Mutex::new(DeviceStore::open(&work.path().join("device-a.db"), &key)?);
    let client = SyncClient::new(&server.url())?;
    let code = server.enrollment_code(SITE_A).await?;
    let enrolled = client.enroll(&store, &code, "bench device A").await?;
    let site = enrolled.sites[0].id;
    let started = Instant::now();
    {
        let mut device = store.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
        for i in 0..records {
            let fields = object(json!({
                "contact_id": "0192f1b0-0000-7000-8000-000000000002",
                "commodity": if i % 3 == 0 { "syringe_1ml" } else { "condom_external" },
                "quantity": 1 + (i % 20),
            }));
            device.create(Collection::DistributionLines, site, fields)?;
        }
    }
    let write_s = started.elapsed().as_secs_f64();

    // 2. Push the whole outbox.
    let token = enrolled.token.clone();
    let mut sent_bytes = 0usize;
    let mut push_device_s = 0.0;
    // Time spent by the benchmark itself (counting bytes), subtracted from the sync time.
    let mut measuring_s = 0.0;
    let started = Instant::now();
    loop {
        let local = Instant::now();
        let ops = store.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.pending_ops(batch)?;
        push_device_s += local.elapsed().as_secs_f64();
        if std::env::var_os("BENCH_DEBUG").is_some() {
            eprintln!("pending {:?}", local.elapsed());
        }
        if ops.is_empty() {
            break;
        }
        let request = PushRequest { ops };
        let counting = Instant::now();
        sent_bytes += serde_json::to_vec(&request)?.len();
        measuring_s += counting.elapsed().as_secs_f64();
        let reply = client.push(&token, &request).await?;
        let local = Instant::now();
        store.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.ack(&reply.acked)?;
        push_device_s += local.elapsed().as_secs_f64();
        if std::env::var_os("BENCH_DEBUG").is_some() {
            eprintln!("ack {:?}", local.elapsed());
        }
    }
    let push_s = started.elapsed().as_secs_f64() - measuring_s;

    // 3. Pull everything into a fresh device.
    let fresh = Mutex::new(DeviceStore::open(&work.path().join("device-b.db"), &key)?);
    let code = server.enrollment_code(SITE_A).await?;
    let enrolled_b = client.enroll(&fresh, &code, "bench device B").await?;
    let mut received_bytes = 0usize;
    let mut pulled = 0usize;
    let mut cursor = 0;
    let mut pull_device_s = 0.0;
    measuring_s = 0.0;
    let started = Instant::now();
    loop {
        let page = client.pull(&enrolled_b.token, cursor, page).await?;
        let counting = Instant::now();
        received_bytes += serde_json::to_vec(&page)?.len();
        measuring_s += counting.elapsed().as_secs_f64();
        let local = Instant::now();
        pulled += fresh.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.apply_pull(&page)?;
        pull_device_s += local.elapsed().as_secs_f64();
        cursor = page.next_cursor;
        if !page.has_more {
            break;
        }
    }
    let pull_s = started.elapsed().as_secs_f64() - measuring_s;
    server.stop().await?;

    // 4. The raw limit: the same rows, batched inserts into plain SQLite, same disk, same pragmas.
    let raw = rusqlite::Connection::open(work.path().join("raw.db"))?;
    raw.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
         CREATE TABLE rows (id TEXT PRIMARY KEY, site_id TEXT, state TEXT NOT NULL, seq INTEGER NOT NULL);",
    )?;
    let rows: Vec<(String, String)> = {
        let device = store.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
        device
            .snapshot()?
            .into_iter()
            .map(|((_, id), state)| Ok((id.to_string(), serde_json::to_string(&state)?)))
            .collect::<Result<_>>()?
    };
    // Best of three runs: the limit is what SQLite can do at its best on this disk.
    let mut raw_s = f64::MAX;
    for attempt in 0..3 {
        raw.execute_batch("DELETE FROM rows; PRAGMA wal_checkpoint(TRUNCATE);")?;
        let started = Instant::now();
        for (n, chunk) in rows.chunks(batch).enumerate() {
            let tx = raw.unchecked_transaction()?;
            {
                let mut stmt =
                    tx.prepare_cached("INSERT INTO rows (id, site_id, state, seq) VALUES (?1, ?2, ?3, ?4)")?;
                for (i, (id, state)) in chunk.iter().enumerate() {
                    stmt.execute(rusqlite::params![
                        id,
                        site.to_string(),
                        state,
                        (attempt * rows.len() + n * batch + i) as i64
                    ])?;
                }
            }
            tx.commit()?;
        }
        raw_s = raw_s.min(started.elapsed().as_secs_f64());
    }
    let raw_rate = rate(rows.len(), raw_s);

    println!("outpost-bench sync: {records} records, push batch {batch}, pull page {page}");
    println!("  local writes (record + outbox, encrypted): {:>10.0} records/s", rate(records, write_s));
    println!(
        "  push:  {:>10.0} records/s  {:>6.0} bytes/record sent      {:>5.1}% of raw SQLite",
        rate(records, push_s),
        sent_bytes as f64 / records.max(1) as f64,
        100.0 * rate(records, push_s) / raw_rate
    );
    println!(
        "  pull:  {:>10.0} records/s  {:>6.0} bytes/record received  {:>5.1}% of raw SQLite",
        rate(pulled, pull_s),
        received_bytes as f64 / pulled.max(1) as f64,
        100.0 * rate(pulled, pull_s) / raw_rate
    );
    println!(
        "  time on the device's encrypted store: push {:.0}% (outbox reads and acks), pull {:.0}% (page apply)",
        100.0 * push_device_s / push_s,
        100.0 * pull_device_s / pull_s
    );
    println!("  raw SQLite batched inserts (same rows, same disk, best of 3): {raw_rate:>10.0} rows/s");
    let target = 0.2 * raw_rate;
    let verdict = |r: f64| if r >= target { "meets" } else { "MISSES" };
    println!("  target (20% of raw): push {}, pull {}", verdict(rate(records, push_s)), verdict(rate(pulled, pull_s)));
    anyhow::ensure!(pulled >= records, "pulled {pulled} of {records} records");
    Ok(())
}
