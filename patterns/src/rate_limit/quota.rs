//! [`Quota`]: how much a [`Gcra`](super::Gcra) limiter lets through — one
//! token every *replenish interval*, with up to *burst* tokens saved up.
//!
//! It is the same vocabulary as the `governor` crate: `per_second(n)` means
//! `n` tokens a second, all `n` of which may be used at once (a burst of
//! `n`); [`allow_burst`](Quota::allow_burst) changes the burst without
//! changing the rate.
//!
//! ```text
//!   Quota::per_second(4).allow_burst(2)
//!   replenish interval T = 250 ms, burst = 2
//!   t:      0    250   500   750   1000 ms
//!   admit:  ●●    ●     ●     ●     ●        2 at once, then one every T
//! ```
//!
//! Intervals are kept in whole nanoseconds, and a rate that does not divide
//! its period evenly (3 a second) rounds the interval *up* (333 333 334 ns):
//! the limiter may be a hair stricter than asked, never looser.

use std::time::Duration;

use crate::deadline::duration_nanos;

/// A GCRA rate: one token every [`replenish_interval`](Self::replenish_interval),
/// at most [`burst`](Self::burst) at once.
///
/// # Panics
///
/// The constructors panic on a zero count or a zero period, and when
/// `burst × replenish interval` does not fit in 584 years (`u64`
/// nanoseconds): such a quota is a programming error, not an input.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_patterns::rate_limit::Quota;
///
/// let quota = Quota::per_minute(30).allow_burst(5);
/// assert_eq!(quota.replenish_interval(), Duration::from_secs(2));
/// assert_eq!(quota.burst(), 5);
/// assert_eq!(Quota::with_period(Duration::from_millis(10)).burst(), 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quota {
    burst: u32,
    replenish_interval: Duration,
}

impl Quota {
    /// `count` tokens a second, all of which may be used at once.
    pub fn per_second(count: u32) -> Self {
        Self::per(count, Duration::from_secs(1))
    }

    /// `count` tokens a minute, all of which may be used at once.
    pub fn per_minute(count: u32) -> Self {
        Self::per(count, Duration::from_secs(60))
    }

    /// `count` tokens an hour, all of which may be used at once.
    pub fn per_hour(count: u32) -> Self {
        Self::per(count, Duration::from_secs(3600))
    }

    /// `count` tokens per `period`, spread evenly (one every `period /
    /// count`, rounded up to the nanosecond), all of which may be used at
    /// once.
    pub fn per(count: u32, period: Duration) -> Self {
        assert!(
            count > 0,
            "a quota must allow at least one token per period"
        );
        let interval = duration_nanos(period).div_ceil(u64::from(count));
        Self::checked(count, Duration::from_nanos(interval))
    }

    /// One token every `replenish_interval`, with a burst of one: requests
    /// are spaced at least that far apart.
    pub fn with_period(replenish_interval: Duration) -> Self {
        Self::checked(1, replenish_interval)
    }

    /// The same rate with another burst size: how many tokens may be saved
    /// up and spent at once.
    pub fn allow_burst(self, burst: u32) -> Self {
        Self::checked(burst, self.replenish_interval)
    }

    /// The most tokens that can be taken at once.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// The time it takes for one token to come back.
    pub fn replenish_interval(&self) -> Duration {
        self.replenish_interval
    }

    /// The replenish interval in nanoseconds.
    pub(crate) fn interval_nanos(&self) -> u64 {
        duration_nanos(self.replenish_interval)
    }

    /// The time a full burst takes to come back, in nanoseconds: GCRA's
    /// tolerance.
    pub(crate) fn tolerance_nanos(&self) -> u64 {
        self.interval_nanos() * u64::from(self.burst)
    }

    fn checked(burst: u32, replenish_interval: Duration) -> Self {
        assert!(burst > 0, "a quota's burst must be at least one token");
        let interval = duration_nanos(replenish_interval);
        assert!(
            interval > 0,
            "a quota's replenish interval must be at least one nanosecond"
        );
        assert!(
            interval.checked_mul(u64::from(burst)).is_some(),
            "a burst of {burst} tokens every {replenish_interval:?} takes longer than 584 years \
             to refill"
        );
        Self {
            burst,
            replenish_interval,
        }
    }
}
