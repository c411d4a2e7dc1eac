//! [`SlidingWindowCounter`]: about `limit` tokens per `window`, estimated
//! from two counters — constant memory, whatever the limit.
//!
//! # Algorithm
//!
//! Time is cut into fixed windows of length `W`. The limiter counts the
//! tokens granted in the current window and in the previous one, and
//! estimates the sliding window ending now by assuming the previous
//! window's grants were spread evenly across it:
//!
//! ```text
//!        previous window            current window
//!   ├──────────────────────────┼────────────┬─────────────┤
//!          previous = 8          current = 3 ▲ now
//!                              ├──── e ─────┤
//!   the sliding window (now − W, now] still covers (W − e)/W of the previous one:
//!   estimate = previous × (W − e)/W + current          e = W/4 → 8 × 3/4 + 3 = 9
//!   take n:  admitted iff estimate + n ≤ limit       (exact integer arithmetic)
//! ```
//!
//! A refused request learns exactly when the estimate will have dropped
//! enough: later in this window as the previous window fades out, or, when
//! the current window alone is too full, part-way into the next one.
//!
//! It is the approach Cloudflare described for its edge rate limiting: two
//! numbers per limiter instead of [`SlidingWindowLog`](super::SlidingWindowLog)'s
//! log, and no burst at window boundaries as a fixed window has. The price
//! is that it is an estimate: grants bunched at the end of the previous
//! window are counted as if spread out, so a sliding window can briefly see
//! more than `limit` (at most `limit` per fixed window still holds, since
//! `current ≤ limit`). In steady state under constant pressure it settles a
//! little below `limit` per window.
//!
//! The counters sit behind a `std` mutex held only for the arithmetic,
//! never across an await.
//!
//! # At rest
//!
//! When both counters are zero (nothing granted in the current or previous
//! window) the limiter restarts its grid of windows at the next request,
//! exactly as a new one starts its grid at its first request. So an idle
//! limiter and a new one behave identically from then on.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::policy::{out_of_range, RatePolicy};
use crate::deadline::duration_nanos;

/// About `limit` tokens per `window`, estimated from the counts of the
/// current and previous fixed windows. See the [module docs](self).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_patterns::rate_limit::{RateLimiter, SlidingWindowCounter, TryAcquireError};
///
/// weft_runtime::Builder::new().start_paused(true).build().block_on(async {
///     let limiter = RateLimiter::new(SlidingWindowCounter::new(10, Duration::from_secs(1)));
///     limiter.try_acquire(10).unwrap();
///     // The next window starts in 1 s, and the 10 grants of this one must
///     // fade by a tenth for one more token to fit: 1.1 s.
///     assert_eq!(
///         limiter.try_acquire(1),
///         Err(TryAcquireError::RateLimited {
///             requested: 1,
///             retry_after: Duration::from_millis(1100),
///         })
///     );
/// });
/// ```
#[derive(Debug)]
pub struct SlidingWindowCounter {
    limit: u32,
    window: Duration,
    /// `window` in nanoseconds.
    window_nanos: u64,
    counts: Mutex<Counts>,
}

/// The two counters and the grid of windows they belong to.
#[derive(Debug, Default)]
struct Counts {
    /// Where window 0 starts; `None` until the first request.
    grid_start: Option<Instant>,
    /// The index of the current window on the grid.
    index: u64,
    previous: u64,
    current: u64,
}

/// Where `now` falls: the counts of its window and the previous one, and
/// the nanoseconds elapsed in its window.
#[derive(Debug, Clone, Copy)]
struct Position {
    previous: u128,
    current: u128,
    elapsed: u128,
}

impl SlidingWindowCounter {
    /// About `limit` tokens per `window`.
    ///
    /// # Panics
    ///
    /// If `limit` is zero or `window` is shorter than a nanosecond.
    pub fn new(limit: u32, window: Duration) -> Self {
        assert!(limit > 0, "a sliding window must admit at least one token");
        let window_nanos = duration_nanos(window);
        assert!(window_nanos > 0, "a sliding window must not be empty");
        Self {
            limit,
            window,
            window_nanos,
            counts: Mutex::new(Counts::default()),
        }
    }

    /// The length of a window.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// The counters, moved on to the window holding `now`, and where `now`
    /// falls in it.
    fn counts_at(&self, now: Instant) -> (MutexGuard<'_, Counts>, Position) {
        // The lock guards arithmetic that cannot panic half-way, so a
        // poisoned lock still holds consistent counters.
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let elapsed = counts.advance(now, self.window_nanos);
        let position = Position {
            previous: u128::from(counts.previous),
            current: u128::from(counts.current),
            elapsed: u128::from(elapsed),
        };
        (counts, position)
    }

    /// Nanoseconds from `now` until `n` more tokens fit (zero: they fit).
    fn wait(&self, at: Position, n: u32) -> u128 {
        let (limit, n, window) = (
            u128::from(self.limit),
            u128::from(n),
            u128::from(self.window_nanos),
        );
        let Position {
            previous,
            current,
            elapsed,
        } = at;
        if previous * (window - elapsed) + (current + n) * window <= limit * window {
            return 0;
        }
        if current + n <= limit {
            // Later in this window: previous × (W − e') ≤ (limit − current − n) × W.
            // `previous > 0`, or the request would fit already.
            let fade_needed = window - ((limit - current - n) * window / previous).min(window);
            fade_needed - elapsed
        } else {
            // In the next window, where `previous` becomes `current` (> 0,
            // since n ≤ limit): current × (W − e') ≤ (limit − n) × W.
            let fade_needed = window - ((limit - n) * window / current).min(window);
            (window - elapsed) + fade_needed
        }
    }
}

impl Counts {
    /// Moves the counters to the window holding `now` and returns the
    /// nanoseconds elapsed in it. At rest, the grid restarts at `now`.
    fn advance(&mut self, now: Instant, window: u64) -> u64 {
        if let Some(grid_start) = self.grid_start {
            let since = duration_nanos(now.saturating_duration_since(grid_start));
            // An instant older than one already seen (another thread's
            // reading) counts as the current window's.
            let index = (since / window).max(self.index);
            (self.previous, self.current) = match index - self.index {
                0 => (self.previous, self.current),
                1 => (self.current, 0),
                _ => (0, 0),
            };
            self.index = index;
            if self.previous + self.current > 0 {
                return since.saturating_sub(index * window);
            }
        }
        // Nothing counts any more: start the grid afresh here, as a new
        // limiter would at its first request.
        *self = Self {
            grid_start: Some(now),
            ..Self::default()
        };
        0
    }
}

impl RatePolicy for SlidingWindowCounter {
    fn capacity(&self) -> u32 {
        self.limit
    }

    fn try_take(&self, n: u32, now: Instant) -> Result<(), Duration> {
        if let Some(answer) = out_of_range(n, self.capacity()) {
            return answer;
        }
        let (mut counts, position) = self.counts_at(now);
        match self.wait(position, n) {
            0 => {
                counts.current += u64::from(n);
                Ok(())
            }
            wait => Err(nanos_to_duration(wait)),
        }
    }

    fn time_until(&self, n: u32, now: Instant) -> Duration {
        if let Some(answer) = out_of_range(n, self.capacity()) {
            return answer.err().unwrap_or_default();
        }
        let (counts, position) = self.counts_at(now);
        drop(counts);
        nanos_to_duration(self.wait(position, n))
    }

    fn is_at_rest(&self, now: Instant) -> bool {
        let (counts, _) = self.counts_at(now);
        counts.previous + counts.current == 0
    }
}

fn nanos_to_duration(nanos: u128) -> Duration {
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}
