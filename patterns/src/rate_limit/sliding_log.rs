//! [`SlidingWindowLog`]: at most `limit` tokens in any window of length
//! `window`, checked exactly against a log of recent grants.
//!
//! # Algorithm
//!
//! The log holds `(instant, tokens)` for every grant of the last `window`,
//! oldest first, and the sum of their tokens. A grant counts while
//! `now − instant < window`.
//!
//! ```text
//!   limit 5, window 1 s, now = 2.3 s           counted: (1.3 s, 2.3 s]
//!   log:  (1.1 s, 2) (1.5 s, 1) (2.0 s, 2)     (1.1 s, 2) expired: dropped
//!                    └────── 3 tokens ─────┘
//!   take 2 at 2.3 s: 3 + 2 ≤ 5 → admitted, (2.3 s, 2) appended
//!   take 1 at 2.3 s: 5 + 1 > 5 → refused; 1 token must expire: the oldest
//!                    entry (1.5 s) does at 2.5 s → retry after 200 ms (exact)
//! ```
//!
//! This is the exact sliding window: no burst at window boundaries, unlike
//! a fixed window, and unlike [`SlidingWindowCounter`](super::SlidingWindowCounter)'s
//! estimate. The price is memory: up to `limit` entries (grants at the same
//! instant share one), so for large limits prefer the counter or
//! [`Gcra`](super::Gcra).
//!
//! The log sits behind a `std` mutex held only for the arithmetic, never
//! across an await. Entries stay in order even when threads pass slightly
//! out-of-order instants: an instant older than the newest entry is counted
//! at the newest entry's instant (later, so a hair stricter).
//!
//! # At rest
//!
//! An empty log (every grant older than `window`) is the state of a new
//! limiter.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::policy::{out_of_range, RatePolicy};

/// At most `limit` tokens in any `window`, exactly, from a log of grants.
/// See the [module docs](self).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_patterns::rate_limit::{RateLimiter, SlidingWindowLog};
/// use weft_runtime::time;
///
/// weft_runtime::Builder::new().start_paused(true).build().block_on(async {
///     // The asyncio tutorial's limiter: 5 requests in any second.
///     let limiter = RateLimiter::new(SlidingWindowLog::new(5, Duration::from_secs(1)));
///     let start = time::now();
///     for _ in 0..10 {
///         limiter.acquire(1).await.unwrap();
///     }
///     // The sixth had to wait for the first to leave the window.
///     assert_eq!(time::now() - start, Duration::from_secs(1));
/// });
/// ```
#[derive(Debug)]
pub struct SlidingWindowLog {
    limit: u32,
    window: Duration,
    log: Mutex<Log>,
}

/// The grants still inside the window, oldest first.
#[derive(Debug, Default)]
struct Log {
    entries: VecDeque<(Instant, u32)>,
    /// The sum of the entries' tokens.
    tokens: u64,
}

impl SlidingWindowLog {
    /// At most `limit` tokens in any span of `window`.
    ///
    /// # Panics
    ///
    /// If `limit` is zero or `window` is zero: such a limiter admits nothing
    /// or everything, a programming error.
    pub fn new(limit: u32, window: Duration) -> Self {
        assert!(limit > 0, "a sliding window must admit at least one token");
        assert!(!window.is_zero(), "a sliding window must not be empty");
        Self {
            limit,
            window,
            log: Mutex::new(Log::default()),
        }
    }

    /// The length of the window.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// The log, with every grant that left the window at `now` dropped.
    fn log_at(&self, now: Instant) -> MutexGuard<'_, Log> {
        // The lock guards plain arithmetic that cannot panic half-way, so a
        // poisoned lock (a panic elsewhere while holding it) still holds a
        // consistent log.
        let mut log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some(&(at, tokens)) = log.entries.front() {
            if now.saturating_duration_since(at) < self.window {
                break;
            }
            log.entries.pop_front();
            log.tokens -= u64::from(tokens);
        }
        log
    }

    /// How long from `now` until `n` more tokens fit in `log`.
    fn wait(&self, log: &Log, n: u32, now: Instant) -> Duration {
        let excess = (log.tokens + u64::from(n)).saturating_sub(u64::from(self.limit));
        if excess == 0 {
            return Duration::ZERO;
        }
        let mut freed = 0;
        let (expiring, _) = log
            .entries
            .iter()
            .find(|(_, tokens)| {
                freed += u64::from(*tokens);
                freed >= excess
            })
            .expect("n ≤ limit, so the whole log expiring frees enough tokens");
        self.window
            .saturating_sub(now.saturating_duration_since(*expiring))
    }
}

impl RatePolicy for SlidingWindowLog {
    fn capacity(&self) -> u32 {
        self.limit
    }

    fn try_take(&self, n: u32, now: Instant) -> Result<(), Duration> {
        if let Some(answer) = out_of_range(n, self.capacity()) {
            return answer;
        }
        let mut log = self.log_at(now);
        let wait = self.wait(&log, n, now);
        if !wait.is_zero() {
            return Err(wait);
        }
        log.tokens += u64::from(n);
        match log.entries.back_mut() {
            Some((newest, tokens)) if *newest >= now => *tokens += n,
            _ => log.entries.push_back((now, n)),
        }
        Ok(())
    }

    fn time_until(&self, n: u32, now: Instant) -> Duration {
        if let Some(answer) = out_of_range(n, self.capacity()) {
            return answer.err().unwrap_or_default();
        }
        let log = self.log_at(now);
        self.wait(&log, n, now)
    }

    fn is_at_rest(&self, now: Instant) -> bool {
        self.log_at(now).entries.is_empty()
    }
}
