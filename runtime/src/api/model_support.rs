//! Pieces of a runtime without its event loop, for the loom models of the
//! hand-over between a task and its `JoinHandle`
//! (`loom-tests/tests/join_handoff.rs`). Built only with `cfg(loom)`.
//!
//! * [`stepped_task`]: a real task block with a real `JoinHandle`, whose
//!   scheduler the model's thread plays: [`SteppedTask::turn`] does what
//!   the event loop does with the task's run-queue entries, and dropping
//!   the `SteppedTask` does what dropping the task's slab slot does.
//! * [`ModelPool`]: a real blocking pool, whose threads are loom's.
//!
//! No runtime runs on the model's threads, so every wake takes the remote
//! path, and the remote queue is never parked (its `mio::Waker` is never
//! called).

use std::sync::Arc;
use std::task::Context;
use std::time::Duration;

use super::join_handle::JoinHandle;
use crate::executor::blocking_pool::BlockingPool;
use crate::executor::shared::Shared;
use crate::executor::task_block::TaskPtr;
use crate::executor::wake_flags::PollStart;

/// The runtime's side of a task made by [`stepped_task`].
pub struct SteppedTask {
    /// The reference the runtime's slab slot would hold.
    task: TaskPtr,
    shared: Arc<Shared>,
    /// The registry the remote queue's waker belongs to.
    _poll: mio::Poll,
}

/// Spawns `future` as a task that only [`SteppedTask::turn`] runs, queued
/// to run as a spawned task is; returns the runtime's side and the handle.
///
/// # Panics
///
/// If the OS refuses an epoll instance or an eventfd.
pub fn stepped_task<F>(future: F) -> (SteppedTask, JoinHandle<F::Output>)
where
    F: std::future::Future + 'static,
{
    let (shared, poll) = shared_state();
    let task = TaskPtr::allocate(future, shared.next_task_id(), shared.clone());
    task.header().schedule();
    // SAFETY: the block was allocated for `future`, whose output is `F::Output`.
    let handle = unsafe { JoinHandle::for_task(task.clone()) };
    let runtime_side = SteppedTask {
        task,
        shared,
        _poll: poll,
    };
    (runtime_side, handle)
}

impl SteppedTask {
    /// One turn of the event loop: takes the task's run-queue entries queued
    /// since the last turn and, for each, polls the task or drops its future
    /// if it was aborted, as the scheduler does. Returns `true` once the task
    /// has finished; call it no more after that (the scheduler would have
    /// freed the task's slot).
    pub fn turn(&self) -> bool {
        let mut entries = Vec::new();
        self.shared.remote.drain_into(&mut entries);
        for _ in entries {
            match self.task.header().flags.start_poll() {
                PollStart::Skip => {}
                PollStart::Abort => {
                    // SAFETY: on the thread that plays the runtime, not
                    // inside a poll of this task.
                    unsafe { self.task.cancel() };
                    return true;
                }
                PollStart::Poll => {
                    // SAFETY: `self.task` outlives this waker.
                    let waker = unsafe { self.task.borrowed_waker() };
                    // SAFETY: as for `cancel`; polls are never nested.
                    let poll = unsafe { self.task.poll(&mut Context::from_waker(&waker)) };
                    if poll.is_ready() {
                        return true;
                    }
                }
            }
        }
        false
    }
}

impl std::fmt::Debug for SteppedTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SteppedTask")
            .field("id", &self.task.header().id)
            .finish_non_exhaustive()
    }
}

impl Drop for SteppedTask {
    fn drop(&mut self) {
        // SAFETY: as in `turn`. This is what dropping a slab slot does: an
        // unfinished task is cancelled, a finished one left as it is.
        unsafe { self.task.cancel() }
    }
}

/// A runtime's `Shared`, and the registry its waker belongs to.
fn shared_state() -> (Arc<Shared>, mio::Poll) {
    let poll = mio::Poll::new().expect("an epoll instance");
    let waker = mio::Waker::new(poll.registry(), mio::Token(0)).expect("an eventfd");
    (Arc::new(Shared::new(waker)), poll)
}

/// A runtime's blocking pool on its own; dropping it shuts the pool down,
/// as dropping the runtime does.
pub struct ModelPool {
    pool: BlockingPool,
    /// The runtime state the pool reports to, which also numbers jobs.
    shared: Arc<Shared>,
    /// The registry the pool's unparker belongs to.
    _poll: mio::Poll,
}

impl ModelPool {
    /// A pool of at most `max_threads` threads. Loom's timed waits never
    /// time out, so idle threads leave only when the pool shuts down.
    ///
    /// # Panics
    ///
    /// If the OS refuses an epoll instance or an eventfd.
    pub fn new(max_threads: usize) -> Self {
        let (shared, poll) = shared_state();
        Self {
            pool: BlockingPool::new(max_threads, Duration::from_secs(10), shared.clone()),
            shared,
            _poll: poll,
        }
    }

    /// `spawn_blocking` on this pool.
    pub fn spawn<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let id = self.shared.next_task_id();
        JoinHandle::for_blocking(self.pool.spawn(id, f))
    }

    /// Jobs queued or running.
    pub fn in_flight(&self) -> usize {
        self.pool.in_flight()
    }
}

impl std::fmt::Debug for ModelPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelPool")
            .field("in_flight", &self.in_flight())
            .finish_non_exhaustive()
    }
}

impl Drop for ModelPool {
    fn drop(&mut self) {
        self.pool.shutdown();
    }
}
