//! `outpost-bench soak`: a bounded run (minutes, not hours) of many devices syncing continuously
//! while faults are injected, ending with the line `lost: N, duplicated: M`.
//!
//! # What runs
//!
//! * A real `outpost-server` process over a SQLite file in a temporary directory, started by this
//!   module (the `KillableServer` of the test harness finds the binary only from the test
//!   binaries' directory; here it is the `outpost-server` next to `outpost-bench`, or
//!   `OUTPOST_SERVER_BIN`). It is killed with SIGKILL and restarted over the same file and port.
//! * A `FaultProxy` in front of it; every device talks to the proxy only.
//! * `--devices` simulated tablets (in-memory stores), enrolled with `outpost-server enroll`,
//!   half at each demo site so the per-site scoping of pulls is exercised. Each runs in its own
//!   task until the deadline: it saves one or two contacts with zero to three distribution lines
//!   each (one transaction per contact, as the app does), sometimes edits or deletes a contact
//!   it saved earlier or writes a reversal line for an earlier line, then syncs (requests give
//!   up after 3 s, so a blackhole becomes a retry; many attempts with short back-off). A failed
//!   sync is not fatal: the device keeps its outbox and tries again in its next round. Each
//!   device keeps a ledger of every record it created, the fields it last wrote to each and
//!   every delete it made.
//! * A fault task: every `--fault-every-ms` (jittered between half and one and a half times
//!   that, by the seeded generator) it sets one fault on the proxy (a request cut after N
//!   bytes, a response cut after N bytes, N = 0 being "committed but the reply never arrives",
//!   a reset, a blackhole, a delay) for a short while, then goes back to passing traffic; or it
//!   kills the server with SIGKILL and restarts it. Kills happen only in the first 40% of the
//!   run, so the last server process lives through at least 60% of it: long enough to say
//!   whether its memory stays flat.
//! * A sampler reads the server process's `VmRSS` from `/proc/<pid>/status` every few seconds.
//!
//! # The end
//!
//! At the deadline the faults stop. Every device syncs until its outbox is empty, then once more
//! so that each has pulled what the others pushed last. The server's SQLite file is then opened
//! directly: integrity check, snapshot, conflict log, per-device operation counters.
//!
//! **Lost** adds up: records a device created that the server does not hold; deletes a device
//! made whose record is live on the server (and records live on the device but deleted on the
//! server); records whose fields on the server are not what the device last wrote (a lost
//! edit); and operations the device wrote beyond the highest `op_seq` the server committed for
//! it.
//!
//! **Duplicated** needs thought, because records are keyed by `(collection, id)` and ids are
//! made on the device: a create the server applies twice cannot make a second row, it merges
//! into the first. What is counted:
//! 1. the same `(collection, id)` twice in the server's snapshot (the primary key forbids it;
//!    counted anyway, as the direct meaning of the word);
//! 2. records on the server whose creating write carries the stamp of a soak device that never
//!    created that id: what a create re-issued under a fresh id would look like;
//! 3. conflicts in the server's conflict log whose winner and loser are the same device. Each
//!    record here has exactly one writer, its creator, who always writes on top of what it last
//!    wrote, so the log must stay empty. An operation applied a second time *after* a later
//!    operation of the same device on the same record shows up exactly like this: an older
//!    write of the device losing to its newer one, or an edit meeting the device's own
//!    tombstone. (Applying the *latest* operation of a record again is invisible by design:
//!    same stamp, same value, no change; it is also harmless.) Conflicts between different
//!    devices are impossible in this workload and fail the run as well;
//! 4. operations the server counts as committed for a device beyond the number it wrote.
//!
//! A single fault can show up in more than one of these counts. Besides both totals, the run
//! fails when a device diverges from the server (`assert_converged_with`), a device store fails
//! its consistency check, the server's integrity check fails, the server refused an operation,
//! or the server's memory grew: for each process that lived long enough (at least 6 samples and
//! a fifth of the run), its largest `VmRSS` in the final third of its life must be at most
//! 1.5 × its `VmRSS` at the end of its first third, plus 16 MiB.
//!
//! The seed (`--seed`, or `OUTPOST_FAULT_SEED`, or the clock) fixes the fault schedule and each
//! device's choices; thread scheduling still varies between runs.

mod memory;
mod server;

use anyhow::{Context, Result, anyhow, ensure};
use memory::{judge_memory, sample_memory};
use outpost_core::{Collection, DeviceId, RecordId};
use outpost_device::{Progress, SyncClient, SyncError, SyncOptions, SyncReport};
use outpost_server_store::Store;
use outpost_tests::faults::{Fault, FaultProxy, Rng, fault_seed};
use outpost_tests::{SITE_A, SITE_B, SimDevice, assert_converged_with, object};
use serde_json::{Map, Value, json};
use server::{Current, Lifetime, Server};

pub(crate) use memory::read_rss_kib;

/// The `outpost-server` binary the benchmarks run as a process of its own.
pub(crate) fn server_binary() -> Result<PathBuf> {
    Server::binary()
}
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The command line of `outpost-bench soak`.
pub struct Options {
    pub devices: usize,
    pub seconds: u64,
    pub seed: Option<u64>,
    pub fault_every_ms: u64,
}

/// Requests give up after this long: a blackholed connection becomes a retry.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);
/// Share of the run during which the server may be killed.
const KILL_WINDOW: f64 = 0.4;
/// Memory limit: final third at most this factor of the end of the first third...
const RSS_FACTOR: f64 = 1.5;
/// ...plus this much.
const RSS_MARGIN_KIB: u64 = 16 * 1024;
/// How long a device may take to empty its outbox once the faults stop.
const DRAIN_LIMIT: Duration = Duration::from_secs(120);

const SETTINGS: &[&str] = &["fixed_site", "window", "street_outreach", "mobile_van", "peer_delivered"];
const SERVICES: &[&str] = &["kit", "counselling", "information", "testing", "referral"];
const COMMODITIES: &[&str] = &["syringe_1ml", "alcohol_swab", "condom_external"];

/// Sync options of a patient device: many attempts, short back-off.
fn patient() -> SyncOptions {
    SyncOptions {
        push_batch: 200,
        max_attempts: 40,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(500),
        ..SyncOptions::default()
    }
}

/// A non-zero seed for one user of the run's seed (splitmix64).
fn sub_seed(seed: u64, stream: u64) -> u64 {
    let mut z = seed ^ stream.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)) | 1
}

fn pick<'a>(rng: &mut Rng, list: &[&'a str]) -> &'a str {
    list[rng.below(list.len() as u64) as usize]
}

fn secs(since: Instant, epoch: Instant) -> f64 {
    since.saturating_duration_since(epoch).as_secs_f64()
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

// ---------------------------------------------------------------------------------------------
// Devices.

/// Operations a device wrote, by kind.
#[derive(Clone, Default)]
struct Written {
    contacts: u64,
    lines: u64,
    reversals: u64,
    updates: u64,
    deletes: u64,
}

impl Written {
    fn ops(&self) -> u64 {
        self.contacts + self.lines + self.reversals + self.updates + self.deletes
    }

    fn add(&mut self, other: &Written) {
        self.contacts += other.contacts;
        self.lines += other.lines;
        self.reversals += other.reversals;
        self.updates += other.updates;
        self.deletes += other.deletes;
    }
}

/// What syncs did, summed.
#[derive(Clone, Default)]
struct SyncStats {
    ok: u64,
    failed: u64,
    retries: u64,
    pushed: u64,
    pulled: u64,
    rejected: u64,
    errors: BTreeMap<String, u64>,
}

impl SyncStats {
    fn record(&mut self, result: &Result<SyncReport, SyncError>) {
        match result {
            Ok(report) => {
                self.ok += 1;
                self.retries += u64::from(report.retries);
                self.pushed += report.pushed;
                self.pulled += report.pulled;
                self.rejected += report.rejected;
            }
            Err(e) => {
                self.failed += 1;
                *self.errors.entry(error_kind(e)).or_default() += 1;
            }
        }
    }

    fn add(&mut self, other: &SyncStats) {
        self.ok += other.ok;
        self.failed += other.failed;
        self.retries += other.retries;
        self.pushed += other.pushed;
        self.pulled += other.pulled;
        self.rejected += other.rejected;
        for (kind, n) in &other.errors {
            *self.errors.entry(kind.clone()).or_default() += n;
        }
    }

    fn summary(&self) -> String {
        let errors = if self.errors.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = self.errors.iter().map(|(k, n)| format!("{k} {n}")).collect();
            format!(" ({})", list.join(", "))
        };
        format!(
            "{} syncs ok, {} failed{errors}; {} retries inside successful syncs; pushed {} operations, pulled {} records, {} refused",
            self.ok, self.failed, self.retries, self.pushed, self.pulled, self.rejected
        )
    }
}

fn error_kind(e: &SyncError) -> String {
    match e {
        SyncError::Offline(_) => "unreachable".into(),
        SyncError::Server { status, .. } => format!("server {status}"),
        SyncError::Unauthorized { code, .. } => format!("unauthorized {code}"),
        SyncError::AppTooOld(_) => "app too old".into(),
        SyncError::Rejected { code, .. } => format!("refused {code}"),
        SyncError::RejectedOps(_) => "refused operations".into(),
        SyncError::Store(_) => "device store".into(),
        SyncError::Poisoned => "poisoned".into(),
    }
}

/// What a device expects the server to hold for one record it created.
struct Expected {
    values: Map<String, Value>,
    deleted: bool,
}

/// Everything one device did.
#[derive(Default)]
struct Ledger {
    /// Every record it created, by (collection name, id), with its last written fields.
    records: BTreeMap<(String, RecordId), Expected>,
    /// Contacts it may still edit or delete.
    live_contacts: Vec<RecordId>,
    /// Its (non-reversal) distribution lines, for reversals.
    lines: Vec<RecordId>,
    written: Written,
    run: SyncStats,
}

impl Ledger {
    fn created(&mut self, collection: Collection, id: RecordId, values: Map<String, Value>) {
        self.records.insert((collection.name().to_string(), id), Expected { values, deleted: false });
    }

    fn expected(&mut self, collection: Collection, id: RecordId) -> Result<&mut Expected> {
        self.records.get_mut(&(collection.name().to_string(), id)).context("a record this device created")
    }
}

/// One round of a worker's saves: contacts with lines, and sometimes an edit, a delete or a
/// reversal of something saved earlier.
fn write_some(device: &SimDevice, rng: &mut Rng, ledger: &mut Ledger) -> Result<()> {
    let site = device.site_id();
    for _ in 0..1 + rng.below(2) {
        let mut contact = object(json!({
            "setting": pick(rng, SETTINGS),
            "occurred_at": format!("2026-11-{:02}T{:02}:{:02}:00Z", 1 + rng.below(28), 8 + rng.below(10), rng.below(60)),
        }));
        if rng.below(2) == 0 {
            contact.insert("services".into(), json!([pick(rng, SERVICES)]));
        }
        let lines: Vec<Map<String, Value>> = (0..rng.below(4))
            .map(|_| object(json!({"commodity": pick(rng, COMMODITIES), "quantity": 1 + rng.below(20)})))
            .collect();
        // The contact and its lines are saved in one transaction, like one tap in the app.
        let (contact_id, line_ids) = device.with(|s| {
            s.write_batch(|batch| {
                let id = batch.create(Collection::Contacts, site, contact.clone())?;
                let mut line_ids = Vec::new();
                for line in &lines {
                    let mut line = line.clone();
                    line.insert("contact_id".into(), json!(id.to_string()));
                    line_ids.push((batch.create(Collection::DistributionLines, site, line.clone())?, line));
                }
                Ok((id, line_ids))
            })
        })?;
        ledger.created(Collection::Contacts, contact_id, contact);
        ledger.live_contacts.push(contact_id);
        ledger.written.contacts += 1;
        for (id, line) in line_ids {
            ledger.created(Collection::DistributionLines, id, line);
            ledger.lines.push(id);
            ledger.written.lines += 1;
        }
    }

    // An edit of an earlier contact (30% of rounds).
    if rng.below(10) < 3 && !ledger.live_contacts.is_empty() {
        let id = ledger.live_contacts[rng.below(ledger.live_contacts.len() as u64) as usize];
        let change = match rng.below(3) {
            0 => object(json!({"note": format!("follow-up {}", rng.below(1000))})),
            1 => object(json!({"collecting_for": rng.below(10)})),
            _ => {
                let first = rng.below(SERVICES.len() as u64) as usize;
                let second = (first + 1 + rng.below(SERVICES.len() as u64 - 1) as usize) % SERVICES.len();
                object(json!({"services": [SERVICES[first], SERVICES[second]]}))
            }
        };
        device.update(Collection::Contacts, id, Value::Object(change.clone()))?;
        ledger.expected(Collection::Contacts, id)?.values.extend(change);
        ledger.written.updates += 1;
    }

    // A delete of an earlier contact (10% of rounds, keeping some contacts around to edit).
    if rng.below(10) == 0 && ledger.live_contacts.len() > 2 {
        let index = rng.below(ledger.live_contacts.len() as u64) as usize;
        let id = ledger.live_contacts.swap_remove(index);
        device.with(|s| s.delete(Collection::Contacts, id))?;
        ledger.expected(Collection::Contacts, id)?.deleted = true;
        ledger.written.deletes += 1;
    }

    // A reversal of an earlier line (10% of rounds): lines are append-only.
    if rng.below(10) == 0 && !ledger.lines.is_empty() {
        let index = rng.below(ledger.lines.len() as u64) as usize;
        let original = ledger.lines.swap_remove(index);
        let mut reversal = ledger.expected(Collection::DistributionLines, original)?.values.clone();
        reversal.insert("reverses".into(), json!(original.to_string()));
        let id = device.with(|s| s.create(Collection::DistributionLines, site, reversal.clone()))?;
        ledger.created(Collection::DistributionLines, id, reversal);
        ledger.written.reversals += 1;
    }
    Ok(())
}

async fn sync_once(device: &SimDevice, client: &SyncClient) -> Result<SyncReport, SyncError> {
    let mut ignore = |_: Progress| {};
    client.sync(&device.store, &patient(), &mut ignore).await
}

/// A device's life until the deadline: save, sync, pause.
async fn run_device(device: Arc<SimDevice>, client: SyncClient, mut rng: Rng, deadline: Instant) -> Result<Ledger> {
    let mut ledger = Ledger::default();
    while Instant::now() < deadline {
        write_some(&device, &mut rng, &mut ledger)?;
        let result = sync_once(&device, &client).await;
        ledger.run.record(&result);
        tokio::time::sleep(Duration::from_millis(200 + rng.below(1000))).await;
    }
    Ok(ledger)
}

/// After the faults: syncs until the outbox is empty. Returns the syncs and, if the outbox
/// could not be emptied in time, what is left.
async fn drain(device: Arc<SimDevice>, client: SyncClient) -> Result<(SyncStats, Option<u64>)> {
    let until = Instant::now() + DRAIN_LIMIT;
    let mut stats = SyncStats::default();
    loop {
        let result = sync_once(&device, &client).await;
        stats.record(&result);
        let pending = device.with(|s| s.pending_count())?;
        if result.is_ok() && pending == 0 {
            return Ok((stats, None));
        }
        if Instant::now() > until {
            return Ok((stats, Some(pending)));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The last sync of a device, once every outbox is empty: it pulls what the others pushed.
async fn final_sync(device: Arc<SimDevice>, client: SyncClient) -> Result<SyncStats> {
    let mut stats = SyncStats::default();
    for _ in 0..10 {
        let result = sync_once(&device, &client).await;
        stats.record(&result);
        if result.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(stats)
}

// ---------------------------------------------------------------------------------------------
// Faults.

#[derive(Default)]
struct FaultCounts {
    cut_request: u64,
    cut_response: u64,
    lost_reply: u64,
    reset: u64,
    blackhole: u64,
    delay: u64,
    kills: u64,
}

/// Sets faults on the proxy and kills the server until the deadline; returns the server (still
/// running, traffic passing) and what it did.
async fn inject_faults(
    proxy: Arc<FaultProxy>,
    mut server: Server,
    mut rng: Rng,
    every_ms: u64,
    deadline: Instant,
    kill_until: Instant,
) -> Result<(Server, FaultCounts)> {
    let mut counts = FaultCounts::default();
    let every_ms = every_ms.max(10);
    loop {
        let wait = Duration::from_millis(every_ms / 2 + rng.below(every_ms + 1));
        if Instant::now() + wait >= deadline {
            break;
        }
        tokio::time::sleep(wait).await;
        let now = Instant::now();
        // Kills only in the kill window, at least one if the window is long enough for one.
        let last_chance = now + Duration::from_millis(every_ms * 3 / 2) >= kill_until;
        if now < kill_until && (rng.below(100) < 20 || (counts.kills == 0 && last_chance)) {
            server.kill()?;
            counts.kills += 1;
            tokio::time::sleep(Duration::from_millis(rng.below(500))).await;
            server.restart().await?;
            continue;
        }
        let fault = match rng.below(5) {
            0 => {
                counts.cut_request += 1;
                Fault::CutRequestAfter(rng.below(3000) as usize)
            }
            1 => {
                if rng.below(2) == 0 {
                    counts.lost_reply += 1;
                    Fault::CutResponseAfter(0)
                } else {
                    counts.cut_response += 1;
                    Fault::CutResponseAfter(1 + rng.below(800) as usize)
                }
            }
            2 => {
                counts.reset += 1;
                Fault::Reset
            }
            3 => {
                counts.blackhole += 1;
                Fault::Blackhole
            }
            _ => {
                counts.delay += 1;
                Fault::Delay(Duration::from_millis(100 + rng.below(1500)))
            }
        };
        proxy.set(fault);
        tokio::time::sleep(Duration::from_millis(200 + rng.below(every_ms / 2 + 1))).await;
        proxy.set(Fault::Pass);
    }
    proxy.set(Fault::Pass);
    Ok((server, counts))
}

// ---------------------------------------------------------------------------------------------
// The run.

/// Runs the soak; fails when anything was lost or duplicated, a device diverged, a check
/// failed, or the server's memory grew.
pub async fn run(options: Options) -> Result<()> {
    let Options { devices: device_count, seconds, seed, fault_every_ms } = options;
    ensure!(device_count > 0, "--devices must be at least 1");
    let seed = seed.unwrap_or_else(|| fault_seed("outpost-bench soak"));
    let epoch = Instant::now();
    let dir = tempfile::tempdir()?;
    let server = Server::start(dir.path(), epoch).await?;
    let proxy = Arc::new(FaultProxy::start(server.addr).await?);
    println!(
        "outpost-bench soak: {device_count} devices, {seconds} s of faults every ~{fault_every_ms} ms, seed {seed} (--seed {seed} replays the fault schedule and the devices' choices)"
    );
    println!(
        "  a real outpost-server process ({}) over {}, behind a fault proxy; SIGKILL + restart only in the first {:.0}% of the run, so the last process lives through at least {:.0}% of it",
        server.binary.display(),
        server.database_url(),
        100.0 * KILL_WINDOW,
        100.0 * (1.0 - KILL_WINDOW)
    );

    // Enrolment: codes from the administration CLI, half the devices at each demo site.
    let mut fleet = Vec::with_capacity(device_count);
    let mut clients = Vec::with_capacity(device_count);
    for i in 0..device_count {
        let site = if i % 2 == 0 { SITE_A } else { SITE_B };
        let code = server.enrollment_code(site)?;
        let device = SimDevice::enroll_with_code(&proxy.url(), &code).await?;
        ensure!(device.site.name == site, "device {i} enrolled at {:?}, not {site:?}", device.site.name);
        fleet.push(Arc::new(device));
        clients.push(SyncClient::with_timeout(&proxy.url(), REQUEST_TIMEOUT)?);
    }
    let owners: HashMap<DeviceId, usize> = fleet
        .iter()
        .enumerate()
        .map(|(i, d)| d.with(|s| s.identity().map(|id| (id.device_id, i))).context("enrolled device"))
        .collect::<Result<_>>()?;
    println!(
        "  enrolled {} devices at {SITE_A:?} and {} at {SITE_B:?} in {:.1} s",
        device_count.div_ceil(2),
        device_count / 2,
        epoch.elapsed().as_secs_f64()
    );

    // The run: devices, faults and the memory sampler until the deadline.
    let run_start = Instant::now();
    let run_s = seconds as f64;
    let deadline = run_start + Duration::from_secs(seconds);
    let kill_until = run_start + Duration::from_secs_f64(run_s * KILL_WINDOW);
    let every = Duration::from_millis((seconds * 1000 / 40).clamp(500, 5000));
    let stop_sampling = Arc::new(AtomicBool::new(false));
    let sampler = tokio::spawn(sample_memory(server.current.clone(), epoch, every, stop_sampling.clone()));
    let mut tasks = Vec::new();
    for (i, device) in fleet.iter().enumerate() {
        let rng = Rng(sub_seed(seed, 1 + i as u64));
        tasks.push(tokio::spawn(run_device(device.clone(), clients[i].clone(), rng, deadline)));
    }
    let faults = tokio::spawn(inject_faults(
        proxy.clone(),
        server,
        Rng(sub_seed(seed, 0)),
        fault_every_ms,
        deadline,
        kill_until,
    ));
    let mut ledgers = Vec::with_capacity(device_count);
    for task in tasks {
        ledgers.push(task.await??);
    }
    let (server, counts) = faults.await??;
    proxy.set(Fault::Pass);
    let run_elapsed = run_start.elapsed().as_secs_f64();

    let mut written = Written::default();
    let mut run_stats = SyncStats::default();
    for ledger in &ledgers {
        written.add(&ledger.written);
        run_stats.add(&ledger.run);
    }
    println!(
        "run, faults on: {:.0}–{:.0} s ({run_elapsed:.1} s; devices finish the sync they are in after the deadline)",
        secs(run_start, epoch),
        secs(Instant::now(), epoch)
    );
    println!(
        "  operations written: {} (contacts {}, distribution lines {}, reversal lines {}, edits {}, deletes {}): {:.0} per second",
        written.ops(),
        written.contacts,
        written.lines,
        written.reversals,
        written.updates,
        written.deletes,
        written.ops() as f64 / run_elapsed.max(1e-9)
    );
    println!("  {}", run_stats.summary());
    println!(
        "  faults: {} in all — cut request {}, cut response {}, lost reply (cut at 0 bytes) {}, reset {}, blackhole {}, delay {}; server kills (SIGKILL) {}",
        counts.cut_request
            + counts.cut_response
            + counts.lost_reply
            + counts.reset
            + counts.blackhole
            + counts.delay
            + counts.kills,
        counts.cut_request,
        counts.cut_response,
        counts.lost_reply,
        counts.reset,
        counts.blackhole,
        counts.delay,
        counts.kills
    );

    // Faults off: every outbox empties, then every device pulls once more.
    let drain_start = Instant::now();
    let mut drains = Vec::new();
    for (device, client) in fleet.iter().zip(&clients) {
        drains.push(tokio::spawn(drain(device.clone(), client.clone())));
    }
    let mut drain_stats = SyncStats::default();
    let mut stuck = Vec::new();
    for (i, task) in drains.into_iter().enumerate() {
        let (stats, left) = task.await??;
        drain_stats.add(&stats);
        if let Some(left) = left {
            stuck.push(format!("device {i}: {left} operations still pending"));
        }
    }
    let drain_s = drain_start.elapsed().as_secs_f64();
    let mut finals = Vec::new();
    for (device, client) in fleet.iter().zip(&clients) {
        finals.push(tokio::spawn(final_sync(device.clone(), client.clone())));
    }
    let mut final_stats = SyncStats::default();
    for task in finals {
        final_stats.add(&task.await??);
    }
    println!("drain, faults off: outboxes emptied in {drain_s:.2} s: {}", drain_stats.summary());
    println!("  final sync of every device: {}", final_stats.summary());
    for line in &stuck {
        println!("  STUCK {line}");
    }

    stop_sampling.store(true, Ordering::SeqCst);
    let samples = sampler.await?;
    let (memory_flat, last_judged) = judge_memory(&samples, &server.lifetimes, run_s, every);
    let long_life = server.lifetimes.last().map_or(0.0, |l| {
        (secs(run_start + Duration::from_secs(seconds), epoch) - l.started_s.max(secs(run_start, epoch))) / run_s
    });
    println!(
        "  the last process covered {:.0}% of the run{}",
        100.0 * long_life.clamp(0.0, 1.0),
        if last_judged { "" } else { " but could not be judged (run too short?)" }
    );

    // Verification against the server's file.
    let mut failures = Vec::new();
    failures.extend(stuck);
    let key = outpost_server_store::ServerKey::load(&server.data_dir).map_err(|e| anyhow!("{e}"))?;
    let storage = Store::open(&server.database_url(), 1, key).await.map_err(|e| anyhow!("{e}"))?;
    match storage.check().await {
        Ok(()) => println!("checks:\n  server database integrity check: ok"),
        Err(e) => {
            println!("checks:\n  server database integrity check: FAILED: {e}");
            failures.push(format!("integrity check: {e}"));
        }
    }
    let rows = storage.snapshot().await.map_err(|e| anyhow!("{e}"))?;
    let conflicts = storage.conflicts(Default::default()).await.map_err(|e| anyhow!("{e}"))?;
    let server_devices = storage.list_devices().await.map_err(|e| anyhow!("{e}"))?;

    let mut keys = BTreeSet::new();
    let mut duplicate_rows = 0u64;
    let mut by_collection: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for row in &rows {
        if !keys.insert((row.collection.clone(), row.id)) {
            duplicate_rows += 1;
        }
        let entry = by_collection.entry(row.collection.as_str()).or_default();
        entry.0 += 1;
        entry.1 += u64::from(row.state.deleted.is_some());
    }
    let by_key: HashMap<(&str, RecordId), &outpost_server_store::records::SnapshotRow> =
        rows.iter().map(|r| ((r.collection.as_str(), r.id), r)).collect();
    let held: Vec<String> = by_collection.iter().map(|(c, (n, d))| format!("{c} {n} ({d} deleted)")).collect();
    println!("  server holds {} records: {}", rows.len(), held.join(", "));

    // Records the server holds from a soak device that the device never created.
    let mut foreign_records = 0u64;
    for row in &rows {
        let creator = row.state.fields.values().map(|f| f.stamp).min().map(|stamp| stamp.device);
        if let Some(owner) = creator.and_then(|d| owners.get(&d))
            && !ledgers[*owner].records.contains_key(&(row.collection.clone(), row.id))
        {
            foreign_records += 1;
        }
    }

    // Each device's ledger against the server.
    let (mut lost_records, mut lost_deletes, mut lost_edits, mut resurrected) = (0u64, 0u64, 0u64, 0u64);
    let mut examples = Vec::new();
    for (i, ledger) in ledgers.iter().enumerate() {
        for ((collection, id), expected) in &ledger.records {
            let Some(row) = by_key.get(&(collection.as_str(), *id)) else {
                lost_records += 1;
                examples.push(format!("device {i}: {collection} {id} missing on the server"));
                continue;
            };
            match (expected.deleted, row.state.deleted.is_some()) {
                (true, false) => {
                    lost_deletes += 1;
                    examples.push(format!("device {i}: {collection} {id} deleted by the device, live on the server"));
                }
                (false, true) => {
                    resurrected += 1;
                    examples.push(format!("device {i}: {collection} {id} live on the device, deleted on the server"));
                }
                _ => {}
            }
            if row.state.values() != expected.values {
                lost_edits += 1;
                examples.push(format!(
                    "device {i}: {collection} {id}: server holds {:?}, the device last wrote {:?}",
                    row.state.values(),
                    expected.values
                ));
            }
        }
    }

    // Operations committed per device against operations written.
    let committed: HashMap<DeviceId, i64> = server_devices.iter().map(|d| (d.id, d.max_op_seq)).collect();
    let (mut ops_missing, mut ops_extra, mut ops_equal) = (0u64, 0u64, 0usize);
    for (id, &i) in &owners {
        let written = ledgers[i].written.ops() as i64;
        let on_server = committed.get(id).copied().unwrap_or(0);
        if on_server < written {
            ops_missing += (written - on_server) as u64;
            examples
                .push(format!("device {i}: wrote {written} operations, the server committed up to op_seq {on_server}"));
        } else if on_server > written {
            ops_extra += (on_server - written) as u64;
            examples
                .push(format!("device {i}: wrote {written} operations, the server committed up to op_seq {on_server}"));
        } else {
            ops_equal += 1;
        }
    }
    println!("  highest op_seq committed by the server = operations written: {ops_equal} of {device_count} devices");

    // The conflict log: each record has one writer, so it must be empty.
    let self_conflicts = conflicts.iter().filter(|c| c.winner.stamp.device == c.loser.stamp.device).count() as u64;
    let other_conflicts = conflicts.len() as u64 - self_conflicts;
    println!(
        "  conflict log: {} entries ({self_conflicts} where a device's write lost to its own: an operation applied again; {other_conflicts} between devices)",
        conflicts.len()
    );
    for c in conflicts.iter().take(5) {
        examples.push(format!(
            "conflict on {} {} field {}: winner {:?} ({}) loser {:?} ({})",
            c.collection,
            c.record_id,
            c.field,
            c.winner.value,
            c.winner.stamp.device,
            c.loser.value,
            c.loser.stamp.device
        ));
    }
    if other_conflicts > 0 {
        failures.push(format!("{other_conflicts} conflicts between devices, impossible with one writer per record"));
    }
    if run_stats.rejected + drain_stats.rejected + final_stats.rejected > 0 {
        failures.push("the server refused operations (set aside on the devices)".into());
    }

    // Every device against the server, and its own store's consistency.
    let (mut converged, mut consistent) = (0usize, 0usize);
    for (i, device) in fleet.iter().enumerate() {
        match assert_converged_with(&storage, &[device.as_ref()]).await {
            Ok(()) => converged += 1,
            Err(e) => failures.push(format!("device {i}: {}", e.to_string().replacen("device 0 ", "", 1))),
        }
        let problems = device.with(|s| s.check_consistency())?;
        if problems.is_empty() {
            consistent += 1;
        } else {
            failures.push(format!("device {i} store: {}", problems.join("; ")));
        }
    }
    println!(
        "  devices converged with the server: {converged} of {device_count}; device stores consistent: {consistent} of {device_count}"
    );

    let log = std::fs::read_to_string(server.log_path()).unwrap_or_default();
    let log_lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    println!("  server error log: {} lines", log_lines.len());
    for line in log_lines.iter().take(5) {
        println!("    {line}");
    }

    let lost = lost_records + lost_deletes + resurrected + lost_edits + ops_missing;
    let duplicated = duplicate_rows + foreign_records + self_conflicts + ops_extra;
    println!(
        "  lost: {lost_records} records missing, {lost_deletes} deletes not applied, {resurrected} records deleted that the device did not delete, {lost_edits} records not as last written, {ops_missing} operations not committed"
    );
    println!(
        "  duplicated: {duplicate_rows} keys twice, {foreign_records} records no device created, {self_conflicts} operations applied again (self-conflicts), {ops_extra} operations committed beyond those written"
    );
    for line in examples.iter().take(10) {
        println!("  ! {line}");
    }
    if !memory_flat {
        failures.push("the server's memory grew".into());
    }
    for line in &failures {
        println!("  FAILED: {line}");
    }
    println!("lost: {lost}, duplicated: {duplicated}");
    drop(server);
    if lost > 0 || duplicated > 0 || !failures.is_empty() {
        return Err(anyhow!(
            "soak failed (seed {seed}): lost {lost}, duplicated {duplicated}, {} other failure(s)",
            failures.len()
        ));
    }
    Ok(())
}
