//! [`TokenBucket`]: the classic bucket — `capacity` tokens, `refill` more
//! dropped in every `interval` — kept in one atomic word so a check is one
//! compare-and-swap.
//!
//! # Algorithm
//!
//! The bucket starts full. Every `interval` (on a grid that starts at the
//! first request the bucket sees) `refill` tokens drop in at once, and what
//! does not fit is lost. A request for `n` tokens takes them if the bucket
//! holds `n`.
//!
//! ```text
//!   TokenBucket::new(capacity 4, refill 2, interval 1 s)
//!   t (s):    0          1          2          3
//!             │ take 4   │ +2       │ +2       │ +2 (one is lost: full)
//!   level:    4 → 0      2          4          4
//! ```
//!
//! With `refill` 1 and a short interval the bucket refills smoothly, like
//! the asyncio tutorials' bucket; with `refill == capacity` it is a quota
//! that resets each period ("5000 requests per hour"). A bucket that
//! refills *continuously* is exactly [`Gcra`](super::Gcra): use that when
//! you want refills spread to the nanosecond rather than on a grid.
//!
//! Rather than a level and a "last refill" time (two words, so a lock), the
//! bucket keeps one counter, `spent`:
//!
//! ```text
//!   issued(now) = refill × ⌊(now − origin) / interval⌋   every refill so far
//!   spent       = tokens taken + tokens lost to a full bucket
//!   level(now)  = capacity + issued(now) − spent         (≤ capacity)
//!
//!   take n:   spent' = max(spent, issued) + n             max(): a full bucket
//!             admitted iff spent' ≤ issued + capacity            loses refills
//!   refused:  missing = spent' − issued − capacity tokens
//!             retry at the grid point ⌈missing / refill⌉ intervals on (exact)
//! ```
//!
//! `spent` is an `AtomicU64` updated by one compare-and-swap (`Relaxed`:
//! it is the only word involved, and the compare-and-swap makes concurrent
//! checks linearizable). A refusal writes nothing.
//!
//! # At rest
//!
//! `spent ≤ issued` means a full bucket, like a new one. A bucket built
//! later for the same key is full too, and its grid starts at its first
//! request, so each of its refills comes no sooner than the dropped
//! bucket's would have: from then on it can never admit more than the
//! dropped one could have. Dropping an idle bucket gives nobody extra
//! tokens.

use std::time::{Duration, Instant};

use super::policy::RatePolicy;
use super::timeline::AtomicPolicyState;
use crate::deadline::duration_nanos;

/// A token bucket refilled by `refill` tokens every `interval`, in one
/// atomic word. See the [module docs](self).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_patterns::rate_limit::{RateLimiter, TokenBucket, TryAcquireError};
///
/// weft_runtime::Builder::new().start_paused(true).build().block_on(async {
///     // The asyncio tutorial's bucket: capacity 20, 10 tokens a second.
///     let limiter = RateLimiter::new(TokenBucket::new(20, 1, Duration::from_millis(100)));
///     limiter.try_acquire(20).unwrap();
///     assert_eq!(
///         limiter.try_acquire(2),
///         Err(TryAcquireError::RateLimited {
///             requested: 2,
///             retry_after: Duration::from_millis(200),
///         })
///     );
/// });
/// ```
#[derive(Debug)]
pub struct TokenBucket {
    capacity: u32,
    refill: u32,
    interval: Duration,
    /// `interval` in nanoseconds.
    interval_nanos: u64,
    /// Tokens taken plus tokens lost to a full bucket; see the module docs.
    spent: AtomicPolicyState,
}

impl TokenBucket {
    /// A full bucket of `capacity` tokens that gains `refill` tokens every
    /// `interval`.
    ///
    /// # Panics
    ///
    /// If `capacity` or `refill` is zero, or `interval` is shorter than a
    /// nanosecond: such a bucket is a programming error.
    pub fn new(capacity: u32, refill: u32, interval: Duration) -> Self {
        assert!(capacity > 0, "a token bucket must hold at least one token");
        assert!(refill > 0, "a token bucket must refill at least one token");
        let interval_nanos = duration_nanos(interval);
        assert!(
            interval_nanos > 0,
            "a token bucket's refill interval must be at least one nanosecond"
        );
        Self {
            capacity,
            refill,
            interval,
            interval_nanos,
            spent: AtomicPolicyState::default(),
        }
    }

    /// Tokens added at each refill.
    pub fn refill(&self) -> u32 {
        self.refill
    }

    /// The time between refills.
    pub fn refill_interval(&self) -> Duration {
        self.interval
    }

    /// The refill grid at `now` (nanoseconds): the current grid index and
    /// the tokens issued up to it.
    fn issued(&self, now: u64) -> (u64, u64) {
        let tick = now / self.interval_nanos;
        (tick, tick.saturating_mul(u64::from(self.refill)))
    }

    /// Taking `n` tokens at `now` with `spent` as it stands: the new `spent`
    /// if admitted, else how many nanoseconds to wait.
    fn decide(&self, spent: u64, n: u32, now: u64) -> Result<u64, u64> {
        let (tick, issued) = self.issued(now);
        let new_spent = spent.max(issued).saturating_add(u64::from(n));
        let limit = issued.saturating_add(u64::from(self.capacity));
        if new_spent <= limit {
            return Ok(new_spent);
        }
        let refills_needed = (new_spent - limit).div_ceil(u64::from(self.refill));
        let refill_at = tick
            .saturating_add(refills_needed)
            .saturating_mul(self.interval_nanos);
        Err(refill_at - now)
    }
}

impl RatePolicy for TokenBucket {
    fn capacity(&self) -> u32 {
        self.capacity
    }

    fn try_take(&self, n: u32, now: Instant) -> Result<(), Duration> {
        self.spent.try_take(n, self.capacity, now, |spent, now| {
            self.decide(spent, n, now)
        })
    }

    fn time_until(&self, n: u32, now: Instant) -> Duration {
        self.spent.time_until(n, self.capacity, now, |spent, now| {
            self.decide(spent, n, now)
        })
    }

    fn is_at_rest(&self, now: Instant) -> bool {
        let (spent, now) = self.spent.load(now);
        spent <= self.issued(now).1
    }
}
