//! Rate limiting inside the pool: a small trait, [`RateLimit`], that a
//! worker awaits before it starts each job, implemented by a simple
//! [`IntervalLimit`] and by the crate's full
//! [`RateLimiter`](crate::rate_limit::RateLimiter) (token bucket, GCRA,
//! sliding windows), which takes one token per job.
//!
//! A limiter may also refuse a job (the crate's limiters do when their line
//! of waiters is full): the job then fails with
//! [`JobError::RateLimited`](super::JobError::RateLimited), unrun, and the
//! worker goes on.
//!
//! # `IntervalLimit`'s algorithm
//!
//! Starts are spaced at least `period` apart, by reservation: a caller
//! takes the next free start time under a mutex held for a few
//! instructions, moves the reservation on by one period, and sleeps until
//! its own time without holding anything.
//!
//! ```text
//!   period = 100 ms, now = 0      reservations:  A → 0 ms, B → 100 ms, C → 200 ms
//!   A runs at once; B and C sleep until their instants, in the order they asked
//! ```
//!
//! So waiters are served first come, first served, each wakes at its own
//! instant (no thundering herd), and nobody sleeps under a lock.
//!
//! # Cancellation guarantee
//!
//! Dropping [`RateLimit::until_ready`]'s future before its instant gives
//! the reservation back if it was the latest one (the next caller gets that
//! instant); a reservation with later ones behind it stays used, leaving a
//! gap of one period rather than moving the others.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use weft_runtime::{sleep_until, time};

use crate::rate_limit::{RateLimiter, RatePolicy};

/// Why a limiter refused a job.
pub type Refusal = Box<dyn Error + Send + Sync>;

/// Something a worker awaits before it starts a job: the pool's hook for
/// rate limiting.
///
/// The future must be cancel-safe: the pool drops it when the job it waits
/// for is cancelled.
///
/// ```
/// use std::future::Future;
/// use std::pin::Pin;
/// use weft_patterns::worker_pool::{RateLimit, Refusal};
///
/// /// Lets every job through at once (for a test, say).
/// #[derive(Debug)]
/// struct Unlimited;
///
/// impl RateLimit for Unlimited {
///     fn until_ready(&self) -> Pin<Box<dyn Future<Output = Result<(), Refusal>> + '_>> {
///         Box::pin(std::future::ready(Ok(())))
///     }
/// }
/// ```
///
/// [`Refusal`]: super::Refusal
pub trait RateLimit: fmt::Debug + Send + Sync {
    /// Waits until one more job may start, or refuses it.
    fn until_ready(&self) -> Pin<Box<dyn Future<Output = Result<(), Refusal>> + '_>>;
}

/// One token per job, waiting in the limiter's fair line.
///
/// ```
/// use std::time::Duration;
/// use weft_patterns::rate_limit::{Gcra, Quota, RateLimiter};
/// use weft_patterns::worker_pool::WorkerPool;
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let pool = WorkerPool::builder()
///         .workers(4)
///         // Ten jobs a second, no burst: one start every 100 ms.
///         .rate_limit(RateLimiter::new(Gcra::new(Quota::per_second(10).allow_burst(1))))
///         .build()
///         .unwrap();
///     let start = weft_runtime::time::now();
///     let mut jobs = Vec::new();
///     for _ in 0..4 {
///         jobs.push(pool.submit(async { weft_runtime::time::now() }).await.unwrap());
///     }
///     let last = jobs.pop().unwrap().await.unwrap();
///     assert_eq!(last - start, Duration::from_millis(300));
/// });
/// ```
impl<P: RatePolicy + Send + Sync> RateLimit for RateLimiter<P> {
    fn until_ready(&self) -> Pin<Box<dyn Future<Output = Result<(), Refusal>> + '_>> {
        Box::pin(async move { self.acquire(1).await.map_err(Refusal::from) })
    }
}

/// Starts jobs at least `period` apart (the first one at once).
///
/// ```
/// use std::time::Duration;
/// use weft_patterns::worker_pool::{IntervalLimit, WorkerPool};
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let pool = WorkerPool::builder()
///         .workers(4)
///         .rate_limit(IntervalLimit::new(Duration::from_millis(100)))
///         .build()
///         .unwrap();
///     let start = weft_runtime::time::now();
///     let mut jobs = Vec::new();
///     for _ in 0..5 {
///         jobs.push(pool.submit(async { weft_runtime::time::now() }).await.unwrap());
///     }
///     let mut started = Vec::new();
///     for job in jobs {
///         started.push((job.await.unwrap() - start).as_millis());
///     }
///     assert_eq!(started, [0, 100, 200, 300, 400]);
/// });
/// ```
pub struct IntervalLimit {
    period: Duration,
    /// The earliest instant the next reservation may have.
    next: Mutex<Option<Instant>>,
}

impl IntervalLimit {
    /// At most one start per `period`.
    pub fn new(period: Duration) -> Self {
        IntervalLimit {
            period,
            next: Mutex::new(None),
        }
    }

    /// The spacing between two starts.
    pub fn period(&self) -> Duration {
        self.period
    }

    fn next(&self) -> MutexGuard<'_, Option<Instant>> {
        self.next.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the next free instant and moves the reservation on.
    fn reserve(&self) -> Instant {
        let mut next = self.next();
        let now = time::now();
        let slot = next.map_or(now, |next| next.max(now));
        *next = Some(slot + self.period);
        slot
    }
}

/// Gives an unused reservation back when dropped, if no later one exists.
struct Reservation<'a> {
    limit: &'a IntervalLimit,
    slot: Instant,
    used: bool,
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if self.used {
            return;
        }
        let mut next = self.limit.next();
        if *next == Some(self.slot + self.limit.period) {
            *next = Some(self.slot);
        }
    }
}

impl RateLimit for IntervalLimit {
    fn until_ready(&self) -> Pin<Box<dyn Future<Output = Result<(), Refusal>> + '_>> {
        Box::pin(async move {
            let mut reservation = Reservation {
                limit: self,
                slot: self.reserve(),
                used: false,
            };
            sleep_until(reservation.slot).await;
            reservation.used = true;
            Ok(())
        })
    }
}

impl fmt::Debug for IntervalLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntervalLimit")
            .field("period", &self.period)
            .finish()
    }
}
