//! Retry with backoff: run an operation again when it fails, waiting a
//! little longer each time, within limits that protect both the caller and
//! the server.
//!
//! # The algorithm
//!
//! ```text
//!   call ──▶ budget.deposit()  (a first attempt earns the shared budget a share of a retry)
//!    ┌──▶ attempt n: run the operation, cut at min(attempt timeout, total deadline)
//!    │      Ok(v), v acceptable ─────────────────────────────────────────▶ Ok(v)
//!    │      Err(e) | timed out | Ok(v) the value predicate rejects
//!    │        error predicate says "not retryable"   ─▶ give up: NotRetryable
//!    │        n - 1 == max_retries                   ─▶ give up: RetriesExhausted
//!    │        delay = next backoff delay, or the server's Retry-After hint
//!    │        now + delay >= deadline                ─▶ give up: DeadlineReached
//!    │        the shared budget refuses              ─▶ give up: BudgetExhausted
//!    │        on_retry hook, then sleep(delay)
//!    └────────┘
//! ```
//!
//! Giving up hands back the last error inside a [`RetryError`] (or, when
//! only the value predicate objected, the last value as `Ok`, as
//! resilience4j does: the caller sees what the operation last produced).
//!
//! # What it offers
//!
//! * Backoffs: constant, exponential, Fibonacci and decorrelated jitter
//!   ([`Backoff`]), with full or equal jitter on by default, applied after
//!   the cap so that `max_delay` holds. Jitter draws from a SplitMix64
//!   generator per call (no dependency), seedable for reproducible runs
//!   ([`RetryPolicy::seed`]); calls of one policy get unrelated streams, so
//!   a crowd of callers does not retry in lock step.
//! * Limits: [`max_retries`](RetryPolicy::max_retries), a total
//!   [`deadline`](RetryPolicy::deadline) that is never overshot (an
//!   attempt is cut at the deadline, and a backoff sleep that would end at
//!   or after it is not started), a per-attempt
//!   [`attempt_timeout`](RetryPolicy::attempt_timeout) (a timed-out attempt
//!   is dropped, then retried), and a [`RetryBudget`] shared across callers
//!   so that retries cannot multiply the load during an outage.
//! * Per call ([`Retry`]): an error predicate ([`when`](Retry::when)), a
//!   value predicate ([`when_value`](Retry::when_value)), a server hint
//!   that overrides the next delay ([`retry_after`](Retry::retry_after),
//!   for HTTP's `Retry-After` or a circuit breaker's "retry in"), and an
//!   [`on_retry`](Retry::on_retry) hook.
//! * [`RetryStats`], shared by a policy and its clones.
//!
//! # Cancellation guarantee
//!
//! Cancellation is never retried. Dropping the future returned by
//! `retry(...)` drops the running attempt or the backoff sleep at once: no
//! further attempt starts, nothing runs in the background, and the call is
//! counted in [`RetryStats::cancelled`]. A retry the budget had already
//! granted stays spent (see [`RetryBudget`]).
//!
//! ```
//! use std::time::Duration;
//! use weft_patterns::retry::{Backoff, GiveUpReason, Jitter, RetryPolicy};
//! use weft_runtime::time;
//!
//! #[derive(Debug, PartialEq)]
//! enum FetchError { Unavailable, NotFound }
//!
//! let policy = RetryPolicy::new(
//!         Backoff::exponential(Duration::from_millis(100)).jitter(Jitter::None),
//!     )
//!     .max_retries(5)
//!     .deadline(Duration::from_secs(10));
//!
//! let rt = weft_runtime::Builder::new().start_paused(true).build();
//! rt.block_on(async {
//!     let start = time::now();
//!     let mut calls = 0;
//!     let page = policy
//!         .retry(|| {
//!             calls += 1;
//!             let outcome = if calls < 3 { Err(FetchError::Unavailable) } else { Ok("<html>") };
//!             async move { outcome }
//!         })
//!         .when(|e| *e == FetchError::Unavailable)
//!         .await;
//!     assert_eq!(page, Ok("<html>"));
//!     // Two retries, after 100 ms and 200 ms.
//!     assert_eq!(time::now() - start, Duration::from_millis(300));
//!
//!     let missing = policy
//!         .retry(|| async { Err::<&str, _>(FetchError::NotFound) })
//!         .when(|e| *e == FetchError::Unavailable)
//!         .await
//!         .unwrap_err();
//!     assert_eq!(missing.reason(), GiveUpReason::NotRetryable);
//!     assert_eq!(missing.attempts(), 1);
//! });
//! ```

mod backoff;
mod budget;
mod call;
mod error;
pub(crate) mod rng;
mod stats;

use std::sync::Arc;
use std::time::Duration;

pub use crate::config::ConfigError;
pub use backoff::{Backoff, Delays, Jitter};
pub use budget::RetryBudget;
pub use call::{Retry, RetryCause, RetryEvent, RetryFuture};
pub use error::{AttemptFailure, GiveUpReason, RetryError};
pub use stats::RetryStats;

use rng::{fresh_seed, JitterRng};
use stats::StatCounters;

/// How to retry: the backoff and the limits. Cheap to clone; clones share
/// their statistics (and their budget, if any).
///
/// Start a call with [`retry`](Self::retry), which returns a [`Retry`] to
/// refine with predicates and hooks, then await it.
///
/// | setting | default |
/// |---|---|
/// | backoff | exponential from 100 ms, ×2, capped at 60 s, full jitter |
/// | [`max_retries`](Self::max_retries) | 3 (so at most 4 attempts) |
/// | [`deadline`](Self::deadline) | none |
/// | [`attempt_timeout`](Self::attempt_timeout) | none |
/// | [`budget`](Self::budget) | none |
/// | [`seed`](Self::seed) | random |
///
/// ```
/// use std::time::Duration;
/// use weft_patterns::retry::{Backoff, RetryBudget, RetryPolicy};
///
/// let policy = RetryPolicy::new(Backoff::decorrelated_jitter(Duration::from_millis(50)))
///     .max_retries(4)
///     .deadline(Duration::from_secs(5))
///     .attempt_timeout(Duration::from_secs(1))
///     .budget(RetryBudget::default());
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// let answer = rt.block_on(async { policy.retry(|| async { Ok::<_, ()>(42) }).await });
/// assert_eq!(answer, Ok(42));
/// ```
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    backoff: Backoff,
    max_retries: u32,
    deadline: Option<Duration>,
    attempt_timeout: Option<Duration>,
    budget: Option<RetryBudget>,
    /// The seed of the family of generators handed to calls (see
    /// `rng.rs`): call number `n` draws from `JitterRng::member(seed, n)`.
    seed: u64,
    stats: Arc<StatCounters>,
}

impl RetryPolicy {
    /// A policy with `backoff` and the other defaults (see the table).
    pub fn new(backoff: Backoff) -> Self {
        Self {
            backoff,
            max_retries: 3,
            deadline: None,
            attempt_timeout: None,
            budget: None,
            seed: fresh_seed(),
            stats: Arc::default(),
        }
    }

    setters! {
        /// At most `retries` attempts after the first (0: never retry).
        max_retries(retries: u32) => max_retries = retries;
        /// Every call ends within `total` of its start: an attempt still running
        /// at the deadline is dropped, and a backoff sleep that would end at or
        /// after the deadline is not started (the call gives up at once).
        deadline(total: Duration) => deadline = Some(total);
        /// Each attempt gets at most `limit`; an attempt that runs longer is
        /// dropped and counts as a retryable failure
        /// ([`AttemptFailure::TimedOut`]).
        attempt_timeout(limit: Duration) => attempt_timeout = Some(limit);
        /// Retries also need the shared `budget`'s consent (see
        /// [`RetryBudget`]); every call deposits its first attempt in it.
        budget(budget: RetryBudget) => budget = Some(budget);
        /// Makes the jitter reproducible: the n-th call of this policy (and its
        /// clones) draws the same delays on every run. Distinct calls still get
        /// distinct streams.
        seed(seed: u64) => seed = seed;
    }

    /// The counters of every call made through this policy and its clones.
    pub fn stats(&self) -> RetryStats {
        self.stats.snapshot()
    }

    /// Starts describing a call of `operation`, which is invoked once per
    /// attempt and returns a fresh future each time. Await the result (or
    /// refine it first: [`Retry::when`], [`Retry::when_value`],
    /// [`Retry::retry_after`], [`Retry::on_retry`]).
    pub fn retry<Op, Fut, T, E>(&self, operation: Op) -> Retry<'_, Op, T, E>
    where
        Op: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, E>>,
    {
        Retry::new(self, operation)
    }

    /// The delays for the next call, drawn from its own generator.
    fn delays_for_call(&self, call_number: u64) -> Delays {
        Delays::new(
            self.backoff.clone(),
            JitterRng::member(self.seed, call_number),
        )
    }
}

impl Default for RetryPolicy {
    /// [`RetryPolicy::new`] with [`Backoff::default`].
    fn default() -> Self {
        Self::new(Backoff::default())
    }
}
