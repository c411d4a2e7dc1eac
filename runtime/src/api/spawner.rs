//! [`Spawner`]: feed a runtime from any thread.
//!
//! A runtime's tasks live on its thread, in a slab that thread alone
//! touches; what other threads may touch is its `Shared` (the remote queue
//! and the task id counter), and a `Spawner` is an `Arc` of that. So a
//! spawn from another thread is done in two halves:
//!
//! ```text
//!   any thread                               the runtime's thread
//!   ──────────                               ────────────────────
//!   allocate the task block (id from Shared)
//!   mark it queued (a remote wake)
//!   push it on the remote queue ── mio::Waker, only if the runtime sleeps
//!   return its JoinHandle                    drain the queue, in one batch:
//!                                            give each task a slab slot,
//!                                            queue it, poll it
//! ```
//!
//! This is the very path a waker called on another thread takes (see
//! `executor/remote.rs`), so a parked runtime wakes at once, a burst of
//! spawns costs one wake-up, and a host loop waiting on the runtime's fd
//! sees it become readable.
//!
//! **Why it is safe.** The future is `Send`, so its block may be built on
//! one thread and polled on another. [`Spawner::spawn_local`] sends the
//! `Send` closure instead, inside an async block that calls it on its first
//! poll: until then the block holds the closure only, and from then on it
//! never leaves the runtime's thread. The [`JoinHandle`] is the usual one:
//! `Send` when the output is, and its rendezvous with the task is built for
//! a handle on another thread (`loom-tests/tests/join_handoff.rs`).
//!
//! **At shutdown** the runtime closes its remote queue, then drops the
//! futures of the tasks still in it, on its own thread; their handles report
//! cancelled. A spawn that finds the queue closed drops its future on the
//! calling thread and returns a [`SpawnError`]: nothing waits for a runtime
//! that is gone.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use super::join_handle::JoinHandle;
use crate::executor::blocking_pool;
use crate::executor::shared::Shared;
use crate::executor::task_block::TaskPtr;
use crate::scheduler::context;

/// A `Send + Sync + Clone` handle that spawns tasks onto one runtime from
/// any thread: a plain thread, a `spawn_blocking` job, another runtime, a
/// tokio task. The tasks still run on the runtime's thread.
///
/// ```
/// let rt = weft_runtime::Runtime::new();
/// let spawner = rt.spawner();
/// let handle = std::thread::spawn(move || spawner.spawn(async { 6 * 7 }).unwrap())
///     .join()
///     .unwrap();
/// assert_eq!(rt.block_on(handle).unwrap(), 42);
/// ```
#[derive(Clone)]
pub struct Spawner {
    shared: Arc<Shared>,
}

/// The runtime a [`Spawner`] feeds has shut down; the future, or the
/// closure, was dropped.
///
/// ```
/// let spawner = weft_runtime::Runtime::new().spawner(); // the runtime is dropped
/// let err = spawner.spawn(async {}).unwrap_err();
/// assert_eq!(err.to_string(), "cannot spawn: the weft runtime has shut down");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpawnError(());

impl Spawner {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// The runtime this thread runs, or runs blocking jobs for.
    ///
    /// ```
    /// weft_runtime::run(async {
    ///     let job = weft_runtime::spawn_blocking(|| {
    ///         weft_runtime::Spawner::current().spawn(async { "from a job" }).unwrap()
    ///     });
    ///     assert_eq!(job.await.unwrap().await.unwrap(), "from a job");
    /// });
    /// ```
    ///
    /// # Panics
    ///
    /// On any other thread; see [`Spawner::try_current`].
    pub fn current() -> Self {
        Self::try_current().expect(
            "Spawner::current needs a weft runtime: call it on a runtime's thread or in a \
             spawn_blocking job, or take one with Runtime::spawner and move it here",
        )
    }

    /// The runtime this thread runs, or runs blocking jobs for, if any.
    ///
    /// ```
    /// assert!(weft_runtime::Spawner::try_current().is_none());
    /// weft_runtime::run(async { assert!(weft_runtime::Spawner::try_current().is_some()) });
    /// ```
    pub fn try_current() -> Option<Self> {
        context::try_current()
            .map(|core| core.shared().clone())
            .or_else(blocking_pool::pool_owner)
            .map(Self::new)
    }

    /// Spawns `fut` onto the runtime, from any thread. The handle may be
    /// awaited or aborted anywhere. A future that holds values tied to the
    /// runtime's thread is not `Send`: build it there with
    /// [`spawn_local`](Self::spawn_local).
    ///
    /// ```
    /// let rt = weft_runtime::Runtime::new();
    /// let spawner = rt.spawner();
    /// let handle = spawner.spawn(async { "hello" }).unwrap();
    /// assert_eq!(rt.block_on(handle).unwrap(), "hello");
    /// ```
    ///
    /// # Errors
    ///
    /// [`SpawnError`] if the runtime has shut down; `fut` is dropped.
    pub fn spawn<F>(&self, fut: F) -> Result<JoinHandle<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        // SAFETY: `fut` is `Send`.
        unsafe { self.send(fut) }
    }

    /// Sends `make` to the runtime's thread, which calls it there and runs
    /// the future it builds: so the future need not be `Send`.
    ///
    /// ```
    /// use std::rc::Rc;
    ///
    /// let rt = weft_runtime::Runtime::new();
    /// let spawner = rt.spawner();
    /// let handle = std::thread::spawn(move || {
    ///     spawner
    ///         .spawn_local(|| {
    ///             let local = Rc::new(21); // not Send: made on the runtime's thread
    ///             async move { *local * 2 }
    ///         })
    ///         .unwrap()
    /// })
    /// .join()
    /// .unwrap();
    /// assert_eq!(rt.block_on(handle).unwrap(), 42);
    /// ```
    ///
    /// # Errors
    ///
    /// [`SpawnError`] if the runtime has shut down; `make` is dropped.
    pub fn spawn_local<M, F>(&self, make: M) -> Result<JoinHandle<F::Output>, SpawnError>
    where
        M: FnOnce() -> F + Send + 'static,
        F: Future + 'static,
        F::Output: Send + 'static,
    {
        // SAFETY: until its first poll, on the runtime's thread, the async
        // block holds nothing but `make`, which is `Send`.
        unsafe { self.send(async move { make().await }) }
    }

    /// # Safety
    ///
    /// `fut` may be moved to, and dropped on, another thread before its
    /// first poll (as [`TaskPtr::send_to_runtime`] requires).
    unsafe fn send<F: Future + 'static>(
        &self,
        fut: F,
    ) -> Result<JoinHandle<F::Output>, SpawnError> {
        let task = TaskPtr::allocate(fut, self.shared.next_task_id(), self.shared.clone());
        // SAFETY: the caller's contract; the task is new.
        if unsafe { task.send_to_runtime() } {
            // SAFETY: the block was allocated for `fut`, whose output is `F::Output`.
            return Ok(unsafe { JoinHandle::for_task(task) });
        }
        // SAFETY: the runtime never saw the task, so this thread is the only
        // one to touch its future, which may be dropped here (as above).
        unsafe { task.cancel() };
        Err(SpawnError(()))
    }
}

impl fmt::Debug for Spawner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Spawner").finish_non_exhaustive()
    }
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("cannot spawn: the weft runtime has shut down")
    }
}

impl std::error::Error for SpawnError {}
