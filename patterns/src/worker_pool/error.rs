//! The worker pool's errors. Every error of a submission hands the job back
//! unrun; a job's own failure is its result, a [`JobError`].

use std::error::Error;
use std::fmt;

/// Why a job gave no value.
///
/// ```
/// use weft_patterns::worker_pool::JobError;
///
/// assert_eq!(JobError::Cancelled.to_string(), "the job was cancelled");
/// assert_eq!(JobError::Panicked("boom".into()).to_string(), "the job panicked: boom");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobError {
    /// Cancelled through its handle, or by the pool's shutdown deadline,
    /// before it finished.
    Cancelled,
    /// The job panicked, with this message; its worker lives on.
    Panicked(String),
    /// The pool's rate limiter refused the job, for this reason; it did not
    /// run.
    RateLimited(String),
}

display!(impl[] JobError, |self, f| match self {
    JobError::Cancelled => f.write_str("the job was cancelled"),
    JobError::Panicked(message) => write!(f, "the job panicked: {message}"),
    JobError::RateLimited(reason) => write!(f, "the rate limiter refused the job: {reason}"),
});

impl Error for JobError {}

work_refused! {
    /// [`submit`](super::WorkerPool::submit) found the pool shut down; the job
    /// comes back unrun.
    ///
    /// ```
    /// let rt = weft_runtime::Builder::new().start_paused(true).build();
    /// rt.block_on(async {
    ///     let pool = weft_patterns::worker_pool::WorkerPool::builder().build().unwrap();
    ///     pool.shutdown(std::time::Duration::ZERO).await;
    ///     let closed = pool.submit(async { 7 }).await.unwrap_err();
    ///     assert_eq!(closed.to_string(), "the worker pool is shut down");
    ///     assert_eq!(closed.into_inner().await, 7);
    /// });
    /// ```
    PoolClosed,
    "the worker pool is shut down"
}

/// Why [`try_submit`](super::WorkerPool::try_submit) did not take a job;
/// either way the job comes back unrun.
///
/// ```
/// use weft_patterns::worker_pool::{TrySubmitError, WorkerPool};
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let pool = WorkerPool::builder().workers(1).queue_capacity(1).build().unwrap();
///     let _running = pool.try_submit(std::future::pending::<u8>()).unwrap();
///     weft_runtime::yield_now().await; // the worker takes it
///     let _queued = pool.try_submit(std::future::pending()).unwrap();
///     match pool.try_submit(std::future::pending()) {
///         Err(TrySubmitError::Full(_job)) => {} // the queue holds one job
///         other => panic!("expected Full, got {other:?}"),
///     }
/// });
/// ```
pub enum TrySubmitError<F> {
    /// The submission queue is full (or submitters are already waiting for
    /// room, and a newcomer does not overtake them).
    Full(F),
    /// The pool is shut down.
    Closed(F),
}

impl<F> TrySubmitError<F> {
    /// The job that was not submitted.
    pub fn into_inner(self) -> F {
        match self {
            TrySubmitError::Full(job) | TrySubmitError::Closed(job) => job,
        }
    }
}

impl<F> fmt::Debug for TrySubmitError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySubmitError::Full(_) => f.write_str("Full(..)"),
            TrySubmitError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

display!(impl[F] TrySubmitError<F>, |self, f| match self {
    TrySubmitError::Full(_) => f.write_str("the worker pool's queue is full"),
    TrySubmitError::Closed(_) => f.write_str("the worker pool is shut down"),
});

impl<F> Error for TrySubmitError<F> {}

/// A [`WorkerPoolBuilder`](super::WorkerPoolBuilder) setting that cannot
/// work.
///
/// ```
/// use weft_patterns::worker_pool::{InvalidPoolConfig, WorkerPool};
///
/// let error = WorkerPool::<std::future::Ready<()>>::builder().workers(0).build().unwrap_err();
/// assert_eq!(error, InvalidPoolConfig::NoWorkers);
/// assert_eq!(error.to_string(), "a worker pool needs at least one worker");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidPoolConfig {
    /// `workers(0)`: no job would ever run.
    NoWorkers,
    /// `queue_capacity(0)`: the queue must be bounded, or it hides overload.
    ZeroCapacity,
}

display!(impl[] InvalidPoolConfig, |self, f| {
    f.write_str(match self {
        InvalidPoolConfig::NoWorkers => "a worker pool needs at least one worker",
        InvalidPoolConfig::ZeroCapacity => {
            "the submission queue needs room for at least one job (it is bounded on purpose)"
        }
    })
});

impl Error for InvalidPoolConfig {}
