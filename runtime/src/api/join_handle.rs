//! `JoinHandle`: the caller's end of a spawned task or blocking job.
//!
//! The handle meets its task at the task's rendezvous
//! (`executor/rendezvous.rs`): awaiting it takes the outcome once the task
//! handed it over, or leaves the handle's waker for the task to wake;
//! dropping it detaches the task, which keeps running, and whose outcome is
//! then dropped as soon as it is known, on the task's own thread. The
//! outcome waits in the task's own block (a spawned task) or in the small
//! allocation a blocking job shares with its handle.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::executor::blocking_pool::BlockingJoin;
use crate::executor::join_error::JoinError;
use crate::executor::rendezvous::Rendezvous;
use crate::executor::task_block::TaskPtr;
use crate::executor::task_ref::TaskId;

/// What a handle points at.
enum Target<T> {
    /// A spawned task's block, whose output type is `T`.
    Task(TaskPtr, PhantomData<T>),
    /// A `spawn_blocking` job.
    Blocking(Arc<BlockingJoin<T>>),
}

/// An owned permission to await a spawned task's outcome (asyncio's `Task`).
///
/// Awaiting it gives `Ok(value)`, or a [`JoinError`] when the task panicked or
/// was cancelled. Dropping the handle detaches the task; it keeps running.
/// A task that awaits its own handle gets an error at once instead of
/// waiting for ever ([`JoinError::is_self_await`]; asyncio raises
/// `RuntimeError('Task cannot await on itself')`). As in asyncio, that is
/// noticed when the task awaits the handle itself, not when it waits for it
/// inside a combinator such as `select`.
/// The handle is two words: which kind of task, and one pointer.
///
/// ```
/// let out = weft_runtime::run(async {
///     let handle = weft_runtime::spawn(async { 6 * 7 });
///     handle.await.unwrap()
/// });
/// assert_eq!(out, 42);
/// ```
pub struct JoinHandle<T> {
    target: Target<T>,
}

impl<T> JoinHandle<T> {
    /// A handle to a spawned task.
    ///
    /// # Safety
    ///
    /// `task`'s future has output type `T`.
    pub(crate) unsafe fn for_task(task: TaskPtr) -> Self {
        Self {
            target: Target::Task(task, PhantomData),
        }
    }

    pub(crate) fn for_blocking(job: Arc<BlockingJoin<T>>) -> Self {
        Self {
            target: Target::Blocking(job),
        }
    }

    fn rendezvous(&self) -> Rendezvous<'_> {
        match &self.target {
            Target::Task(task, _) => task.header().rendezvous(),
            Target::Blocking(job) => job.rendezvous(),
        }
    }

    /// Moves the outcome out of its storage.
    ///
    /// # Safety
    ///
    /// Only as the `take` of this handle's rendezvous, which calls it once,
    /// after the task finished and stored its outcome.
    unsafe fn take_outcome(&self) -> Result<T, JoinError> {
        match &self.target {
            // SAFETY: `for_task`'s contract says the block's output type is
            // `T`; the caller's contract is `take_output`'s.
            Target::Task(task, _) => unsafe { task.take_output::<T>() },
            Target::Blocking(job) => job.take(),
        }
    }

    /// Cancels the task: at its next turn the runtime drops its future (its
    /// destructors run) and the handle resolves to a cancelled [`JoinError`].
    /// A task that already finished keeps its outcome. A blocking job that
    /// already started cannot be stopped and runs to its end.
    ///
    /// ```
    /// weft_runtime::run(async {
    ///     let handle = weft_runtime::spawn(std::future::pending::<()>());
    ///     handle.abort();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort(&self) {
        match &self.target {
            Target::Task(task, _) => task.header().abort(),
            Target::Blocking(job) => job.skip(),
        }
    }

    /// Whether the task has finished (with a value, a panic or cancelled).
    pub fn is_finished(&self) -> bool {
        self.rendezvous().is_finished()
    }

    /// The task's id, unique within its runtime.
    pub fn id(&self) -> TaskId {
        match &self.target {
            Target::Task(task, _) => task.header().id,
            Target::Blocking(job) => job.id(),
        }
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Target::Task(task, _) = &self.target {
            // Polled with the task's own waker: the task awaits itself, and
            // would wait for ever.
            if task.is_own_waker(cx.waker()) {
                return Poll::Ready(Err(JoinError::awaited_itself(task.header().id)));
            }
        }
        // SAFETY: called as the rendezvous' `take`.
        self.rendezvous()
            .poll_outcome(cx, || unsafe { self.take_outcome() })
    }
}

impl<T> Unpin for JoinHandle<T> {}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        // SAFETY: called as the rendezvous' `take`.
        self.rendezvous().detach(|| unsafe { self.take_outcome() });
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .field("finished", &self.is_finished())
            .finish()
    }
}
