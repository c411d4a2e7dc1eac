//! Statistics: what a limiter admitted, refused and made wait.
//!
//! The counters are relaxed atomics bumped on the way through (no lock, no
//! ordering with anything else), and [`RateLimiterStats`] is a snapshot of
//! them. A snapshot taken while other threads use the limiter is a mix of
//! slightly different instants, which is all statistics need.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use crate::deadline::duration_nanos;

/// A snapshot of a limiter's counters, from
/// [`RateLimiter::stats`](super::RateLimiter::stats) (or, summed over every
/// key, [`KeyedRateLimiter::stats`](super::KeyedRateLimiter::stats)).
///
/// Each request ends up counted once in `allowed` or `rejected`, or, if its
/// future was dropped while waiting, in `cancelled`; `waiting` counts those
/// still in line. Requests for zero tokens are not counted.
///
/// ```
/// use weft_patterns::rate_limit::{Gcra, Quota, RateLimiter};
///
/// weft_runtime::Builder::new().start_paused(true).build().block_on(async {
///     let limiter = RateLimiter::new(Gcra::new(Quota::per_second(1)));
///     limiter.acquire(1).await.unwrap(); // at once
///     limiter.acquire(1).await.unwrap(); // after a second in line
///     assert!(limiter.try_acquire(1).is_err());
///     let stats = limiter.stats();
///     assert_eq!((stats.allowed, stats.rejected, stats.waited), (2, 1, 1));
///     assert_eq!(stats.total_wait, std::time::Duration::from_secs(1));
/// });
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RateLimiterStats {
    /// Requests admitted, at once or after waiting.
    pub allowed: u64,
    /// Requests refused: `try_acquire` finding no tokens, a full wait
    /// queue, or a request larger than the capacity.
    pub rejected: u64,
    /// Admitted requests that had to wait in line first (included in
    /// `allowed`).
    pub waited: u64,
    /// Waiting requests whose future was dropped before they were admitted.
    pub cancelled: u64,
    /// Requests in line right now.
    pub waiting: usize,
    /// The time admitted requests spent in line, summed.
    pub total_wait: Duration,
}

/// A snapshot of a [`KeyedRateLimiter`](super::KeyedRateLimiter): its
/// requests summed over every key, and its table of keys.
///
/// ```
/// use weft_patterns::rate_limit::{Gcra, KeyedRateLimiter, Quota};
///
/// weft_runtime::Builder::new().start_paused(true).build().block_on(async {
///     let limiter = KeyedRateLimiter::new(1, |_: &u8| Gcra::new(Quota::per_second(1)));
///     limiter.try_acquire(&1, 1).unwrap();
///     assert!(limiter.try_acquire(&2, 1).is_err()); // key 1 is limited: no room
///     let stats = limiter.stats();
///     assert_eq!((stats.keys, stats.keys_refused), (1, 1));
///     assert_eq!((stats.requests.allowed, stats.requests.rejected), (1, 1));
/// });
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct KeyedRateLimiterStats {
    /// The requests of every key, summed (refusals of new keys at the cap
    /// included in `rejected`).
    pub requests: RateLimiterStats,
    /// Keys tracked now.
    pub keys: usize,
    /// Idle keys evicted so far.
    pub evicted: u64,
    /// New keys refused so far because the table was full of keys in use.
    pub keys_refused: u64,
}

/// The live counters behind [`RateLimiterStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    allowed: AtomicU64,
    rejected: AtomicU64,
    waited: AtomicU64,
    cancelled: AtomicU64,
    waiting: AtomicUsize,
    wait_nanos: AtomicU64,
}

impl Counters {
    /// Counts a request admitted without waiting.
    pub(crate) fn admitted(&self) {
        self.allowed.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a refused request.
    pub(crate) fn refused(&self) {
        self.rejected.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a request entering the line.
    pub(crate) fn joined_line(&self) {
        self.waiting.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a request leaving the line: admitted after `waited`, or
    /// cancelled (`None`).
    pub(crate) fn left_line(&self, waited: Option<Duration>) {
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        match waited {
            Some(waited) => {
                self.allowed.fetch_add(1, Ordering::Relaxed);
                self.waited.fetch_add(1, Ordering::Relaxed);
                self.wait_nanos
                    .fetch_add(duration_nanos(waited), Ordering::Relaxed);
            }
            None => {
                self.cancelled.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// The counters as they stand.
    pub(crate) fn snapshot(&self) -> RateLimiterStats {
        RateLimiterStats {
            allowed: self.allowed.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
            waited: self.waited.load(Ordering::Relaxed),
            cancelled: self.cancelled.load(Ordering::Relaxed),
            waiting: self.waiting.load(Ordering::Relaxed),
            total_wait: Duration::from_nanos(self.wait_nanos.load(Ordering::Relaxed)),
        }
    }
}
