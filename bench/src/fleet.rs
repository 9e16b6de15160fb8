//! `outpost-bench fleet`: a national programme's tablets on one server process.
//!
//! Every simulated tablet syncs on a fixed schedule (by default once a minute, open loop: a
//! slow server does not slow the schedule down, as real tablets would not wait for each other):
//! it pushes one contact with three distribution lines through the tablet's own sync client
//! (`outpost_device::SyncClient`, a new one for each sync as the app makes: a new connection,
//! its error handling), then pulls until up to date. Tablets are spread over sites of ten, so each pull brings what
//! the nine others of its site wrote since.
//!
//! The load rises level by level (`--levels`); each level prints syncs per second, push and
//! pull p50/p99, refusals (`503 server_busy`) and errors, the server's CPU and memory, and the
//! generator's own CPU share (so a level bound by the generator shows as such). The first
//! level whose push or pull p99 reaches 250 ms, or with more than 1% of syncs refused or
//! failed, or that cannot keep its schedule, is the saturation point. Then `--hold` tablets
//! sync for `--hold-minutes` while the server's resident memory is sampled: it must stay under
//! 250 MB and flat. A PNG chart of throughput and latency against tablets is written with
//! `--chart`.
//!
//! One process cannot hold thousands of real tablets' connections cheaply, so at most
//! `--max-tasks` simulated tablets run; above that each stands for several tablets and syncs
//! proportionally more often (the request rate, each pull's size and a connection per sync stay
//! those of the level). The output says when that is so.

use anyhow::{Context, Result, anyhow};
use outpost_core::hlc::Hlc;
use outpost_core::wire::{Op, OpKind, PushRequest};
use outpost_core::{DeviceId, RecordId, SiteId};
use outpost_device::{SyncClient, SyncError};
use outpost_tests::{Backend, ServerProcess, object};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The latency target of issue 19 (push and pull p99).
const TARGET_P99_MS: f64 = 250.0;
/// The memory target under the hold load.
const TARGET_RSS_MB: f64 = 250.0;
/// Tablets per site.
const PER_SITE: usize = 10;

pub struct Options {
    pub levels: Vec<usize>,
    pub level_seconds: u64,
    pub interval_seconds: f64,
    pub max_tasks: usize,
    pub hold: usize,
    pub hold_minutes: f64,
    pub chart: Option<PathBuf>,
}

/// One simulated tablet: its identity and where it is in the sync.
struct Tablet {
    /// The server's address: each sync makes its own client (and connection), as the app does;
    /// a tablet syncing once a minute finds its previous connection closed by the server's
    /// keep-alive limit anyway.
    base: String,
    token: String,
    device: DeviceId,
    site: SiteId,
    next_seq: AtomicU64,
    cursor: AtomicU64,
}

/// What one level measured.
#[derive(Clone, Debug, Default)]
pub struct Level {
    pub tablets: usize,
    pub tasks: usize,
    pub seconds: f64,
    pub syncs: usize,
    pub scheduled: usize,
    pub pulled: u64,
    pub busy: usize,
    pub errors: usize,
    pub first_error: Option<String>,
    pub push_p50: f64,
    pub push_p99: f64,
    pub pull_p50: f64,
    pub pull_p99: f64,
    pub server_cpu: f64,
    pub generator_cpu: f64,
    pub rss_mb: f64,
}

impl Level {
    fn saturated(&self) -> bool {
        let failed = (self.busy + self.errors) as f64 > 0.01 * self.syncs.max(1) as f64;
        let behind = (self.syncs as f64) < 0.9 * self.scheduled as f64;
        self.push_p99 >= TARGET_P99_MS || self.pull_p99 >= TARGET_P99_MS || failed || behind
    }
}

/// The server process under test and what the bench needs to reach it.
struct Server {
    process: ServerProcess,
    /// The SQLite file's directory (kept until the end), or the PostgreSQL schema (dropped).
    _dir: tempfile::TempDir,
    schema: Option<(String, String)>,
}

impl Server {
    async fn start(dir: &Path, backend: Backend, url: &str, sites: usize) -> Result<(Self, Vec<SiteId>)> {
        let dir = tempfile::tempdir_in(dir)?;
        let (storage, schema) = outpost_tests::open_storage_at(backend, &dir, Some(url)).await?;
        let now = outpost_server::time::now_ms();
        storage.seed_demo(now).await.map_err(|e| anyhow!("{e}"))?;
        let mut ids = Vec::with_capacity(sites);
        for n in 0..sites {
            let site = storage
                .add_site(object(json!({"name": format!("Fleet site {n}")})), now)
                .await
                .map_err(|e| anyhow!("{e}"))?;
            ids.push(site.id);
        }
        drop(storage);
        let database_url = match &schema {
            Some(schema) => ServerProcess::schema_url(url, schema),
            None => format!("sqlite://{}", dir.path().join("outpost.db").display()),
        };
        let process = ServerProcess::spawn_with(&database_url, server_binary()?).await?;
        let schema = schema.map(|s| (url.to_string(), s));
        Ok((Self { process, _dir: dir, schema }, ids))
    }

    async fn stop(self) -> Result<()> {
        drop(self.process);
        if let Some((url, schema)) = &self.schema {
            outpost_tests::drop_schema(url, schema).await?;
        }
        Ok(())
    }
}

/// `outpost-server` next to this executable (`cargo build --release -p outpost-server`).
fn server_binary() -> Result<PathBuf> {
    crate::soak::server_binary()
}

/// Enrols `count` tablets over `sites` (ten a site) and brings each up to date (untimed).
async fn enrol(server: &Server, sites: &[SiteId], count: usize) -> Result<Vec<Arc<Tablet>>> {
    let storage = match &server.schema {
        Some((url, schema)) => {
            outpost_server_store::Store::new(
                outpost_server_store::postgres::Postgres::connect(url, Some(schema), 2)
                    .await
                    .map_err(|e| anyhow!("{e}"))?,
                outpost_tests::server_key(),
            )
            .await?
        }
        None => outpost_server_store::Store::open(&server.process.database_url, 2, outpost_tests::server_key()).await?,
    };
    let base = server.process.url();
    let mut tablets = Vec::with_capacity(count);
    for n in 0..count {
        let site = sites[(n / PER_SITE) % sites.len()];
        let code = outpost_server::services::tokens::new_enrollment_code();
        let now = outpost_server::time::now_ms();
        let hash = outpost_server::services::tokens::hash_enrollment_code(&code);
        storage.create_enrollment_code(site, &hash, now + 3_600_000, now, None).await.map_err(|e| anyhow!("{e}"))?;
        let enrolled = SyncClient::new(&base)?.request_enrollment(&code, &format!("fleet tablet {n}")).await?;
        tablets.push(Arc::new(Tablet {
            base: base.clone(),
            token: enrolled.token,
            device: enrolled.device_id,
            site,
            next_seq: AtomicU64::new(1),
            cursor: AtomicU64::new(0),
        }));
    }
    // Each tablet's first pull (the catalogue, its site), a few at a time.
    for chunk in tablets.chunks(50) {
        let pulls = chunk.iter().map(|t| async move { pull(t, &SyncClient::new(&t.base)?, &mut Vec::new()).await });
        for result in futures::future::join_all(pulls).await {
            result?;
        }
    }
    Ok(tablets)
}

/// Pulls until up to date; each request's latency goes to `latencies`. Records pulled.
async fn pull(tablet: &Tablet, client: &SyncClient, latencies: &mut Vec<Duration>) -> Result<u64, SyncError> {
    let mut pulled = 0;
    loop {
        let started = Instant::now();
        let page = client.pull(&tablet.token, tablet.cursor.load(Ordering::SeqCst), 1000, false).await?;
        latencies.push(started.elapsed());
        pulled += page.records.len() as u64;
        tablet.cursor.store(page.next_cursor, Ordering::SeqCst);
        if !page.has_more {
            return Ok(pulled);
        }
    }
}

/// One sync of one tablet: a contact and three distribution lines pushed, then a pull.
async fn sync_once(tablet: &Tablet, pushes: &mut Vec<Duration>, pulls: &mut Vec<Duration>) -> Result<u64, SyncError> {
    let contact = RecordId(uuid::Uuid::now_v7());
    let now = outpost_server::time::now_ms();
    let first = tablet.next_seq.load(Ordering::SeqCst);
    let op = |seq: u64, collection: &str, id: RecordId, fields: serde_json::Value| Op {
        op_seq: seq,
        collection: collection.into(),
        record_id: id,
        site_id: tablet.site,
        kind: OpKind::Create,
        stamp: Hlc::new(now, (seq - first) as u16, tablet.device),
        fields: object(fields),
        bases: Default::default(),
    };
    let mut ops = vec![op(
        first,
        "contacts",
        contact,
        json!({"setting": "street_outreach", "occurred_at": "2026-11-25T10:00:00Z"}),
    )];
    for (i, commodity) in ["syringe_1ml", "condom_external", "naloxone_nasal"].into_iter().enumerate() {
        let line = json!({"contact_id": contact.to_string(), "commodity": commodity, "quantity": 1 + i});
        ops.push(op(first + 1 + i as u64, "distribution_lines", RecordId(uuid::Uuid::now_v7()), line));
    }
    let client = SyncClient::new(&tablet.base)?;
    let started = Instant::now();
    let reply = client.push(&tablet.token, &PushRequest { ops }).await?;
    pushes.push(started.elapsed());
    if let Some(last) = reply.acked.iter().max() {
        tablet.next_seq.store(last + 1, Ordering::SeqCst);
    }
    pull(tablet, &client, pulls).await
}

/// CPU seconds used by process `pid` (`self` for this one) so far.
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces): utime is the 14th field overall.
    let rest = stat.rsplit_once(") ")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on Linux.
    Some(ticks as f64 / 100.0)
}

fn rss_mb(pid: u32) -> f64 {
    crate::soak::read_rss_kib(pid).map_or(0.0, |kib| kib as f64 / 1024.0)
}

/// Runs `tablets` tablets' schedule for `seconds` with the first `tasks` simulated tablets;
/// `on_sample` sees the server's memory every five seconds.
async fn run_level(
    server: &Server,
    fleet: &[Arc<Tablet>],
    tablets: usize,
    interval_s: f64,
    seconds: f64,
    samples: &mut Vec<(f64, f64)>,
) -> Result<Level> {
    let tasks = tablets.min(fleet.len());
    // Each simulated tablet stands for tablets / tasks real ones, syncing that much more often.
    let every = Duration::from_secs_f64(interval_s * tasks as f64 / tablets as f64);
    let pid = server.process.pid();
    let (server_cpu0, self_cpu0) = (cpu_seconds(&pid.to_string()), cpu_seconds("self"));
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let mut handles = Vec::with_capacity(tasks);
    for (n, tablet) in fleet.iter().take(tasks).enumerate() {
        let tablet = tablet.clone();
        // Spread the first syncs evenly over one interval.
        let offset = every.mul_f64(n as f64 / tasks as f64);
        handles.push(tokio::spawn(async move {
            let (mut pushes, mut pulls) = (Vec::new(), Vec::new());
            let (mut syncs, mut scheduled, mut busy, mut errors, mut pulled) = (0usize, 0usize, 0usize, 0usize, 0u64);
            let mut first_error = None;
            let mut next = started + offset;
            while next < deadline {
                tokio::time::sleep_until(next.into()).await;
                scheduled += 1;
                match sync_once(&tablet, &mut pushes, &mut pulls).await {
                    Ok(n) => {
                        syncs += 1;
                        pulled += n;
                    }
                    Err(SyncError::Server { status: 503, .. }) => busy += 1,
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| e.to_string());
                    }
                }
                next += every;
                // Behind schedule (the server is slow): the next sync starts now, not in a burst.
                next = next.max(Instant::now());
            }
            (pushes, pulls, syncs, scheduled, busy, errors, pulled, first_error)
        }));
    }
    let mut peak = 0.0f64;
    let sampler = async {
        loop {
            let at = started.elapsed().as_secs_f64();
            let now = rss_mb(pid);
            peak = peak.max(now);
            samples.push((at, now));
            if Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(Duration::from_secs(5).min(deadline.saturating_duration_since(Instant::now()))).await;
        }
    };
    let (results, ()) = tokio::join!(futures::future::join_all(handles), sampler);
    let elapsed = started.elapsed().as_secs_f64();
    let (server_cpu1, self_cpu1) = (cpu_seconds(&pid.to_string()), cpu_seconds("self"));
    let mut level = Level { tablets, tasks, seconds: elapsed, rss_mb: peak.max(rss_mb(pid)), ..Level::default() };
    let (mut pushes, mut pulls) = (Vec::new(), Vec::new());
    for result in results {
        let (a, b, syncs, scheduled, busy, errors, pulled, first_error) = result?;
        pushes.extend(a);
        pulls.extend(b);
        level.syncs += syncs;
        level.scheduled += scheduled;
        level.busy += busy;
        level.errors += errors;
        level.pulled += pulled;
        if level.first_error.is_none() {
            level.first_error = first_error;
        }
    }
    pushes.sort();
    pulls.sort();
    (level.push_p50, level.push_p99) = (crate::percentile(&pushes, 0.5), crate::percentile(&pushes, 0.99));
    (level.pull_p50, level.pull_p99) = (crate::percentile(&pulls, 0.5), crate::percentile(&pulls, 0.99));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    if let (Some(a), Some(b)) = (server_cpu0, server_cpu1) {
        level.server_cpu = 100.0 * (b - a) / elapsed / cores;
    }
    if let (Some(a), Some(b)) = (self_cpu0, self_cpu1) {
        level.generator_cpu = 100.0 * (b - a) / elapsed / cores;
    }
    Ok(level)
}

fn print_level(level: &Level) {
    let stands = if level.tasks < level.tablets {
        format!(" ({} simulated, each for {:.1})", level.tasks, level.tablets as f64 / level.tasks as f64)
    } else {
        String::new()
    };
    println!(
        "    {:>6} tablets{stands}: {:>6.1} syncs/s ({} of {} scheduled), push p50 {:>6.1} p99 {:>7.1} ms, pull p50 {:>6.1} p99 {:>7.1} ms, busy {}, errors {}, server CPU {:>3.0}%, generator CPU {:>3.0}%, server RSS {:>5.1} MB{}",
        level.tablets,
        level.syncs as f64 / level.seconds.max(1e-9),
        level.syncs,
        level.scheduled,
        level.push_p50,
        level.push_p99,
        level.pull_p50,
        level.pull_p99,
        level.busy,
        level.errors,
        level.server_cpu,
        level.generator_cpu,
        level.rss_mb,
        if level.saturated() { "  << saturated" } else { "" }
    );
    if let Some(error) = &level.first_error {
        println!("           first error: {error}");
    }
}

/// Runs the ramp and the hold on `backend`; returns each level's figures.
pub async fn run(dir: &Path, backend: Backend, url: &str, options: &Options) -> Result<Vec<Level>> {
    let most = options.levels.iter().copied().chain([options.hold]).max().unwrap_or(1);
    let tasks = most.min(options.max_tasks).max(1);
    let sites = tasks.div_ceil(PER_SITE);
    let setup = Instant::now();
    let (server, site_ids) = Server::start(dir, backend, url, sites).await?;
    let fleet = enrol(&server, &site_ids, tasks).await.context("enrolling the fleet")?;
    println!(
        "  server on {backend:?} (pid {}): {tasks} simulated tablets over {sites} sites enrolled in {:.1} s; each syncs every {:.0} s",
        server.process.pid(),
        setup.elapsed().as_secs_f64(),
        options.interval_seconds
    );
    let mut levels = Vec::new();
    let mut ignored = Vec::new();
    for &tablets in &options.levels {
        let level =
            run_level(&server, &fleet, tablets, options.interval_seconds, options.level_seconds as f64, &mut ignored)
                .await?;
        print_level(&level);
        let saturated = level.saturated();
        levels.push(level);
        if saturated {
            break;
        }
    }
    match levels.iter().position(Level::saturated) {
        Some(0) => println!("    saturation point: below {} tablets", levels[0].tablets),
        Some(n) => println!(
            "    saturation point: between {} and {} tablets (p99 under {TARGET_P99_MS:.0} ms and under 1% refused up to {})",
            levels[n - 1].tablets,
            levels[n].tablets,
            levels[n - 1].tablets
        ),
        None => println!("    saturation point: not reached up to {} tablets", levels.last().map_or(0, |l| l.tablets)),
    }

    if options.hold_minutes > 0.0 {
        let mut samples = Vec::new();
        let hold = run_level(
            &server,
            &fleet,
            options.hold,
            options.interval_seconds,
            options.hold_minutes * 60.0,
            &mut samples,
        )
        .await?;
        println!("    hold, {:.1} minutes:", options.hold_minutes);
        print_level(&hold);
        judge_memory(&samples);
    }
    server.stop().await?;
    Ok(levels)
}

/// Prints the server's memory over the hold and whether it stayed under the target and flat
/// (the last minute's mean within 10% + 16 MB of the first minute's).
fn judge_memory(samples: &[(f64, f64)]) {
    let window = |from: f64, to: f64| {
        let values: Vec<f64> = samples.iter().filter(|(at, _)| *at >= from && *at < to).map(|(_, mb)| *mb).collect();
        values.iter().sum::<f64>() / values.len().max(1) as f64
    };
    let end = samples.last().map_or(0.0, |(at, _)| *at);
    let first = window(0.0, 60.0);
    let last = window((end - 60.0).max(0.0), end + 1.0);
    let peak = samples.iter().map(|(_, mb)| *mb).fold(0.0, f64::max);
    let flat = last <= first * 1.10 + 16.0;
    println!(
        "      server RSS: first minute {first:.1} MB, last minute {last:.1} MB, peak {peak:.1} MB over {} samples: {} the {TARGET_RSS_MB:.0} MB target, {}",
        samples.len(),
        if peak <= TARGET_RSS_MB { "meets" } else { "MISSES" },
        if flat { "flat" } else { "GROWING" }
    );
    let trace: Vec<String> =
        samples.iter().step_by((samples.len() / 12).max(1)).map(|(at, mb)| format!("{at:.0}s {mb:.0}")).collect();
    println!("      samples (s MB): {}", trace.join(", "));
}

/// Draws syncs per second and p99 latency against tablets for each backend, as a PNG.
pub fn chart(path: &Path, runs: &[(Backend, Vec<Level>)]) -> Result<()> {
    use plotters::prelude::*;
    let font = ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans.ttf"]
        .iter()
        .find_map(|p| std::fs::read(p).ok())
        .context("the chart needs DejaVu Sans: apt-get install fonts-dejavu-core")?;
    plotters::style::register_font("sans-serif", FontStyle::Normal, Box::leak(font.into_boxed_slice()))
        .map_err(|_| anyhow!("DejaVu Sans could not be read"))?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let levels = || runs.iter().flat_map(|(_, l)| l.iter());
    let most_tablets = levels().map(|l| l.tablets).max().unwrap_or(100) as f64 * 1.3;
    let least_tablets = levels().map(|l| l.tablets).min().unwrap_or(100) as f64 / 1.3;
    let most_rate = levels().map(|l| l.syncs as f64 / l.seconds.max(1e-9)).fold(1.0, f64::max) * 1.15;
    let most_ms = levels().map(|l| l.push_p99.max(l.pull_p99)).fold(TARGET_P99_MS, f64::max) * 1.15;

    let root = BitMapBackend::new(path, (1200, 900)).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, bottom) = root.split_vertically(450);
    let colours = [RGBColor(31, 119, 180), RGBColor(214, 39, 40)];

    let x_range = least_tablets..most_tablets;
    let mut rate = panel(
        &top,
        "Syncs per second against tablets (each syncing once a minute)",
        "syncs/s",
        x_range.clone(),
        most_rate,
    )?;
    for ((backend, levels), colour) in runs.iter().zip(colours) {
        let points: Vec<(f64, f64)> =
            levels.iter().map(|l| (l.tablets as f64, l.syncs as f64 / l.seconds.max(1e-9))).collect();
        rate.draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))?
            .label(format!("{backend:?}"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2)));
        rate.draw_series(points.into_iter().map(|p| Circle::new(p, 4, colour.filled())))?;
    }
    legend(&mut rate)?;

    let mut latency =
        panel(&bottom, "p99 latency (ms): push solid, pull dashed; 250 ms target", "ms", x_range, most_ms)?;
    latency.draw_series(LineSeries::new(
        vec![(least_tablets, TARGET_P99_MS), (most_tablets, TARGET_P99_MS)],
        BLACK.mix(0.5).stroke_width(1),
    ))?;
    for ((backend, levels), colour) in runs.iter().zip(colours) {
        let push: Vec<(f64, f64)> = levels.iter().map(|l| (l.tablets as f64, l.push_p99)).collect();
        let pull: Vec<(f64, f64)> = levels.iter().map(|l| (l.tablets as f64, l.pull_p99)).collect();
        latency
            .draw_series(LineSeries::new(push.clone(), colour.stroke_width(2)))?
            .label(format!("{backend:?} push"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2)));
        latency.draw_series(push.into_iter().map(|p| Circle::new(p, 4, colour.filled())))?;
        latency
            .draw_series(DashedLineSeries::new(pull.clone(), 6, 4, colour.stroke_width(2)))?
            .label(format!("{backend:?} pull"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 8, y)], colour.stroke_width(2)));
        latency.draw_series(pull.into_iter().map(|p| TriangleMarker::new(p, 5, colour.filled())))?;
    }
    legend(&mut latency)?;
    root.present()?;
    Ok(())
}

/// The chart's coordinates: tablets (log scale) across, a figure up.
type Panel<'a, 'b> = plotters::chart::ChartContext<
    'a,
    plotters::prelude::BitMapBackend<'b>,
    plotters::coord::cartesian::Cartesian2d<
        plotters::coord::combinators::LogCoord<f64>,
        plotters::coord::types::RangedCoordf64,
    >,
>;

/// One panel of the chart: its caption, axes and grid, over `tablets` and `0..y_max`.
fn panel<'a, 'b>(
    area: &plotters::drawing::DrawingArea<plotters::prelude::BitMapBackend<'b>, plotters::coord::Shift>,
    caption: &str,
    y_desc: &str,
    tablets: std::ops::Range<f64>,
    y_max: f64,
) -> Result<Panel<'a, 'b>>
where
    'b: 'a,
{
    use plotters::prelude::*;
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(tablets.log_scale(), 0.0..y_max)?;
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .x_desc("tablets")
        .y_desc(y_desc)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| if y_max < 10.0 { format!("{y:.1}") } else { format!("{y:.0}") })
        .label_style(("sans-serif", 15))
        .draw()?;
    Ok(chart)
}

/// The panel's legend box.
fn legend<'a, 'b: 'a>(chart: &mut Panel<'a, 'b>) -> Result<()> {
    use plotters::prelude::*;
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 15))
        .draw()?;
    Ok(())
}
