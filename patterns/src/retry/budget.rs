//! [`RetryBudget`]: retries as a share of recent traffic, shared by every
//! caller, so that retries cannot multiply the load during an outage.
//!
//! Per-call limits do not protect a struggling server: with three retries
//! each, a thousand callers that all fail send four thousand requests.
//! A budget (Finagle's `RetryBudget`, gRPC's retry throttling) caps retries
//! across callers instead:
//!
//! ```text
//!   allowed retries in the last ttl = percent × first attempts in the last ttl
//!                                   + min_retries_per_sec × ttl
//!   a retry may start  ⇔  retries already made in the last ttl < allowed
//! ```
//!
//! When everything works, first attempts keep the budget full and the
//! occasional retry passes. During an outage every caller fails and wants
//! to retry, but the budget grows only with new first attempts, so total
//! traffic stays within `1 + percent/100` times the normal rate (plus the
//! small fixed reserve, which lets a quiet client still retry now and
//! then).
//!
//! Both counts live in a ring of 10 time buckets covering `ttl` (see
//! `time_buckets.rs`), so memory is fixed and a burst is forgotten `ttl`
//! later. The counters sit behind a short `std` mutex: no lock is ever held
//! across an `await`.
//!
//! Cancellation: a retry that was allowed has spent its share even if its
//! caller is dropped during the backoff sleep; erring towards fewer
//! retries is the safe side for a budget.

use std::fmt;
use std::ops::AddAssign;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use weft_runtime::time;

use crate::config::{longer_than_zero, ConfigError};
use crate::time_buckets::TimeBuckets;

const BUCKETS: u32 = 10;

/// First attempts and retries in one bucket.
#[derive(Debug, Default, Clone, Copy)]
struct Traffic {
    first_attempts: u64,
    retries: u64,
}

impl AddAssign for Traffic {
    fn add_assign(&mut self, other: Self) {
        self.first_attempts += other.first_attempts;
        self.retries += other.retries;
    }
}

struct Shared {
    ttl: Duration,
    /// `min_retries_per_sec × ttl`, whole retries.
    reserve: u64,
    percent: u32,
    traffic: Mutex<TimeBuckets<Traffic>>,
}

/// A retry budget shared by every caller that holds a clone of it (see
/// the module docs).
///
/// ```
/// use std::time::Duration;
/// use weft_patterns::retry::RetryBudget;
///
/// // 10 % of first attempts, no fixed reserve.
/// let budget = RetryBudget::new(Duration::from_secs(10), 0, 10).unwrap();
/// for _ in 0..20 {
///     budget.deposit();
/// }
/// assert_eq!(budget.available(), 2);
/// assert!(budget.try_withdraw());
/// assert!(budget.try_withdraw());
/// assert!(!budget.try_withdraw());
/// ```
#[derive(Clone)]
pub struct RetryBudget {
    shared: Arc<Shared>,
}

impl RetryBudget {
    /// A budget over a window of `ttl`: `retry_percent` retries per hundred
    /// first attempts, plus `min_retries_per_sec` retries per second of
    /// `ttl` that are always allowed.
    ///
    /// A `ttl` of zero is refused: the window would never hold anything.
    pub fn new(
        ttl: Duration,
        min_retries_per_sec: u32,
        retry_percent: u32,
    ) -> Result<Self, ConfigError> {
        longer_than_zero("RetryBudget::new(ttl)", ttl)?;
        let reserve = u128::from(min_retries_per_sec) * ttl.as_nanos() / 1_000_000_000;
        Ok(Self {
            shared: Arc::new(Shared {
                ttl,
                reserve: u64::try_from(reserve).unwrap_or(u64::MAX),
                percent: retry_percent,
                traffic: Mutex::new(TimeBuckets::new(ttl, BUCKETS)),
            }),
        })
    }

    /// Records a first attempt, which earns `retry_percent` hundredths of a
    /// retry. A [`RetryPolicy`](super::RetryPolicy) with this budget does
    /// this at the start of every call.
    pub fn deposit(&self) {
        self.with_traffic(|traffic, now| traffic.record(now, |t| t.first_attempts += 1));
    }

    /// Spends one retry if the budget allows it now; `false` means the
    /// caller should give up rather than retry.
    pub fn try_withdraw(&self) -> bool {
        self.with_traffic(|traffic, now| {
            let allowed = self.allowed(traffic.total(now));
            if allowed > 0 {
                traffic.record(now, |t| t.retries += 1);
            }
            allowed > 0
        })
    }

    /// How many retries the budget would allow right now.
    pub fn available(&self) -> u64 {
        self.with_traffic(|traffic, now| self.allowed(traffic.total(now)))
    }

    fn allowed(&self, traffic: Traffic) -> u64 {
        let earned = traffic
            .first_attempts
            .saturating_mul(u64::from(self.shared.percent))
            / 100;
        earned
            .saturating_add(self.shared.reserve)
            .saturating_sub(traffic.retries)
    }

    fn with_traffic<R>(
        &self,
        f: impl FnOnce(&mut TimeBuckets<Traffic>, std::time::Instant) -> R,
    ) -> R {
        let now = time::now();
        // A panic cannot leave the counters half-updated (each update is
        // one addition), so a poisoned lock is safe to keep using.
        let mut traffic = self
            .shared
            .traffic
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        f(&mut traffic, now)
    }
}

impl Default for RetryBudget {
    /// Finagle's defaults: a 10 s window, 20 % of first attempts, and a
    /// reserve of 10 retries per second.
    fn default() -> Self {
        Self::new(Duration::from_secs(10), 10, 20).expect("the default settings are valid")
    }
}

impl fmt::Debug for RetryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryBudget")
            .field("ttl", &self.shared.ttl)
            .field("retry_percent", &self.shared.percent)
            .field("reserve", &self.shared.reserve)
            .finish_non_exhaustive()
    }
}
