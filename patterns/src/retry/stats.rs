//! [`RetryStats`]: what a retry policy has done, counted by every call
//! made through it or its clones.

use std::sync::atomic::{AtomicU64, Ordering};

/// The live counters; relaxed atomics, since each is an independent tally.
#[derive(Debug, Default)]
pub(crate) struct StatCounters {
    pub(crate) calls: AtomicU64,
    pub(crate) succeeded_first_try: AtomicU64,
    pub(crate) succeeded_after_retries: AtomicU64,
    pub(crate) gave_up: AtomicU64,
    pub(crate) cancelled: AtomicU64,
    pub(crate) retries: AtomicU64,
    pub(crate) attempt_timeouts: AtomicU64,
    pub(crate) budget_denials: AtomicU64,
}

impl StatCounters {
    pub(crate) fn bump(counter: &AtomicU64) -> u64 {
        counter.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn snapshot(&self) -> RetryStats {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        RetryStats {
            calls: read(&self.calls),
            succeeded_first_try: read(&self.succeeded_first_try),
            succeeded_after_retries: read(&self.succeeded_after_retries),
            gave_up: read(&self.gave_up),
            cancelled: read(&self.cancelled),
            retries: read(&self.retries),
            attempt_timeouts: read(&self.attempt_timeouts),
            budget_denials: read(&self.budget_denials),
        }
    }
}

/// A snapshot of a [`RetryPolicy`](super::RetryPolicy)'s counters.
///
/// Every call ends in exactly one of four ways, so once no call is running
/// `calls == succeeded_first_try + succeeded_after_retries + gave_up +
/// cancelled`.
///
/// ```
/// use weft_patterns::retry::RetryPolicy;
///
/// let policy = RetryPolicy::default();
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// let mut failures_left = 2;
/// let value = rt.block_on(async {
///     policy
///         .retry(|| {
///             let fail = failures_left > 0;
///             failures_left -= 1;
///             async move { if fail { Err("busy") } else { Ok(7) } }
///         })
///         .await
/// });
/// assert_eq!(value, Ok(7));
/// let stats = policy.stats();
/// assert_eq!((stats.calls, stats.succeeded_after_retries, stats.retries), (1, 1, 2));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RetryStats {
    /// Calls started.
    pub calls: u64,
    /// Calls whose first attempt succeeded.
    pub succeeded_first_try: u64,
    /// Calls that succeeded after at least one retry.
    pub succeeded_after_retries: u64,
    /// Calls that ended without an accepted result (an error, a timeout or
    /// a value the policy would have retried).
    pub gave_up: u64,
    /// Calls whose future was dropped before they ended.
    pub cancelled: u64,
    /// Retries started (attempts after the first).
    pub retries: u64,
    /// Attempts cut by the per-attempt timeout or the total deadline.
    pub attempt_timeouts: u64,
    /// Retries the shared budget refused.
    pub budget_denials: u64,
}
