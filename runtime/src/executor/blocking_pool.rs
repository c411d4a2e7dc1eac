//! The blocking pool behind `spawn_blocking` (asyncio's `to_thread`).
//!
//! Blocking work must not run on the runtime's thread, or every task stalls.
//! The pool hands it to a bounded set of OS threads:
//!
//! ```text
//!  spawn_blocking(f) ──▶ job queue ──▶ idle thread? wake it
//!                                  └─▶ fewer than max threads? start one
//!                                  └─▶ otherwise the job waits its turn
//!  thread: run job, leave the result in its BlockingJoin (a remote wake),
//!          take the next job; idle for `keep_alive` with no job: exit
//! ```
//!
//! A job's result travels back through the same rendezvous as a task's
//! (`rendezvous.rs`), kept in a small `Arc` the job shares with its
//! handle ([`BlockingJoin`]); the waker it wakes is a task waker called
//! from another thread, so it reaches the runtime through the remote queue
//! and `mio::Waker`.
//!
//! Aborting a job that has not started skips it; a running job cannot be
//! stopped. When the runtime shuts down, queued jobs are dropped (their
//! handles report cancelled) and threads exit after their current job;
//! they are not joined, so a stuck job cannot hang the shutdown.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

use super::facade::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use super::facade::{thread, ByteLock, Condvar, Mutex};
use super::join_error::JoinError;
use super::rendezvous::{Rendezvous, Waiter};
use super::shared::Shared;
use super::task_ref::TaskId;

type Job = Box<dyn FnOnce() + Send>;

thread_local! {
    /// On a blocking thread, the runtime whose pool it belongs to: how a job
    /// finds the runtime it runs for (`Spawner::current`).
    static POOL_OWNER: std::cell::RefCell<Option<Arc<Shared>>> = const { std::cell::RefCell::new(None) };
}

/// The runtime this thread is a blocking thread of, if it is one.
pub(crate) fn pool_owner() -> Option<Arc<Shared>> {
    POOL_OWNER.with_borrow(Option::clone)
}

/// A runtime's pool of blocking threads.
pub(crate) struct BlockingPool {
    inner: Arc<PoolInner>,
    /// Jobs ever spawned (a simulation's check that no code ran on
    /// another thread).
    #[cfg(feature = "sim")]
    spawned_total: std::cell::Cell<u64>,
}

struct PoolInner {
    state: Mutex<PoolState>,
    work_ready: Condvar,
    max_threads: usize,
    keep_alive: Duration,
    /// Jobs queued or running. Read by the paused clock, which must not
    /// jump while a job's result may still arrive.
    in_flight: AtomicUsize,
    /// To unpark the runtime when `in_flight` drops (see `Core::park`).
    runtime: Arc<Shared>,
}

struct PoolState {
    queue: VecDeque<Job>,
    threads: usize,
    idle: usize,
    shutdown: bool,
}

/// What a `spawn_blocking` job shares with its `JoinHandle`, in one
/// allocation: the rendezvous' three fields, and the outcome the job leaves.
pub(crate) struct BlockingJoin<T> {
    progress: AtomicU8,
    lock: ByteLock,
    waiter: Waiter,
    /// A lock of its own, so that this stays safe code; the rendezvous is
    /// shared with tasks, whose outcome sits outside any lock, and a
    /// blocking job costs a thread hand-off anyway.
    outcome: Mutex<Option<Result<T, JoinError>>>,
    /// Set by `JoinHandle::abort`: a job that has not started is skipped.
    skip: AtomicBool,
    id: TaskId,
}

impl<T> BlockingJoin<T> {
    fn new(id: TaskId) -> Self {
        Self {
            progress: AtomicU8::new(0),
            lock: ByteLock::new(),
            waiter: Waiter::new(),
            outcome: Mutex::new(None),
            skip: AtomicBool::new(false),
            id,
        }
    }

    /// The job's id, unique within its runtime.
    pub(crate) fn id(&self) -> TaskId {
        self.id
    }

    /// Where the job hands its outcome over to its handle.
    pub(crate) fn rendezvous(&self) -> Rendezvous<'_> {
        Rendezvous::new(&self.progress, &self.lock, &self.waiter)
    }

    /// Records the outcome (the first one wins) and wakes the awaiting
    /// handle; with no handle left, drops the outcome right here.
    fn complete(&self, outcome: Result<T, JoinError>) {
        self.rendezvous()
            .complete(outcome, |outcome| *self.outcome.lock() = Some(outcome));
    }

    /// Moves the stored outcome out, for the handle: only as the `take` of
    /// this job's rendezvous, which calls it once, after the job finished.
    pub(crate) fn take(&self) -> Result<T, JoinError> {
        self.outcome
            .lock()
            .take()
            .expect("the rendezvous takes a stored outcome, once")
    }

    /// `JoinHandle::abort`: a job that has not started will not run.
    pub(crate) fn skip(&self) {
        self.skip.store(true, Ordering::Release);
    }

    fn is_skipped(&self) -> bool {
        self.skip.load(Ordering::Acquire)
    }
}

/// Reports "cancelled" when a job is dropped without running (aborted, or
/// the pool shut down); a no-op after the job recorded its outcome, since
/// the rendezvous keeps the first outcome.
struct CancelledOnDrop<T>(Arc<BlockingJoin<T>>);

impl<T> Drop for CancelledOnDrop<T> {
    fn drop(&mut self) {
        self.0.complete(Err(JoinError::cancelled(self.0.id)));
    }
}

impl BlockingPool {
    pub(crate) fn new(max_threads: usize, keep_alive: Duration, runtime: Arc<Shared>) -> Self {
        Self {
            inner: Arc::new(PoolInner {
                state: Mutex::new(PoolState {
                    queue: VecDeque::new(),
                    threads: 0,
                    idle: 0,
                    shutdown: false,
                }),
                work_ready: Condvar::new(),
                max_threads,
                keep_alive,
                in_flight: AtomicUsize::new(0),
                runtime,
            }),
            #[cfg(feature = "sim")]
            spawned_total: std::cell::Cell::new(0),
        }
    }

    /// Queues `f` as the job `id`; its handle awaits the returned share.
    pub(crate) fn spawn<F, R>(&self, id: TaskId, f: F) -> Arc<BlockingJoin<R>>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let join = Arc::new(BlockingJoin::new(id));
        // Dropped unrun (aborted, or the pool shut down): the handle hears
        // "cancelled" from the guard.
        let report = CancelledOnDrop(join.clone());
        let job: Job = Box::new(move || {
            if report.0.is_skipped() {
                return;
            }
            let outcome = catch_unwind(AssertUnwindSafe(f))
                .map_err(|payload| JoinError::panicked(id, payload));
            report.0.complete(outcome);
        });
        self.inner.in_flight.fetch_add(1, Ordering::SeqCst);
        #[cfg(feature = "sim")]
        self.spawned_total.set(self.spawned_total.get() + 1);
        let start_thread = {
            let mut state = self.inner.state.lock();
            state.queue.push_back(job);
            if state.idle > 0 {
                self.inner.work_ready.notify_one();
                false
            } else if state.threads < self.inner.max_threads {
                state.threads += 1;
                true
            } else {
                false
            }
        };
        if start_thread {
            let inner = self.inner.clone();
            let started = thread::Builder::new()
                .name("weft-blocking".into())
                .spawn(move || inner.work());
            if let Err(e) = started {
                // The job stays queued for the threads that exist; with none,
                // it is dropped and its handle reports cancelled.
                eprintln!("weft: cannot start a blocking thread: {e}");
                let orphaned = {
                    let mut state = self.inner.state.lock();
                    state.threads -= 1;
                    if state.threads == 0 {
                        std::mem::take(&mut state.queue)
                    } else {
                        VecDeque::new()
                    }
                };
                let n = orphaned.len();
                drop(orphaned);
                self.inner.finish(n);
            }
        }
        join
    }

    /// Jobs queued or running.
    pub(crate) fn in_flight(&self) -> usize {
        self.inner.in_flight.load(Ordering::SeqCst)
    }

    /// Jobs spawned since the runtime started (a run that spawned none
    /// ran no code on another thread).
    #[cfg(feature = "sim")]
    pub(crate) fn spawned_total(&self) -> u64 {
        self.spawned_total.get()
    }

    /// Threads alive right now.
    pub(crate) fn threads(&self) -> usize {
        self.inner.state.lock().threads
    }

    /// Drops queued jobs and tells idle threads to exit.
    pub(crate) fn shutdown(&self) {
        let dropped = {
            let mut state = self.inner.state.lock();
            state.shutdown = true;
            std::mem::take(&mut state.queue)
        };
        self.inner.work_ready.notify_all();
        let n = dropped.len();
        drop(dropped);
        self.inner.finish(n);
    }
}

impl PoolInner {
    /// One blocking thread's life: take jobs until idle too long or shut down.
    fn work(&self) {
        // Not in loom models, whose threads share std's thread-locals.
        #[cfg(not(loom))]
        POOL_OWNER.set(Some(self.runtime.clone()));
        let mut state = self.state.lock();
        loop {
            if let Some(job) = state.queue.pop_front() {
                drop(state);
                job();
                self.finish(1);
                state = self.state.lock();
                continue;
            }
            if state.shutdown {
                break;
            }
            state.idle += 1;
            let timed_out;
            (state, timed_out) = self.work_ready.wait_timeout(state, self.keep_alive);
            state.idle -= 1;
            if timed_out && state.queue.is_empty() {
                break;
            }
        }
        state.threads -= 1;
    }

    /// `n` jobs are done (run or dropped). The count drops *after* the
    /// result was delivered, then the runtime is unparked so that a paused
    /// clock re-checks `in_flight`.
    fn finish(&self, n: usize) {
        if n > 0 {
            self.in_flight.fetch_sub(n, Ordering::SeqCst);
            self.runtime.unpark_if_parked();
        }
    }
}
