//! `outpost-bench`: sync throughput and latency against the raw SQLite limit, in one run.
//!
//! * `sync --records N [--backend sqlite|postgres|both]`: a device writes N records, pushes them
//!   to a local server, and a fresh device pulls them; records/s and bytes per record for each
//!   step, beside raw batched SQLite inserts of the same rows on the same disk (target: push
//!   and pull each at least 20% of that).
//! * `concurrent --devices 50 [--backend ...]`: many devices pushing and pulling at once;
//!   throughput and p50/p99 latency per request, for each backend side by side.
//! * `report --contacts 1000000 [--backend ...]`: the dashboard's indicator reports over a year of
//!   contacts, beside the raw SQLite time of the month's core figures (see `report.rs`).
//! * `fleet [--levels 100,250,500,...] [--hold 500 --hold-minutes 10] [--chart PNG]`: a
//!   national fleet of tablets, each syncing once a minute, on one server process; the
//!   saturation point, the server's memory under load, and a chart (see `fleet.rs`).
//! * `tablet [--records 1000000] [--clients 100000]`: the tablet's encrypted store at scale:
//!   saving a contact and looking a client up, p50/p99, beside one raw durable SQLite
//!   transaction (see `tablet.rs`).
//! * `soak [--devices 50] [--seconds 180] [--seed S] [--fault-every-ms 1500]`: devices syncing
//!   continuously through injected faults and server kills; ends with `lost: 0, duplicated: 0`
//!   and checks that the server's memory stays flat (see `soak.rs`).

mod fleet;
mod report;
mod soak;
mod tablet;

use anyhow::{Context, Result, anyhow};
use clap::{Parser, Subcommand, ValueEnum};
use outpost_core::Collection;
use outpost_core::wire::PushRequest;
use outpost_device::{DeviceStore, StoreKey, SyncClient, SyncOptions};
use outpost_server::settings::Settings;
use outpost_tests::{Backend, SITE_A, SimDevice, TestServer, object};
use serde_json::json;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(name = "outpost-bench", about = "Outpost benchmarks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Backends {
    Sqlite,
    Postgres,
    Both,
}

impl Backends {
    fn list(self) -> Vec<Backend> {
        match self {
            Backends::Sqlite => vec![Backend::Sqlite],
            Backends::Postgres => vec![Backend::Postgres],
            Backends::Both => vec![Backend::Sqlite, Backend::Postgres],
        }
    }
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
        #[arg(long, value_enum, default_value_t = Backends::Sqlite)]
        backend: Backends,
        /// PostgreSQL database for `--backend postgres|both` (a fresh schema is used and dropped).
        #[arg(long, env = "OUTPOST_BENCH_DATABASE_URL", default_value = "postgres://postgres@127.0.0.1:5432/test")]
        postgres_url: String,
    },
    /// The dashboard's reports over a large history, beside the raw SQLite limit.
    Report {
        #[arg(long, default_value_t = 1_000_000)]
        contacts: usize,
        #[arg(long, value_enum, default_value_t = Backends::Both)]
        backend: Backends,
        #[arg(long, env = "OUTPOST_BENCH_DATABASE_URL", default_value = "postgres://postgres@127.0.0.1:5432/test")]
        postgres_url: String,
    },
    /// Many devices syncing at once: throughput and latency percentiles per request.
    Concurrent {
        #[arg(long, default_value_t = 50)]
        devices: usize,
        /// Sync rounds per device.
        #[arg(long, default_value_t = 20)]
        rounds: usize,
        /// Records each device writes per round (a contact and its distribution lines).
        #[arg(long, default_value_t = 20)]
        per_round: usize,
        #[arg(long, value_enum, default_value_t = Backends::Both)]
        backend: Backends,
        #[arg(long, env = "OUTPOST_BENCH_DATABASE_URL", default_value = "postgres://postgres@127.0.0.1:5432/test")]
        postgres_url: String,
    },
    /// Hundreds of tablets on one server process, each syncing once a minute: latency and
    /// throughput per load level, the saturation point, memory under a steady load, a chart.
    Fleet {
        /// Load levels in tablets, lowest first (the ramp stops after the first saturated one).
        #[arg(long, value_delimiter = ',', default_values_t = vec![250, 500, 1000, 2000, 4000, 8000, 16000, 32000, 64000])]
        levels: Vec<usize>,
        /// Seconds each level runs.
        #[arg(long, default_value_t = 60)]
        level_seconds: u64,
        /// Seconds between two syncs of a tablet.
        #[arg(long, default_value_t = 60.0)]
        interval: f64,
        /// Most simulated tablets (each with its own client and connections); above this, each
        /// stands for several tablets and syncs that much more often.
        #[arg(long, default_value_t = 1000)]
        max_tasks: usize,
        /// Tablets of the steady load during which memory is watched.
        #[arg(long, default_value_t = 500)]
        hold: usize,
        /// Minutes of the steady load (0 skips it).
        #[arg(long, default_value_t = 10.0)]
        hold_minutes: f64,
        /// Where to write the chart (PNG).
        #[arg(long)]
        chart: Option<std::path::PathBuf>,
        #[arg(long, value_enum, default_value_t = Backends::Both)]
        backend: Backends,
        #[arg(long, env = "OUTPOST_BENCH_DATABASE_URL", default_value = "postgres://postgres@127.0.0.1:5432/test")]
        postgres_url: String,
    },
    /// The tablet's encrypted store holding a national programme's records: saving a contact
    /// and looking a client up, beside the raw SQLite limit.
    Tablet {
        #[arg(long, default_value_t = 1_000_000)]
        records: usize,
        #[arg(long, default_value_t = 100_000)]
        clients: usize,
    },
    /// Devices syncing continuously while faults are injected; fails if anything is lost or
    /// duplicated, a device diverges, or the server's memory grows.
    Soak {
        #[arg(long, default_value_t = 50)]
        devices: usize,
        /// Length of the run with faults (the drain and the checks come after).
        #[arg(long, default_value_t = 180)]
        seconds: u64,
        /// Seed of the fault schedule and the devices' choices (default: `OUTPOST_FAULT_SEED`,
        /// else the clock; printed so a run can be replayed).
        #[arg(long)]
        seed: Option<u64>,
        /// Mean time between faults (jittered between half and one and a half times this).
        #[arg(long, default_value_t = 1500)]
        fault_every_ms: u64,
    },
}

fn main() -> Result<()> {
    // Slow-query warnings from the server's storage show where report time goes.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match Cli::parse().command {
        Command::Sync { records, batch, page, backend, postgres_url } => runtime.block_on(async {
            let work = tempfile::tempdir_in(".").context("temporary directory on this disk")?;
            let raw_rate = raw_sqlite_rate(work.path(), records, batch)?;
            println!("outpost-bench sync: {records} records, push batch {batch}, pull page {page}");
            println!("  raw SQLite batched inserts (same rows, same disk, best of 3): {raw_rate:>10.0} rows/s");
            for b in backend.list() {
                sync_bench(work.path(), b, &postgres_url, records, batch, page, raw_rate).await?;
            }
            Ok(())
        }),
        Command::Report { contacts, backend, postgres_url } => runtime.block_on(async {
            let work = tempfile::tempdir_in(".").context("temporary directory on this disk")?;
            println!("outpost-bench report: {contacts} contacts over 12 months, 2 sites");
            report::raw_line(work.path(), contacts)?;
            for b in backend.list() {
                report::report_bench(work.path(), b, &postgres_url, contacts).await?;
            }
            Ok(())
        }),
        Command::Concurrent { devices, rounds, per_round, backend, postgres_url } => runtime.block_on(async {
            println!("outpost-bench concurrent: {devices} devices, {rounds} rounds, {per_round} records per round");
            for b in backend.list() {
                concurrent_bench(b, &postgres_url, devices, rounds, per_round).await?;
            }
            Ok(())
        }),
        Command::Fleet {
            levels,
            level_seconds,
            interval,
            max_tasks,
            hold,
            hold_minutes,
            chart,
            backend,
            postgres_url,
        } => runtime.block_on(async {
            let work = tempfile::tempdir_in(".").context("temporary directory on this disk")?;
            let options =
                fleet::Options { levels, level_seconds, interval_seconds: interval, max_tasks, hold, hold_minutes, chart };
            println!(
                "outpost-bench fleet: levels {:?} tablets, {} s each, one sync every {} s per tablet; hold {} tablets for {} min",
                options.levels, options.level_seconds, options.interval_seconds, options.hold, options.hold_minutes
            );
            let mut runs = Vec::new();
            for b in backend.list() {
                runs.push((b, fleet::run(work.path(), b, &postgres_url, &options).await?));
            }
            if let Some(path) = &options.chart {
                fleet::chart(path, &runs)?;
                println!("chart: {}", path.display());
            }
            Ok(())
        }),
        Command::Tablet { records, clients } => runtime.block_on(async {
            let work = tempfile::tempdir_in(".").context("temporary directory on this disk")?;
            println!("outpost-bench tablet: {records} records, {clients} clients on one tablet");
            tablet::run(work.path(), clients, records).await
        }),
        Command::Soak { devices, seconds, seed, fault_every_ms } => {
            runtime.block_on(soak::run(soak::Options { devices, seconds, seed, fault_every_ms }))
        }
    }
}

fn rate(n: usize, seconds: f64) -> f64 {
    n as f64 / seconds.max(1e-9)
}

fn lock<T>(m: &Mutex<T>) -> Result<std::sync::MutexGuard<'_, T>> {
    m.lock().map_err(|_| anyhow!("store lock poisoned"))
}

fn line_fields(i: usize) -> serde_json::Map<String, serde_json::Value> {
    object(json!({
        "contact_id": "0192f1b0-0000-7000-8000-000000000002",
        "commodity": if i.is_multiple_of(3) { "syringe_1ml" } else { "condom_external" },
        "quantity": 1 + (i % 20),
    }))
}

/// The raw limit: rows like the ones synced (id, site, state JSON of about the same size),
/// inserted in transactions of `batch` with the production pragmas, best of three.
fn raw_sqlite_rate(dir: &Path, records: usize, batch: usize) -> Result<f64> {
    let raw = rusqlite::Connection::open(dir.join("raw.db"))?;
    raw.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
         CREATE TABLE rows (id TEXT PRIMARY KEY, site_id TEXT, state TEXT NOT NULL, seq INTEGER NOT NULL);",
    )?;
    let stamp = "001764064800000-00000-0192f1a2-7c3d-7e4f-8a5b-6c7d8e9f0a1b";
    let rows: Vec<(String, String)> = (0..records)
        .map(|i| {
            let state = json!({"fields": line_fields(i).into_iter().map(|(k, v)| (k, json!({"v": v, "t": stamp}))).collect::<serde_json::Map<_, _>>()});
            (uuid::Uuid::now_v7().to_string(), state.to_string())
        })
        .collect();
    let mut best = f64::MAX;
    for attempt in 0..3 {
        raw.execute_batch("DELETE FROM rows; PRAGMA wal_checkpoint(TRUNCATE);")?;
        let started = Instant::now();
        for (n, chunk) in rows.chunks(batch).enumerate() {
            let tx = raw.unchecked_transaction()?;
            {
                let mut stmt =
                    tx.prepare_cached("INSERT INTO rows (id, site_id, state, seq) VALUES (?1, ?2, ?3, ?4)")?;
                for (i, (id, state)) in chunk.iter().enumerate() {
                    stmt.execute(rusqlite::params![id, "site", state, (attempt * records + n * batch + i) as i64])?;
                }
            }
            tx.commit()?;
        }
        best = best.min(started.elapsed().as_secs_f64());
    }
    Ok(rate(records, best))
}

async fn sync_bench(
    dir: &Path,
    backend: Backend,
    url: &str,
    records: usize,
    batch: usize,
    page: u32,
    raw_rate: f64,
) -> Result<()> {
    let server = TestServer::start_at(backend, Settings::default(), Some(url), Some(dir)).await?;
    let key = StoreKey::from_bytes([42; 32]);
    let work = tempfile::tempdir_in(dir)?;

    // The devices talk to the server through a pass-through proxy that counts the bytes on the
    // wire (HTTP headers included, compressed as sent).
    let proxy = outpost_tests::faults::FaultProxy::start(server.addr).await?;

    // A device writes N records locally (each: record + outbox entry, one transaction).
    let store = Mutex::new(DeviceStore::open(&work.path().join("device-a.db"), &key)?);
    let client = SyncClient::new(&proxy.url())?;
    let code = server.enrollment_code(SITE_A).await?;
    let enrolled = client.enroll(&store, &code, "bench device A").await?;
    let site = enrolled.sites.first().context("no site")?.id;
    let started = Instant::now();
    {
        let mut device = lock(&store)?;
        for i in 0..records {
            device.create(Collection::DistributionLines, site, line_fields(i))?;
        }
    }
    let write_s = started.elapsed().as_secs_f64();

    // Push the whole outbox exactly as a sync does (the device's own push loop, which reads the
    // next batch and writes the previous acknowledgement while a batch is in flight).
    let options = SyncOptions { push_batch: batch, ..SyncOptions::default() };
    let (up_before, down_before) = proxy.bytes();
    let started = Instant::now();
    let pushed = client.push_outbox(&store, &options, &mut |_| {}).await?;
    let push_s = started.elapsed().as_secs_f64();
    let (up_after, down_after) = proxy.bytes();
    anyhow::ensure!(pushed.pushed as usize == records, "pushed {} of {records} records", pushed.pushed);
    let push_wire = (up_after - up_before + down_after - down_before) as f64;
    let push_bodies = pushed.bytes_sent as f64;

    // Pull everything into a fresh device, as a sync does (the next page is fetched while one
    // is applied).
    let fresh = Mutex::new(DeviceStore::open(&work.path().join("device-b.db"), &key)?);
    let code = server.enrollment_code(SITE_A).await?;
    client.enroll(&fresh, &code, "bench device B").await?;
    let pull_options = SyncOptions { pull_limit: page, ..SyncOptions::default() };
    let (up_before, down_before) = proxy.bytes();
    let started = Instant::now();
    let synced = client.sync(&fresh, &pull_options, &mut |_| {}).await?;
    let pull_s = started.elapsed().as_secs_f64();
    let (up_after, down_after) = proxy.bytes();
    let pull_wire = (up_after - up_before + down_after - down_before) as f64;
    let pulled = synced.pulled as usize;

    // Again into another fresh device, one page after the other, to see how much of a pull
    // is the device's store and how large the pages are as plain JSON.
    let third = Mutex::new(DeviceStore::open(&work.path().join("device-c.db"), &key)?);
    let code = server.enrollment_code(SITE_A).await?;
    let enrolled_c = client.enroll(&third, &code, "bench device C").await?;
    let (mut json_bytes, mut pulled_in_turn, mut cursor) = (0usize, 0usize, 0);
    let (mut device_s, mut measuring_s) = (0.0, 0.0);
    let started = Instant::now();
    loop {
        let reply = client.pull(&enrolled_c.token, cursor, page, false).await?;
        let counting = Instant::now();
        json_bytes += serde_json::to_vec(&reply)?.len();
        measuring_s += counting.elapsed().as_secs_f64();
        let local = Instant::now();
        pulled_in_turn += lock(&third)?.apply_pull(&reply)?;
        device_s += local.elapsed().as_secs_f64();
        cursor = reply.next_cursor;
        if !reply.has_more {
            break;
        }
    }
    let in_turn_s = started.elapsed().as_secs_f64() - measuring_s;
    server.stop().await?;

    let (push_rate, pull_rate) = (rate(records, push_s), rate(pulled, pull_s));
    let in_turn_rate = rate(pulled_in_turn, in_turn_s);
    let verdict = |r: f64| if r >= 0.35 * raw_rate { "meets" } else { "MISSES" };
    let per = |bytes: f64, n: usize| bytes / n.max(1) as f64;
    println!("  server on {backend:?}:");
    println!("    local writes (record + outbox, encrypted): {:>10.0} records/s", rate(records, write_s));
    println!(
        "    push: {push_rate:>10.0} records/s {:>5.1}% of raw SQLite ({} the 35% target)",
        100.0 * push_rate / raw_rate,
        verdict(push_rate),
    );
    println!(
        "          {:>6.0} bytes/record on the wire, both ways (target 120); request bodies {:.0} bytes/record, {}",
        per(push_wire, records),
        per(push_bodies, records),
        if client.compresses_requests() { "zstd" } else { "uncompressed" },
    );
    println!(
        "    pull: {pull_rate:>10.0} records/s {:>5.1}% of raw SQLite ({} the 35% target)",
        100.0 * pull_rate / raw_rate,
        verdict(pull_rate),
    );
    println!(
        "          one page after another: {in_turn_rate:.0} records/s, {:.0}% of the time in the device store \
         ({:.1} µs a record)",
        100.0 * device_s / in_turn_s,
        1e6 * device_s / pulled_in_turn.max(1) as f64,
    );
    println!(
        "          {:>6.0} bytes/record on the wire, both ways (target 150); the same pages as plain JSON {:.0}",
        per(pull_wire, pulled),
        per(json_bytes as f64, pulled),
    );
    anyhow::ensure!(pulled >= records, "pulled {pulled} of {records} records");
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

async fn concurrent_bench(backend: Backend, url: &str, devices: usize, rounds: usize, per_round: usize) -> Result<()> {
    let server = TestServer::start_at(backend, Settings::default(), Some(url), None).await?;
    let mut fleet = Vec::with_capacity(devices);
    for _ in 0..devices {
        fleet.push(std::sync::Arc::new(SimDevice::enroll(&server, SITE_A).await?));
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for device in &fleet {
        let device = device.clone();
        tasks.push(tokio::spawn(async move {
            let token = device.with(|s| s.identity().map(|i| i.token.clone())).context("not enrolled")?;
            let (mut pushes, mut pulls) = (Vec::new(), Vec::new());
            let mut pulled = 0usize;
            for round in 0..rounds {
                let visit = device.create(Collection::Contacts, json!({"setting": "window", "occurred_at": "2026-11-25T10:00:00Z"}))?;
                for i in 1..per_round {
                    device.create(
                        Collection::DistributionLines,
                        json!({"contact_id": visit.to_string(), "commodity": "syringe_1ml", "quantity": 1 + (i + round) % 20}),
                    )?;
                }
                let ops = device.with(|s| s.pending_ops(1000))?;
                let t = Instant::now();
                let reply = device.client.push(&token, &PushRequest { ops }).await?;
                pushes.push(t.elapsed());
                device.with(|s| s.ack(&reply.acked))?;
                loop {
                    let cursor = device.with(|s| s.cursor())?;
                    let t = Instant::now();
                    let page = device.client.pull(&token, cursor, 1000, false).await?;
                    pulls.push(t.elapsed());
                    pulled += device.with(|s| s.apply_pull(&page))?;
                    if !page.has_more {
                        break;
                    }
                }
            }
            anyhow::Ok((pushes, pulls, pulled))
        }));
    }
    let (mut pushes, mut pulls, mut pulled) = (Vec::new(), Vec::new(), 0usize);
    for task in tasks {
        let (a, b, n) = task.await??;
        pushes.extend(a);
        pulls.extend(b);
        pulled += n;
    }
    let elapsed = started.elapsed().as_secs_f64();
    pushes.sort();
    pulls.sort();
    let written = devices * rounds * per_round;
    println!("  server on {backend:?}: {elapsed:.1} s");
    println!(
        "    push: {:>6} requests {:>8.0} req/s {:>9.0} records/s  p50 {:>7.1} ms  p99 {:>7.1} ms",
        pushes.len(),
        rate(pushes.len(), elapsed),
        rate(written, elapsed),
        percentile(&pushes, 0.5),
        percentile(&pushes, 0.99)
    );
    println!(
        "    pull: {:>6} requests {:>8.0} req/s {:>9.0} records/s  p50 {:>7.1} ms  p99 {:>7.1} ms",
        pulls.len(),
        rate(pulls.len(), elapsed),
        rate(pulled, elapsed),
        percentile(&pulls, 0.5),
        percentile(&pulls, 0.99)
    );
    server.stop().await
}
