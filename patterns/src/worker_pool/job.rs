//! A job's life, shared between the queued job and its [`JobHandle`].
//!
//! ```text
//!   submit ──▶ Queued ──(a worker takes it)──▶ Running ──▶ Finished(result)
//!                 │                               │
//!                 └── handle.cancel(): Finished(Cancelled), at once
//!                                                 └── handle.cancel(): the job's token is
//!                                                     cancelled; the worker drops the job
//!                                                     at its next turn, then Finished(Cancelled)
//! ```
//!
//! The phase sits behind a mutex held for a few instructions; the handle
//! waits on a weft [`Event`] that is set once, when the phase becomes
//! `Finished`. Exactly one party finishes a job, under that mutex, so every
//! job is counted exactly once in the pool's statistics: the worker (value,
//! panic, or cancellation while running), or the handle (cancellation while
//! queued). A job dropped without reaching a worker at all (the pool and its
//! queue dropped) finishes as cancelled through its [`Completion`]'s `Drop`,
//! so no handle ever waits forever.

use std::cmp::Ordering;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{ready, Context, Poll};

use weft_primitives::Event;

use super::error::JobError;
use crate::shutdown::CancellationToken;

/// A job's number in its pool, in submission order.
///
/// ```
/// async fn number(n: u32) -> u32 {
///     n
/// }
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let pool = weft_patterns::worker_pool::WorkerPool::builder().build().unwrap();
///     let first = pool.submit(number(1)).await.unwrap();
///     let second = pool.submit(number(2)).await.unwrap();
///     assert!(first.id() < second.id());
///     assert_eq!(first.id().to_string(), "job #0");
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JobId(pub(super) u64);

display!(impl[] JobId, |self, f| write!(f, "job #{}", self.0));

/// The pool's counters; every submitted job ends in exactly one of
/// `completed`, `panicked`, `rate_limited` and `cancelled`.
#[derive(Debug, Default)]
pub(super) struct Counters {
    pub(super) submitted: AtomicU64,
    pub(super) running: AtomicUsize,
    pub(super) completed: AtomicU64,
    pub(super) panicked: AtomicU64,
    pub(super) rate_limited: AtomicU64,
    pub(super) cancelled: AtomicU64,
}

impl Counters {
    fn count(&self, result: &Result<impl Sized, JobError>) {
        let counter = match result {
            Ok(_) => &self.completed,
            Err(JobError::Panicked(_)) => &self.panicked,
            Err(JobError::RateLimited(_)) => &self.rate_limited,
            Err(JobError::Cancelled) => &self.cancelled,
        };
        counter.fetch_add(1, AtomicOrdering::Relaxed);
    }
}

enum Phase<T> {
    Queued,
    Running,
    /// `None` once the handle took the result.
    Finished(Option<Result<T, JobError>>),
}

/// What a job and its handle share.
struct JobState<T> {
    phase: Mutex<Phase<T>>,
    /// Set once, right after the phase became `Finished`.
    done: Arc<Event>,
    /// Cancels the job while it runs; a child of the pool's abort token.
    token: CancellationToken,
    counters: Arc<Counters>,
}

impl<T> JobState<T> {
    fn phase(&self) -> MutexGuard<'_, Phase<T>> {
        self.phase.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves the job to `Finished(result)` unless it is there already;
    /// `counted` says whether the pool's statistics include it. The caller
    /// passes the phase locked, so that its own check and this transition
    /// can be one step.
    fn finish(
        &self,
        mut phase: MutexGuard<'_, Phase<T>>,
        result: Result<T, JobError>,
        counted: bool,
    ) {
        match *phase {
            Phase::Finished(_) => return,
            Phase::Running => {
                self.counters.running.fetch_sub(1, AtomicOrdering::Relaxed);
            }
            Phase::Queued => {}
        }
        if counted {
            self.counters.count(&result);
        }
        *phase = Phase::Finished(Some(result));
        drop(phase);
        self.done.set();
    }
}

/// The worker's side of a job: starts it and records its result. Dropped
/// unfinished, it finishes the job as cancelled (uncounted: the job never
/// reached a worker), so that the handle does not wait forever.
pub(super) struct Completion<T> {
    state: Arc<JobState<T>>,
}

impl<T> Completion<T> {
    /// Marks the job running; false if its handle cancelled it while queued.
    pub(super) fn start(&self) -> bool {
        let mut phase = self.state.phase();
        match *phase {
            Phase::Queued => {
                *phase = Phase::Running;
                self.state
                    .counters
                    .running
                    .fetch_add(1, AtomicOrdering::Relaxed);
                true
            }
            Phase::Running | Phase::Finished(_) => false,
        }
    }

    /// The token that cancels this job while it runs.
    pub(super) fn token(&self) -> &CancellationToken {
        &self.state.token
    }

    /// Records the job's result and wakes its handle.
    pub(super) fn finish(self, result: Result<T, JobError>) {
        self.state.finish(self.state.phase(), result, true);
    }
}

impl<T> Drop for Completion<T> {
    fn drop(&mut self) {
        self.state
            .finish(self.state.phase(), Err(JobError::Cancelled), false);
    }
}

/// A job waiting in the pool's queue: served by priority (smaller first),
/// then in submission order.
pub(super) struct QueuedJob<F: Future> {
    pub(super) priority: i32,
    pub(super) id: JobId,
    pub(super) future: F,
    pub(super) completion: Completion<F::Output>,
}

impl<F: Future> QueuedJob<F> {
    /// A new queued job and the handle that will see its result.
    pub(super) fn new(
        priority: i32,
        id: JobId,
        future: F,
        token: CancellationToken,
        counters: Arc<Counters>,
    ) -> (Self, JobHandle<F::Output>) {
        let state = Arc::new(JobState {
            phase: Mutex::new(Phase::Queued),
            done: Arc::new(Event::new()),
            token,
            counters,
        });
        let handle = JobHandle {
            state: state.clone(),
            id,
            wait: None,
        };
        let job = QueuedJob {
            priority,
            id,
            future,
            completion: Completion { state },
        };
        (job, handle)
    }

    /// The caller's job, taken back from a refused submission. Its handle
    /// was never returned, so finishing it as cancelled wakes no one.
    pub(super) fn into_future(self) -> F {
        self.future
    }

    fn key(&self) -> (i32, JobId) {
        (self.priority, self.id)
    }
}

impl<F: Future> PartialEq for QueuedJob<F> {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl<F: Future> Eq for QueuedJob<F> {}

impl<F: Future> PartialOrd for QueuedJob<F> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<F: Future> Ord for QueuedJob<F> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

/// The caller's end of a submitted job: await it for the job's own result.
///
/// Resolves to `Ok(value)` when the job ran to its end (a job that returns a
/// `Result` has its error inside the value), or to a [`JobError`] if it
/// panicked or was cancelled. No polling: the worker wakes the handle when
/// it records the result.
///
/// **Dropping the handle detaches the job**, as dropping a `JoinHandle`
/// detaches a task: the job still runs and its result is dropped. Use
/// [`cancel`](JobHandle::cancel) to stop it.
///
/// ```
/// use weft_patterns::worker_pool::{JobError, WorkerPool};
///
/// async fn work(hang: bool) -> &'static str {
///     if hang {
///         std::future::pending::<()>().await;
///     }
///     "done"
/// }
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let pool = WorkerPool::builder().workers(2).build().unwrap();
///     let job = pool.submit(work(false)).await.unwrap();
///     assert_eq!(job.await, Ok("done"));
///
///     let stuck = pool.submit(work(true)).await.unwrap();
///     stuck.cancel();
///     assert_eq!(stuck.await, Err(JobError::Cancelled));
/// });
/// ```
pub struct JobHandle<T> {
    state: Arc<JobState<T>>,
    id: JobId,
    /// Waits on `state.done`; made at the first poll that has to wait.
    wait: Option<Pin<Box<dyn Future<Output = ()> + Send + Sync>>>,
}

impl<T> JobHandle<T> {
    /// The job's number in its pool.
    pub fn id(&self) -> JobId {
        self.id
    }

    /// Whether the job has finished (with a value, a panic or cancelled).
    pub fn is_finished(&self) -> bool {
        self.state.done.is_set()
    }

    /// Cancels the job. A queued job is finished as cancelled at once (it
    /// keeps its place in the queue until a worker reaches and skips it); a
    /// running job is dropped at its next turn, its destructors run, and
    /// the handle then resolves. Returns false if the job had already
    /// finished (its result stands).
    pub fn cancel(&self) -> bool {
        let phase = self.state.phase();
        match *phase {
            Phase::Queued => {
                self.state.finish(phase, Err(JobError::Cancelled), true);
                true
            }
            Phase::Running => {
                drop(phase);
                self.state.token.cancel();
                true
            }
            Phase::Finished(_) => false,
        }
    }
}

impl<T> Future for JobHandle<T> {
    type Output = Result<T, JobError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            if let Phase::Finished(result) = &mut *this.state.phase() {
                return Poll::Ready(
                    result
                        .take()
                        .expect("JobHandle polled again after it returned the job's result"),
                );
            }
            let wait = this.wait.get_or_insert_with(|| {
                let done = this.state.done.clone();
                Box::pin(async move { done.wait().await })
            });
            ready!(wait.as_mut().poll(cx));
            // `done` is set only after the phase became `Finished`.
            this.wait = None;
        }
    }
}

impl<T> fmt::Debug for JobHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobHandle")
            .field("id", &self.id)
            .field("finished", &self.is_finished())
            .finish()
    }
}
