//! [`Gcra`]: the generic cell rate algorithm — a token bucket that refills
//! continuously, kept as a single timestamp so a check is one
//! compare-and-swap.
//!
//! # Algorithm
//!
//! GCRA (from ATM networks; the algorithm of the `governor` crate) keeps
//! one number, the *theoretical arrival time* `TAT`: the instant at which
//! the bucket would be full again if nothing more were taken. With `T` the
//! replenish interval and `τ = burst × T` the tolerance:
//!
//! ```text
//!            now                                now + τ
//!   ──────────┼───────────────────────────────────┼──────▶ time
//!             │◀────────── τ = burst × T ─────────▶│
//!
//!   TAT ≤ now          the bucket is full (at rest)
//!   take n at now:     TAT' = max(TAT, now) + n·T
//!                      admitted iff TAT' ≤ now + τ, and then TAT ← TAT'
//!   refused:           retry after TAT' − τ − now   (exact, to the nanosecond)
//! ```
//!
//! `TAT − now` is the debt: how far ahead of its allowance the caller is.
//! Up to `τ` of debt is tolerated, which is the burst. Tokens come back
//! continuously, one every `T`, so a refused request learns exactly when it
//! would fit.
//!
//! # Lock-free fast path
//!
//! `TAT` lives in an `AtomicU64` as nanoseconds since the limiter's origin
//! (the first instant it sees). A check loads it, computes `TAT'`, and
//! publishes it with one compare-and-swap; only a concurrent change by
//! another thread makes it compute again. A refusal writes nothing. All
//! updates touch this one word, so `Relaxed` ordering is enough: the
//! compare-and-swap alone makes concurrent checks linearizable, and no other
//! memory is published through it.
//!
//! # At rest
//!
//! `TAT ≤ now` is the state of a new limiter: full bucket. A keyed limiter
//! may then drop the key; a fresh `Gcra` built for it later behaves the same.

use std::time::{Duration, Instant};

use super::policy::RatePolicy;
use super::quota::Quota;
use super::timeline::AtomicPolicyState;

/// The generic cell rate algorithm: a continuously refilling token bucket in
/// one atomic word. See the [module docs](self).
///
/// Use it alone through the [`RatePolicy`] methods (they are lock-free and
/// need no runtime), or behind a [`RateLimiter`](super::RateLimiter) to wait.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_patterns::rate_limit::{Gcra, Quota, RateLimiter};
/// use weft_runtime::time;
///
/// weft_runtime::Builder::new().start_paused(true).build().block_on(async {
///     // 10 a second, bursts of up to 5.
///     let limiter = RateLimiter::new(Gcra::new(Quota::per_second(10).allow_burst(5)));
///     let start = time::now();
///     for _ in 0..8 {
///         limiter.acquire(1).await.unwrap();
///     }
///     // 5 at once, then one every 100 ms.
///     assert_eq!(time::now() - start, Duration::from_millis(300));
/// });
/// ```
#[derive(Debug)]
pub struct Gcra {
    quota: Quota,
    /// `T`, the replenish interval, in nanoseconds.
    interval: u64,
    /// `τ = burst × T`, in nanoseconds.
    tolerance: u64,
    /// The theoretical arrival time, in nanoseconds on its timeline.
    tat: AtomicPolicyState,
}

impl Gcra {
    /// A full limiter for `quota`.
    pub fn new(quota: Quota) -> Self {
        Self {
            quota,
            interval: quota.interval_nanos(),
            tolerance: quota.tolerance_nanos(),
            tat: AtomicPolicyState::default(),
        }
    }

    /// The quota this limiter enforces.
    pub fn quota(&self) -> Quota {
        self.quota
    }

    /// Taking `n` tokens at `now` with the theoretical arrival time at
    /// `tat`: the new `TAT` if admitted, else how many nanoseconds to wait.
    fn decide(&self, tat: u64, n: u32, now: u64) -> Result<u64, u64> {
        let new_tat = tat.max(now).saturating_add(u64::from(n) * self.interval);
        let admitted_from = new_tat.saturating_sub(self.tolerance);
        if admitted_from > now {
            Err(admitted_from - now)
        } else {
            Ok(new_tat)
        }
    }
}

impl RatePolicy for Gcra {
    fn capacity(&self) -> u32 {
        self.quota.burst()
    }

    fn try_take(&self, n: u32, now: Instant) -> Result<(), Duration> {
        self.tat
            .try_take(n, self.capacity(), now, |tat, now| self.decide(tat, n, now))
    }

    fn time_until(&self, n: u32, now: Instant) -> Duration {
        self.tat
            .time_until(n, self.capacity(), now, |tat, now| self.decide(tat, n, now))
    }

    fn is_at_rest(&self, now: Instant) -> bool {
        let (tat, now) = self.tat.load(now);
        tat <= now
    }
}
