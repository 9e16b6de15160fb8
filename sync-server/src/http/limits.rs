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

#[cfg(test)]
mod tests {
    use super::*;

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
}
