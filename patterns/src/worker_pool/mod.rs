//! A worker pool: N workers take jobs from a bounded submission queue, each
//! job's caller awaits that job's own result, and one call shuts the pool
//! down with a deadline.
//!
//! # Algorithm
//!
//! ```text
//!   submit(job) ──▶ PriorityQueue (bounded) ──▶ worker 0 ─┐
//!      │ (waits for room,   (priority, then        worker 1 ─┼─▶ JobState: Finished(result) ──▶ JobHandle
//!      │  or fails fast)     submission order)     worker N ─┘        (Event set once)
//!      └──▶ JobHandle ◀─────────────────────────────────────────────────────────────────┘
//! ```
//!
//! * A job is a future. `submit` wraps it with its priority, its number and
//!   a completion (the worker's end of the job's shared state, `job.rs`), puts
//!   it into a weft [`PriorityQueue`] bounded by `queue_capacity`, and
//!   returns a [`JobHandle`]. With the same priority (plain `submit` uses 0)
//!   jobs run in submission order; a smaller priority runs first, as with
//!   asyncio's `PriorityQueue`.
//! * Each worker is a weft task looping on the queue. For each job it moves
//!   the job to `Running`, waits for the rate limit if there is one (a
//!   refusal becomes the job's result), and runs the job in place under the job's cancellation token (a child of
//!   the pool's) with its panics caught; then it records the result, which
//!   wakes the handle, and calls `task_done`. A panic or an error is the
//!   job's result and never ends the worker.
//! * [`shutdown`](WorkerPool::shutdown) shuts the queue down: submissions
//!   fail from then on and hand the job back, submitters blocked on a full
//!   queue get theirs back at once, and the workers drain what is queued and
//!   then exit. When the last one exits it sets an event. If that does not
//!   happen by the deadline, the pool's token is cancelled: each running job
//!   is dropped at its next turn and every job still queued is skipped as
//!   cancelled. The report counts every job the pool ever accepted:
//!   `completed + panicked + rate_limited + cancelled == submitted`.
//!
//! What the tutorial's pool got wrong, and this one does not: workers that
//! poll the queue with a one-second timeout (here they sleep until a job
//! arrives), results kept in a dict and fetched by id (here each caller
//! awaits its own handle), sentinel values to stop the workers (here the
//! queue is shut down), and a shutdown that waits forever for a hung job.
//!
//! # Cancellation guarantee
//!
//! * **A dropped `submit`** while it waits for room in the queue drops its
//!   job with it: nothing was queued, no queue slot is kept, no counter
//!   moved, and the next waiting submitter is served.
//! * **A dropped [`JobHandle`] detaches the job**: it still runs (and is
//!   counted); its result is dropped. This matches a runtime `JoinHandle`,
//!   and suits fire-and-forget jobs. [`JobHandle::cancel`] stops a job: at
//!   once if it is queued (it keeps its queue slot until a worker skips it),
//!   at its next turn if it runs (its destructors run).
//! * **A dropped [`shutdown`](WorkerPool::shutdown)** leaves the pool closed
//!   to new jobs while the queued and running ones go on; no deadline is
//!   enforced until `shutdown` is called again.
//! * **A dropped pool** closes the queue the same way: the workers finish
//!   the queued jobs in the background, then exit. Handles still resolve.
//!
//! ```
//! use std::time::Duration;
//! use weft_patterns::worker_pool::{JobError, WorkerPool};
//! use weft_runtime::sleep;
//!
//! let rt = weft_runtime::Builder::new().start_paused(true).build();
//! rt.block_on(async {
//!     let pool = WorkerPool::builder().workers(2).queue_capacity(8).build().unwrap();
//!     let mut handles = Vec::new();
//!     for n in 1..=4u64 {
//!         handles.push(pool.submit(async move {
//!             sleep(Duration::from_millis(100 * n)).await;
//!             if n == 2 {
//!                 panic!("job 2 failed");
//!             }
//!             n * 10
//!         }).await.unwrap());
//!     }
//!     # let hook = std::panic::take_hook();
//!     # std::panic::set_hook(Box::new(|_| {}));
//!     let report = pool.shutdown(Duration::from_millis(350)).await;
//!     # std::panic::set_hook(hook);
//!     let mut results = Vec::new();
//!     for handle in handles {
//!         results.push(handle.await);
//!     }
//!     // Two workers: jobs 1 and 2 end at 100 and 200 ms; jobs 3 and 4
//!     // would end at 400 and 600 ms, after the 350 ms deadline.
//!     assert_eq!(results[0], Ok(10));
//!     assert_eq!(results[1], Err(JobError::Panicked("job 2 failed".into())));
//!     assert_eq!(results[2], Err(JobError::Cancelled));
//!     assert_eq!(results[3], Err(JobError::Cancelled));
//!     let totals = report.totals;
//!     assert_eq!((totals.completed, totals.panicked, totals.cancelled), (1, 1, 2));
//! });
//! ```

mod error;
mod job;
mod rate_limit;

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use weft_primitives::{Event, PriorityQueue, PutError};
use weft_runtime::time;

pub use error::{InvalidPoolConfig, JobError, PoolClosed, TrySubmitError};
pub use job::{JobHandle, JobId};
pub use rate_limit::{IntervalLimit, RateLimit, Refusal};

use crate::deadline::drain_then_abort;
use crate::shutdown::CancellationToken;
use crate::supervision::catch_panic;
use job::{Counters, QueuedJob};

/// N workers running jobs (futures of type `F`) from a bounded queue; see
/// the [module docs](self) for the algorithm and the guarantees.
///
/// Share it between submitting tasks with an `Rc` or an `Arc` (it is
/// `Send + Sync` when the jobs and their outputs are `Send`). Jobs of
/// different types can share a pool as `Pin<Box<dyn Future<Output = T>>>`.
///
/// ```
/// use weft_patterns::worker_pool::WorkerPool;
///
/// async fn shout(text: String) -> String {
///     text.to_uppercase()
/// }
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let pool = WorkerPool::builder().workers(3).build().unwrap();
///     let handle = pool.submit(shout("hello".into())).await.unwrap();
///     assert_eq!(handle.await.unwrap(), "HELLO");
/// });
/// ```
pub struct WorkerPool<F: Future> {
    shared: Arc<Shared<F>>,
}

/// What the pool and its workers share.
struct Shared<F: Future> {
    queue: PriorityQueue<QueuedJob<F>>,
    /// Cancelled at the shutdown deadline; every job's token is its child.
    abort: CancellationToken,
    counters: Arc<Counters>,
    next_id: AtomicU64,
    workers: usize,
    live_workers: AtomicUsize,
    /// Set when the last worker has exited.
    stopped: Event,
    limiter: Option<Box<dyn RateLimit>>,
}

impl<F: Future + 'static> WorkerPool<F> {
    /// A builder with the defaults: 4 workers, room for 64 queued jobs, no
    /// rate limit.
    pub fn builder() -> WorkerPoolBuilder<F> {
        WorkerPoolBuilder {
            workers: 4,
            queue_capacity: 64,
            limiter: None,
            name: Arc::from("pool"),
            jobs: PhantomData,
        }
    }

    /// Submits a job, waiting for room in the queue while it is full.
    ///
    /// Submitters waiting for room are served first come, first served.
    /// Fails only if the pool is (or gets) shut down, handing the job back.
    /// Dropping the future while it waits drops the job, unqueued.
    pub async fn submit(&self, job: F) -> Result<JobHandle<F::Output>, PoolClosed<F>> {
        self.submit_with_priority(0, job).await
    }

    /// [`submit`](Self::submit) with a priority: smaller runs first (as in
    /// asyncio's `PriorityQueue`); equal priorities run in submission order.
    pub async fn submit_with_priority(
        &self,
        priority: i32,
        job: F,
    ) -> Result<JobHandle<F::Output>, PoolClosed<F>> {
        let (entry, handle) = self.entry(priority, job);
        match self.shared.queue.put(entry).await {
            Ok(()) => Ok(self.accepted(handle)),
            Err(closed) => Err(PoolClosed(closed.into_inner().into_future())),
        }
    }

    /// Submits a job if the queue has room now, without waiting; otherwise
    /// hands it back ([`TrySubmitError::Full`] or [`TrySubmitError::Closed`]).
    pub fn try_submit(&self, job: F) -> Result<JobHandle<F::Output>, TrySubmitError<F>> {
        self.try_submit_with_priority(0, job)
    }

    /// [`try_submit`](Self::try_submit) with a priority, as in
    /// [`submit_with_priority`](Self::submit_with_priority).
    pub fn try_submit_with_priority(
        &self,
        priority: i32,
        job: F,
    ) -> Result<JobHandle<F::Output>, TrySubmitError<F>> {
        let (entry, handle) = self.entry(priority, job);
        match self.shared.queue.put_nowait(entry) {
            Ok(()) => Ok(self.accepted(handle)),
            Err(PutError::Full(entry)) => Err(TrySubmitError::Full(entry.into_future())),
            Err(PutError::ShutDown(entry)) => Err(TrySubmitError::Closed(entry.into_future())),
        }
    }

    fn entry(&self, priority: i32, job: F) -> (QueuedJob<F>, JobHandle<F::Output>) {
        let id = JobId(self.shared.next_id.fetch_add(1, Ordering::Relaxed));
        QueuedJob::new(
            priority,
            id,
            job,
            self.shared.abort.child_token(),
            self.shared.counters.clone(),
        )
    }

    fn accepted(&self, handle: JobHandle<F::Output>) -> JobHandle<F::Output> {
        self.shared
            .counters
            .submitted
            .fetch_add(1, Ordering::Relaxed);
        handle
    }

    /// Waits until every job submitted so far has finished (asyncio's
    /// `queue.join()`); the pool stays open. Cancel-safe.
    pub async fn join(&self) {
        self.shared.queue.join().await;
    }

    /// Shuts the pool down in one call: no new jobs from now on, the queued
    /// and running jobs get until `grace` has passed to finish, then the
    /// rest is cancelled (running jobs dropped at their next turn, queued
    /// ones skipped). Returns once every worker has exited.
    ///
    /// Calling it again (or from several tasks) is fine; each call enforces
    /// its own deadline and reports the pool's totals.
    pub async fn shutdown(&self, grace: Duration) -> PoolReport {
        let started = time::now();
        let shared = &self.shared;
        shared.queue.shutdown(false);
        let deadline_reached = drain_then_abort(
            started,
            grace,
            || shared.stopped.wait(),
            || shared.abort.cancel(),
        )
        .await;
        PoolReport {
            totals: self.stats(),
            deadline_reached,
            elapsed: time::now() - started,
        }
    }

    /// Whether the pool no longer accepts jobs.
    pub fn is_closed(&self) -> bool {
        self.shared.queue.is_shut_down()
    }

    /// A snapshot of the pool's counters.
    ///
    /// ```
    /// let rt = weft_runtime::Builder::new().start_paused(true).build();
    /// rt.block_on(async {
    ///     let pool = weft_patterns::worker_pool::WorkerPool::builder().workers(2).build().unwrap();
    ///     pool.submit(async {}).await.unwrap().await.unwrap();
    ///     let stats = pool.stats();
    ///     assert_eq!((stats.workers, stats.submitted, stats.completed), (2, 1, 1));
    /// });
    /// ```
    pub fn stats(&self) -> PoolStats {
        let counters = &self.shared.counters;
        PoolStats {
            workers: self.shared.workers,
            live_workers: self.shared.live_workers.load(Ordering::Acquire),
            queued: self.shared.queue.qsize(),
            running: counters.running.load(Ordering::Relaxed),
            submitted: counters.submitted.load(Ordering::Relaxed),
            completed: counters.completed.load(Ordering::Relaxed),
            panicked: counters.panicked.load(Ordering::Relaxed),
            rate_limited: counters.rate_limited.load(Ordering::Relaxed),
            cancelled: counters.cancelled.load(Ordering::Relaxed),
        }
    }
}

impl<F: Future> Drop for WorkerPool<F> {
    fn drop(&mut self) {
        // Without it the workers would wait for jobs forever.
        self.shared.queue.shutdown(false);
    }
}

impl<F: Future> fmt::Debug for WorkerPool<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerPool")
            .field("workers", &self.shared.workers)
            .field("queue", &self.shared.queue)
            .field("limiter", &self.shared.limiter)
            .finish()
    }
}

/// Keeps the count of live workers, and sets `stopped` when the last one
/// exits, however it exits.
struct WorkerExit<F: Future + 'static>(Arc<Shared<F>>);

impl<F: Future> Drop for WorkerExit<F> {
    fn drop(&mut self) {
        if self.0.live_workers.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.stopped.set();
        }
    }
}

/// A worker: runs jobs until the queue is shut down and drained.
async fn work<F: Future + 'static>(shared: Arc<Shared<F>>) {
    let exit = WorkerExit(shared);
    let shared = &exit.0;
    while let Ok(job) = shared.queue.get().await {
        run(shared, job).await;
        shared
            .queue
            .task_done()
            .expect("one task_done per job taken from the queue");
    }
}

/// Runs one job to its result: a value, a panic, or a cancellation.
async fn run<F: Future + 'static>(shared: &Shared<F>, job: QueuedJob<F>) {
    let QueuedJob {
        future, completion, ..
    } = job;
    if !completion.start() {
        return; // cancelled through its handle while queued
    }
    let outcome = completion
        .token()
        .clone()
        .run_until_cancelled(async {
            if let Some(limiter) = &shared.limiter {
                if let Err(refusal) = limiter.until_ready().await {
                    return Err(JobError::RateLimited(refusal.to_string()));
                }
            }
            catch_panic(|| future).await.map_err(JobError::Panicked)
        })
        .await;
    completion.finish(outcome.unwrap_or(Err(JobError::Cancelled)));
}

/// Settings for a [`WorkerPool`]; [`build`](Self::build) starts the workers.
///
/// ```
/// use std::time::Duration;
/// use weft_patterns::worker_pool::{IntervalLimit, WorkerPool};
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let pool = WorkerPool::builder()
///         .workers(8)
///         .queue_capacity(100)
///         .rate_limit(IntervalLimit::new(Duration::from_millis(10)))
///         .name("thumbnails")
///         .build()
///         .unwrap();
///     assert_eq!(pool.submit(async { 1 }).await.unwrap().await, Ok(1));
/// });
/// ```
pub struct WorkerPoolBuilder<F> {
    workers: usize,
    queue_capacity: usize,
    limiter: Option<Box<dyn RateLimit>>,
    name: Arc<str>,
    jobs: PhantomData<fn() -> F>,
}

impl<F: Future + 'static> WorkerPoolBuilder<F> {
    setters! {
        /// The number of workers, so of jobs running at once (default 4).
        workers(workers: usize) => workers = workers;
        /// How many jobs may wait in the queue (default 64). When it is full,
        /// `submit` waits and `try_submit` fails.
        queue_capacity(capacity: usize) => queue_capacity = capacity;
        /// A limit on how fast jobs start, awaited by a worker before each job:
        /// an [`IntervalLimit`], a crate
        /// [`RateLimiter`](crate::rate_limit::RateLimiter), or any [`RateLimit`].
        rate_limit(limiter: impl RateLimit + 'static) => limiter = Some(Box::new(limiter));
        /// The prefix of the workers' task names (default `"pool"`): the
        /// runtime's task snapshots show `pool-worker-0`, ...
        name(name: impl Into<Arc<str>>) => name = name.into();
    }

    /// Starts the workers on the current weft runtime.
    ///
    /// # Errors
    ///
    /// [`InvalidPoolConfig`] for zero workers or a zero queue capacity.
    ///
    /// # Panics
    ///
    /// Outside a weft runtime.
    pub fn build(self) -> Result<WorkerPool<F>, InvalidPoolConfig> {
        if self.workers == 0 {
            return Err(InvalidPoolConfig::NoWorkers);
        }
        if self.queue_capacity == 0 {
            return Err(InvalidPoolConfig::ZeroCapacity);
        }
        let shared = Arc::new(Shared {
            queue: PriorityQueue::new(self.queue_capacity),
            abort: CancellationToken::new(),
            counters: Arc::new(Counters::default()),
            next_id: AtomicU64::new(0),
            workers: self.workers,
            live_workers: AtomicUsize::new(self.workers),
            stopped: Event::new(),
            limiter: self.limiter,
        });
        for index in 0..self.workers {
            let name = format!("{}-worker-{index}", self.name);
            // Detached on purpose: a worker ends when the queue is shut down.
            drop(weft_runtime::spawn_named(name, work(shared.clone())));
        }
        Ok(WorkerPool { shared })
    }
}

impl<F> fmt::Debug for WorkerPoolBuilder<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerPoolBuilder")
            .field("workers", &self.workers)
            .field("queue_capacity", &self.queue_capacity)
            .field("limiter", &self.limiter)
            .field("name", &self.name)
            .finish()
    }
}

/// A snapshot of a pool's counters, from [`WorkerPool::stats`]. Every
/// accepted job ends in exactly one of `completed`, `panicked`,
/// `rate_limited` and `cancelled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Workers the pool was built with.
    pub workers: usize,
    /// Workers that have not exited yet (all of them until shutdown).
    pub live_workers: usize,
    /// Jobs in the queue, including cancelled ones not yet skipped.
    pub queued: usize,
    /// Jobs a worker has started (or is holding for the rate limit).
    pub running: usize,
    /// Jobs accepted so far.
    pub submitted: u64,
    /// Jobs that ran to their end, whatever value they returned.
    pub completed: u64,
    /// Jobs that panicked.
    pub panicked: u64,
    /// Jobs the rate limiter refused.
    pub rate_limited: u64,
    /// Jobs cancelled through their handle or by the shutdown deadline.
    pub cancelled: u64,
}

/// What [`WorkerPool::shutdown`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolReport {
    /// The pool's counters once every worker had exited: what happened to
    /// every job it ever accepted.
    pub totals: PoolStats,
    /// Whether the grace period ran out (so the deadline cancelled work).
    pub deadline_reached: bool,
    /// Time from the start of this call until the last worker exited.
    pub elapsed: Duration,
}

display!(impl[] PoolReport, |self, f| {
    let totals = &self.totals;
    write!(
        f,
        "{} job(s): {} completed, {} panicked, {} rate-limited, {} cancelled",
        totals.submitted,
        totals.completed,
        totals.panicked,
        totals.rate_limited,
        totals.cancelled,
    )?;
    if self.deadline_reached {
        f.write_str(" (deadline reached)")?;
    }
    write!(f, " in {:?}", self.elapsed)
});
