//! The soak's memory check: the server process's `VmRSS` sampled every few seconds, and the
//! verdict on whether it stayed flat over each process's life.

use super::*;

pub(super) struct Sample {
    pub(super) at_s: f64,
    pub(super) process: usize,
    pub(super) rss_kib: u64,
}

pub(crate) fn read_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()
}

pub(super) async fn sample_memory(
    current: Current,
    epoch: Instant,
    every: Duration,
    stop: Arc<AtomicBool>,
) -> Vec<Sample> {
    let mut samples = Vec::new();
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !stop.load(Ordering::SeqCst) {
        tick.tick().await;
        let running = *current.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((process, pid)) = running
            && let Some(rss_kib) = read_rss_kib(pid)
        {
            // The process may have been replaced while reading: keep the sample only if not.
            if *current.lock().unwrap_or_else(|p| p.into_inner()) == running {
                samples.push(Sample { at_s: secs(Instant::now(), epoch), process, rss_kib });
            }
        }
    }
    samples
}

/// Prints every process's samples and judges those that lived long enough; returns whether
/// every judged process stayed flat, and whether the last process was judged.
pub(super) fn judge_memory(samples: &[Sample], lifetimes: &[Lifetime], run_s: f64, every: Duration) -> (bool, bool) {
    println!(
        "server memory (VmRSS in MiB, sampled every {:.1} s; times in seconds since the soak began):",
        every.as_secs_f64()
    );
    let mut flat = true;
    let mut last_judged = false;
    for (n, life) in lifetimes.iter().enumerate() {
        let mine: Vec<&Sample> = samples.iter().filter(|s| s.process == life.process).collect();
        let end = life.ended_s.map_or_else(|| "the end".to_string(), |e| format!("{e:.0} s"));
        println!(
            "  process {} (pid {}, from {:.0} s to {end}): {} sample{}",
            life.process,
            life.pid,
            life.started_s,
            mine.len(),
            if mine.len() == 1 { "" } else { "s" }
        );
        for chunk in mine.chunks(16) {
            let values: Vec<String> = chunk.iter().map(|s| format!("{:.1}", mib(s.rss_kib))).collect();
            println!("      {}", values.join(" "));
        }
        let (Some(first), Some(last)) = (mine.first(), mine.last()) else { continue };
        let span = last.at_s - first.at_s;
        if mine.len() < 6 || span < run_s / 5.0 {
            println!("      too short-lived to judge");
            continue;
        }
        let third = first.at_s + span / 3.0;
        let baseline = mine.iter().rfind(|s| s.at_s <= third).map_or(first.rss_kib, |s| s.rss_kib);
        let peak_late = mine.iter().filter(|s| s.at_s >= last.at_s - span / 3.0).map(|s| s.rss_kib).max().unwrap_or(0);
        let limit = (baseline as f64 * RSS_FACTOR) as u64 + RSS_MARGIN_KIB;
        let ok = peak_late <= limit;
        flat &= ok;
        if n + 1 == lifetimes.len() {
            last_judged = true;
        }
        println!(
            "      lived {span:.0} s sampled ({:.0}% of the run): {:.1} MiB at the end of its first third, at most {:.1} MiB in its final third (limit {:.1}): {}",
            100.0 * span / run_s,
            mib(baseline),
            mib(peak_late),
            mib(limit),
            if ok { "flat" } else { "GREW" }
        );
    }
    (flat, last_judged)
}
