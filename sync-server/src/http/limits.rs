//! Rate limits on guessable endpoints (enrolment and login): a sliding window of failed
//! attempts per client address, and for login also per account. Kept in memory, so with several instances
//! each enforces its own window (a load balancer's stickiness or a shared limiter tightens it).

use crate::http::error::ApiError;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed attempts allowed per address within the window.
pub const MAX_FAILURES: usize = 10;
/// The window.
pub const WINDOW: Duration = Duration::from_secs(10 * 60);

/// Failed attempts per key (a client address, or an account name).
#[derive(Debug)]
pub struct FailureLimiter<K = IpAddr> {
    failures: Mutex<HashMap<K, VecDeque<Instant>>>,
}

impl<K> Default for FailureLimiter<K> {
    fn default() -> Self {
        Self { failures: Mutex::new(HashMap::new()) }
    }
}

impl<K: std::hash::Hash + Eq + Clone> FailureLimiter<K> {
    /// How long `address` must wait before trying again, if it is over the limit.
    pub fn retry_after(&self, address: &K, now: Instant) -> Option<Duration> {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let entry = failures.get_mut(address)?;
        while entry.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
            entry.pop_front();
        }
        if entry.is_empty() {
            failures.remove(address);
            return None;
        }
        if entry.len() >= MAX_FAILURES {
            entry.front().map(|oldest| WINDOW.saturating_sub(now.duration_since(*oldest)))
        } else {
            None
        }
    }

    /// Refuses with `rate_limited` (and its `Retry-After`) while `key` is over the limit;
    /// `failures` names them for the message ("logins from this address").
    pub fn refuse_while_over(&self, key: &K, now: Instant, failures: &str) -> Result<(), ApiError> {
        match self.retry_after(key, now) {
            Some(wait) => Err(ApiError::rate_limited(
                wait,
                format!("too many failed {failures}: try again in {} seconds", wait.as_secs().max(1)),
            )),
            None => Ok(()),
        }
    }

    /// Counts an attempt as failed before it is checked, in the same step as the limit check, so
    /// parallel attempts cannot all pass the check before any is counted; refuses while `key` is
    /// over the limit. Returns when it was counted, for [`FailureLimiter::forgive`].
    pub fn attempt(&self, key: &K, now: Instant, failures: &str) -> Result<Instant, ApiError> {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, v| v.back().is_some_and(|t| now.duration_since(*t) < WINDOW));
        }
        let entry = map.entry(key.clone()).or_default();
        while entry.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
            entry.pop_front();
        }
        if entry.len() >= MAX_FAILURES {
            let wait = entry.front().map_or(WINDOW, |oldest| WINDOW.saturating_sub(now.duration_since(*oldest)));
            return Err(ApiError::rate_limited(
                wait,
                format!("too many failed {failures}: try again in {} seconds", wait.as_secs().max(1)),
            ));
        }
        entry.push_back(now);
        Ok(now)
    }

    /// Takes back an attempt counted by [`FailureLimiter::attempt`] that succeeded.
    pub fn forgive(&self, key: &K, at: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(entry) = map.get_mut(key) {
            if let Some(i) = entry.iter().position(|t| *t == at) {
                entry.remove(i);
            }
            if entry.is_empty() {
                map.remove(key);
            }
        }
    }

    /// Whether `key` holds exactly the limit of failures in the window now: the failure just
    /// recorded is the one that locks it out (later refusals do not add to it).
    pub fn just_reached_limit(&self, key: &K, now: Instant) -> bool {
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key)
            .is_some_and(|entry| entry.iter().filter(|t| now.duration_since(**t) < WINDOW).count() == MAX_FAILURES)
    }

    /// Forgets the failures of `key` (after a successful login).
    pub fn clear(&self, key: &K) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }

    /// Records a failed attempt.
    pub fn failed(&self, address: &K, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        // Bound memory under a flood of addresses: forget the quietest when too many.
        if failures.len() > 100_000 {
            failures.retain(|_, v| v.back().is_some_and(|t| now.duration_since(*t) < WINDOW));
        }
        failures.entry(address.clone()).or_default().push_back(now);
    }
}

/// Password checks (Argon2id, 19 MiB each) run at most this many at a time; others wait up to
/// [`PASSWORD_WAIT`] and are then refused with `503 busy`, so a flood of logins costs a bounded
/// amount of memory and leaves cores for sync.
pub fn password_check_permits() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 8)
}

/// How long a login waits for a password check to be free.
pub const PASSWORD_WAIT: Duration = Duration::from_secs(10);

/// Runs password checks (blocking work) a bounded number at a time, each with Argon2 working
/// memory kept from check to check: memory for checks is at most the permits × 19 MiB.
#[derive(Debug)]
pub struct PasswordGate {
    permits: tokio::sync::Semaphore,
    memory: Mutex<Vec<crate::services::accounts::PasswordMemory>>,
}

impl Default for PasswordGate {
    fn default() -> Self {
        Self::new(password_check_permits())
    }
}

impl PasswordGate {
    pub fn new(permits: usize) -> Self {
        Self { permits: tokio::sync::Semaphore::new(permits.max(1)), memory: Mutex::new(Vec::new()) }
    }

    /// Runs `check` on a blocking thread, with working memory, once a permit is free; `503 busy`
    /// (with `Retry-After`) when none is within [`PASSWORD_WAIT`].
    pub async fn check(
        &self,
        check: impl FnOnce(&mut crate::services::accounts::PasswordMemory) -> bool + Send + 'static,
    ) -> Result<bool, ApiError> {
        let busy = || {
            let mut refusal = ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "the server is checking many passwords: try again in a few seconds",
            );
            refusal.retry_after = Some(PASSWORD_WAIT.as_secs());
            refusal
        };
        let _permit = tokio::time::timeout(PASSWORD_WAIT, self.permits.acquire())
            .await
            .map_err(|_| busy())?
            .map_err(|_| busy())?;
        // One working memory per permit: taken for this check, given back after it.
        let mut memory = self.memory.lock().unwrap_or_else(|p| p.into_inner()).pop().unwrap_or_default();
        let (ok, memory) = tokio::task::spawn_blocking(move || {
            let ok = check(&mut memory);
            (ok, memory)
        })
        .await
        .unwrap_or_else(|_| (false, Default::default()));
        self.memory.lock().unwrap_or_else(|p| p.into_inner()).push(memory);
        Ok(ok)
    }
}

/// How long a sync request waits for a free slot before it is refused with `503 server_busy`.
pub const SYNC_QUEUE_WAIT: Duration = Duration::from_secs(5);

/// What a refused sync request is told to wait (`Retry-After`, seconds); the tablet adds its
/// own jitter, so a crowd that was refused together does not come back together.
pub const SYNC_RETRY_AFTER_SECS: u64 = 10;

/// Back-pressure on the sync endpoints: at most `permits` pushes, pulls and restores are
/// handled at once; the next ones queue, up to `max_waiting` of them for up to
/// [`SYNC_QUEUE_WAIT`] each, and beyond that are refused at once with `503 server_busy` and
/// `Retry-After`, instead of piling up until every request times out.
#[derive(Debug)]
pub struct SyncGate {
    permits: tokio::sync::Semaphore,
    waiting: std::sync::atomic::AtomicUsize,
    max_waiting: usize,
    wait: Duration,
}

impl SyncGate {
    pub fn new(permits: usize, max_waiting: usize, wait: Duration) -> Self {
        Self { permits: tokio::sync::Semaphore::new(permits.max(1)), waiting: Default::default(), max_waiting, wait }
    }

    /// A slot for one sync request, held until the permit is dropped; `503 server_busy` (with
    /// `Retry-After`) when the queue is full or no slot frees up in time.
    pub async fn enter(&self) -> Result<tokio::sync::SemaphorePermit<'_>, ApiError> {
        use std::sync::atomic::Ordering;
        if let Ok(permit) = self.permits.try_acquire() {
            return Ok(permit);
        }
        let busy = |why: &str| {
            let mut refusal = ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "server_busy",
                format!("the server is busy ({why}): the tablet will try again in a few seconds"),
            );
            refusal.retry_after = Some(SYNC_RETRY_AFTER_SECS);
            refusal
        };
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(busy("too many syncs are waiting"));
        }
        let waited = tokio::time::timeout(self.wait, self.permits.acquire()).await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        match waited {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(busy("no sync slot became free in time")),
        }
    }
}

/// The middleware: requests under `/api/v1/sync/` pass the [`SyncGate`]; others go straight on.
pub async fn sync_back_pressure(
    axum::extract::State(state): axum::extract::State<std::sync::Arc<crate::AppState>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if !request.uri().path().starts_with("/api/v1/sync/") {
        return next.run(request).await;
    }
    match state.sync_gate.enter().await {
        Ok(_permit) => next.run(request).await,
        Err(refusal) => refusal.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_attempts_are_counted_before_they_are_checked() {
        let limiter = FailureLimiter::default();
        let a: IpAddr = [10, 0, 0, 1].into();
        let now = Instant::now();
        let counted: Vec<Instant> = (0..MAX_FAILURES).filter_map(|_| limiter.attempt(&a, now, "x").ok()).collect();
        assert_eq!(counted.len(), MAX_FAILURES);
        assert!(limiter.attempt(&a, now, "x").is_err(), "the 11th in flight is refused");
        limiter.forgive(&a, counted[0]);
        assert!(limiter.attempt(&a, now, "x").is_ok(), "a success gives its place back");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn password_checks_run_a_bounded_number_at_a_time() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let gate = Arc::new(PasswordGate::new(2));
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let mut tasks = Vec::new();
        for _ in 0..12 {
            let (gate, running, most) = (gate.clone(), running.clone(), most.clone());
            tasks.push(tokio::spawn(async move {
                gate.check(move |_| {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                    true
                })
                .await
            }));
        }
        for task in tasks {
            assert!(matches!(task.await, Ok(Ok(true))));
        }
        assert_eq!(most.load(Ordering::SeqCst), 2, "never more than the permits at once");
    }

    #[test]
    fn the_limit_applies_per_address_and_expires() {
        let limiter = FailureLimiter::default();
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let start = Instant::now();
        for _ in 0..MAX_FAILURES {
            assert_eq!(limiter.retry_after(&a, start), None);
            limiter.failed(&a, start);
        }
        assert_eq!(limiter.retry_after(&a, start), Some(WINDOW));
        assert_eq!(limiter.retry_after(&b, start), None, "other addresses are not affected");
        assert_eq!(limiter.retry_after(&a, start + WINDOW), None, "the window slides");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_sync_gate_queues_then_refuses_with_retry_after() {
        let gate = SyncGate::new(1, 1, Duration::from_millis(200));
        let held = gate.enter().await.expect("the first request gets the slot");
        // The second waits in the queue; a third finds the queue full and is refused at once.
        let (second, third) = tokio::join!(gate.enter(), async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let started = Instant::now();
            let refused = gate.enter().await.map(drop);
            (refused, started.elapsed())
        });
        let refusal = second.expect_err("nobody freed the slot within the wait");
        assert_eq!((refusal.status.as_u16(), refusal.code), (503, "server_busy"));
        assert_eq!(refusal.retry_after, Some(SYNC_RETRY_AFTER_SECS));
        assert!(refusal.message.contains("in time"), "{}", refusal.message);
        let (third, waited) = third;
        let third = third.expect_err("the queue was full");
        assert!(third.message.contains("waiting"), "{}", third.message);
        assert!(waited < Duration::from_millis(100), "refused without waiting: {waited:?}");
        // Once the slot is free, the next request gets it at once, and the queue is empty again.
        drop(held);
        assert!(gate.enter().await.is_ok());
        assert_eq!(gate.waiting.load(std::sync::atomic::Ordering::SeqCst), 0);
    }
}
