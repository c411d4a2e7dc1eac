//! [`RateLimiter`]: one policy behind the shared waiting front-end, with
//! `try_acquire`, `acquire` and statistics.
//!
//! All the waiting logic — the fair line, the sleeping head, the bound on
//! waiters, cancellation — lives in the gate (`gate.rs`), shared with the
//! keyed limiter; this type adds the counters and the public face.

use super::error::{AcquireError, TryAcquireError};
use super::gate::Gate;
use super::policy::RatePolicy;
use super::stats::{Counters, RateLimiterStats};

/// A rate limiter: a [`RatePolicy`] ([`Gcra`](super::Gcra),
/// [`TokenBucket`](super::TokenBucket), [`SlidingWindowLog`](super::SlidingWindowLog),
/// [`SlidingWindowCounter`](super::SlidingWindowCounter) or your own) with a
/// fair, bounded line of waiters.
///
/// * [`try_acquire`](Self::try_acquire) answers at once, and says how long
///   to wait when it refuses.
/// * [`acquire`](Self::acquire) waits its turn: first come, first served,
///   only the head waiter has a timer, at most
///   [`max_waiters`](Self::max_waiters) wait.
///
/// Share it between tasks by reference or in an `Arc`; it is `Send + Sync`
/// when its policy is (all four are), so one limiter can serve several
/// runtimes on several threads.
///
/// # Cancellation
///
/// Dropping an `acquire` future at any point reserves nothing and loses
/// nothing: a waiter holds no tokens until the instant it is admitted, and
/// the next waiter takes over at once when the head is dropped:
///
/// * dropped behind the head, it leaves the line and those behind move up;
/// * dropped as the head, mid-sleep, its timer goes and the next waiter asks
///   the policy at once: it is admitted exactly when the dropped one would
///   have been (if it asks for as much);
/// * admission and returning `Ready` happen in the same poll, so no waiter
///   is granted tokens it never returned to its caller.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
/// use std::time::Duration;
/// use weft_patterns::rate_limit::{Gcra, Quota, RateLimiter};
/// use weft_runtime::time;
///
/// weft_runtime::Builder::new().start_paused(true).build().block_on(async {
///     let limiter = Rc::new(RateLimiter::new(Gcra::new(Quota::per_second(2))));
///     let start = time::now();
///     let tasks: Vec<_> = (0..6)
///         .map(|_| {
///             let limiter = limiter.clone();
///             weft_runtime::spawn(async move {
///                 limiter.acquire(1).await.unwrap();
///                 time::now() - start
///             })
///         })
///         .collect();
///     let mut admitted_at = Vec::new();
///     for task in tasks {
///         admitted_at.push(task.await.unwrap().as_millis());
///     }
///     // A burst of two, then one every 500 ms, in arrival order.
///     assert_eq!(admitted_at, [0, 0, 500, 1000, 1500, 2000]);
/// });
/// ```
#[derive(Debug)]
pub struct RateLimiter<P> {
    gate: Gate<P>,
    counters: Counters,
}

impl<P: RatePolicy> RateLimiter<P> {
    /// How many requests may wait in line unless
    /// [`with_max_waiters`](Self::with_max_waiters) says otherwise.
    pub const DEFAULT_MAX_WAITERS: usize = 1024;

    /// A limiter enforcing `policy`, with room for
    /// [`DEFAULT_MAX_WAITERS`](Self::DEFAULT_MAX_WAITERS) waiters.
    pub fn new(policy: P) -> Self {
        Self {
            gate: Gate::new(policy, Self::DEFAULT_MAX_WAITERS),
            counters: Counters::default(),
        }
    }

    /// Sets how many requests may wait in line; the next one is refused at
    /// once with [`AcquireError::QueueFull`]. Zero means nobody waits:
    /// `acquire` then admits or refuses at once.
    pub fn with_max_waiters(mut self, max_waiters: usize) -> Self {
        self.gate.set_max_waiters(max_waiters);
        self
    }

    /// Takes `n` tokens now, or says why not: [`TryAcquireError::RateLimited`]
    /// with the time to wait, or [`TryAcquireError::ExceedsCapacity`] when
    /// `n` is more than the limiter can ever grant at once.
    ///
    /// It never overtakes waiters: while requests wait in line it refuses,
    /// and `retry_after` is the time until the policy could serve the
    /// waiters and this request together (a lower bound when together they
    /// ask for more than the capacity). It works outside a runtime too (on
    /// the real clock). A request for zero tokens succeeds at once and is
    /// not counted.
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_patterns::rate_limit::{RateLimiter, SlidingWindowLog};
    ///
    /// weft_runtime::Builder::new().start_paused(true).build().block_on(async {
    ///     let limiter = RateLimiter::new(SlidingWindowLog::new(3, Duration::from_secs(60)));
    ///     limiter.try_acquire(3).unwrap();
    ///     let refused = limiter.try_acquire(1).unwrap_err();
    ///     assert_eq!(refused.retry_after(), Some(Duration::from_secs(60)));
    /// });
    /// ```
    pub fn try_acquire(&self, n: u32) -> Result<(), TryAcquireError> {
        self.gate.try_acquire(n, &self.counters)
    }

    /// Waits until `n` tokens are admitted.
    ///
    /// Requests are admitted in arrival order. It fails at once, without
    /// waiting, if `n` exceeds the capacity ([`AcquireError::ExceedsCapacity`])
    /// or the line is full ([`AcquireError::QueueFull`]). Dropping the
    /// future reserves nothing (see [Cancellation](Self#cancellation)); to
    /// bound the wait, wrap it in [`weft_runtime::timeout`]. It must run on a
    /// weft runtime, whose clock it sleeps on.
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_patterns::rate_limit::{RateLimiter, TokenBucket};
    /// use weft_runtime::time;
    ///
    /// weft_runtime::Builder::new().start_paused(true).build().block_on(async {
    ///     // 3 tokens, all back each second.
    ///     let limiter = RateLimiter::new(TokenBucket::new(3, 3, Duration::from_secs(1)));
    ///     let start = time::now();
    ///     limiter.acquire(2).await.unwrap();
    ///     limiter.acquire(2).await.unwrap(); // waits for the refill
    ///     assert_eq!(time::now() - start, Duration::from_secs(1));
    /// });
    /// ```
    pub async fn acquire(&self, n: u32) -> Result<(), AcquireError> {
        self.gate.acquire(n, &self.counters).await
    }

    /// The most tokens one request can get.
    pub fn capacity(&self) -> u32 {
        self.gate.policy().capacity()
    }

    /// How many requests may wait in line.
    pub fn max_waiters(&self) -> usize {
        self.gate.max_waiters()
    }

    /// The policy, to inspect its parameters.
    pub fn policy(&self) -> &P {
        self.gate.policy()
    }

    /// A snapshot of the counters: admitted, refused, waited, cancelled,
    /// waiting now.
    pub fn stats(&self) -> RateLimiterStats {
        self.counters.snapshot()
    }
}
