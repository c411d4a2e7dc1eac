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
use std::ptr::NonNull;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::executor::blocking_pool::BlockingJoin;
use crate::executor::join_error::JoinError;
use crate::executor::rendezvous::Rendezvous;
use crate::executor::task_block::TaskPtr;
use crate::executor::task_ref::TaskId;

/// What a handle points at, borrowed from its word.
enum Target<'a, T> {
    /// A spawned task's block, whose output type is `T`.
    Task(&'a TaskPtr),
    /// A `spawn_blocking` job.
    Blocking(&'a BlockingJoin<T>),
}

/// The low bit of a handle's word: set for a blocking job. Both kinds of
/// pointer are aligned to 8 bytes, so the bit is free in either.
const BLOCKING: usize = 1;

/// A handle's word: a task block's pointer (made by
/// `TaskPtr::into_erased`) or, with [`BLOCKING`] set, a blocking job's
/// `Arc::into_raw`. It owns that reference.
///
/// A program holds one handle per task it waits for (100 000 for the
/// timers benchmark), so the handle is one word rather than an enum's two;
/// `Option<JoinHandle<T>>` is one word as well.
struct Word(NonNull<()>);

// SAFETY: the word is a plain pointer; whether the handle that owns it may
// cross threads is decided by its `_owns` marker, which names what the word
// points at.
unsafe impl Send for Word {}
// SAFETY: as above.
unsafe impl Sync for Word {}

/// An owned permission to await a spawned task's outcome (asyncio's `Task`).
///
/// Awaiting it gives `Ok(value)`, or a [`JoinError`] when the task panicked or
/// was cancelled. Dropping the handle detaches the task; it keeps running.
/// A task that awaits its own handle gets an error at once instead of
/// waiting for ever ([`JoinError::is_self_await`]; asyncio raises
/// `RuntimeError('Task cannot await on itself')`). As in asyncio, that is
/// noticed when the task awaits the handle itself, not when it waits for it
/// inside a combinator such as `select`.
/// The handle is one word: a pointer, whose low bit tells a task from a
/// blocking job.
///
/// ```
/// let out = weft_runtime::run(async {
///     let handle = weft_runtime::spawn(async { 6 * 7 });
///     handle.await.unwrap()
/// });
/// assert_eq!(out, 42);
/// ```
pub struct JoinHandle<T> {
    word: Word,
    /// What the word owns, as an enum of the two kinds would hold it: the
    /// handle is `Send`, `Sync` and unwind-safe exactly when those are.
    _owns: PhantomData<(TaskPtr, PhantomData<T>, Arc<BlockingJoin<T>>)>,
}

impl<T> JoinHandle<T> {
    /// A handle to a spawned task.
    ///
    /// # Safety
    ///
    /// `task`'s future has output type `T`.
    pub(crate) unsafe fn for_task(task: TaskPtr) -> Self {
        Self::owning(task.into_erased())
    }

    pub(crate) fn for_blocking(job: Arc<BlockingJoin<T>>) -> Self {
        let job = NonNull::new(Arc::into_raw(job).cast_mut()).expect("an `Arc` is never null");
        Self::owning(job.cast::<()>().map_addr(|addr| addr | BLOCKING))
    }

    fn owning(word: NonNull<()>) -> Self {
        Self {
            word: Word(word),
            _owns: PhantomData,
        }
    }

    /// The blocking job's pointer, if the word names one.
    fn blocking_job(&self) -> Option<NonNull<BlockingJoin<T>>> {
        let word = self.word.0;
        (word.addr().get() & BLOCKING != 0).then(|| {
            let job = word.as_ptr().map_addr(|addr| addr & !BLOCKING);
            // SAFETY: the word is an `Arc`'s pointer with the bit set;
            // clearing it gives that pointer back, which is not null.
            unsafe { NonNull::new_unchecked(job) }.cast()
        })
    }

    fn target(&self) -> Target<'_, T> {
        match self.blocking_job() {
            // SAFETY: the word owns a reference to the job, which outlives
            // the borrow of `self`.
            Some(job) => Target::Blocking(unsafe { job.as_ref() }),
            // SAFETY: without the bit, the word came from `into_erased` and
            // owns its reference.
            None => Target::Task(unsafe { TaskPtr::borrow_erased(&self.word.0) }),
        }
    }

    fn rendezvous(&self) -> Rendezvous<'_> {
        match self.target() {
            Target::Task(task) => task.header().rendezvous(),
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
        match self.target() {
            // SAFETY: `for_task`'s contract says the block's output type is
            // `T`; the caller's contract is `take_output`'s.
            Target::Task(task) => unsafe { task.take_output::<T>() },
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
        match self.target() {
            Target::Task(task) => task.header().abort(),
            Target::Blocking(job) => job.skip(),
        }
    }

    /// Whether the task has finished (with a value, a panic or cancelled).
    pub fn is_finished(&self) -> bool {
        self.rendezvous().is_finished()
    }

    /// The task's id, unique within its runtime.
    pub fn id(&self) -> TaskId {
        match self.target() {
            Target::Task(task) => task.header().id,
            Target::Blocking(job) => job.id(),
        }
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Target::Task(task) = self.target() {
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
        match self.blocking_job() {
            // SAFETY: the word's reference, released once, here.
            Some(job) => drop(unsafe { Arc::from_raw(job.as_ptr()) }),
            // SAFETY: the word came from `into_erased`; released once, here.
            None => drop(unsafe { TaskPtr::from_erased(self.word.0) }),
        }
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

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::mem::size_of;

    fn send_sync_unpin<T: Send + Sync + Unpin>() {}

    #[test]
    fn a_handle_is_one_word_and_crosses_threads() {
        assert_eq!(size_of::<JoinHandle<[u64; 4]>>(), size_of::<usize>());
        assert_eq!(size_of::<Option<JoinHandle<u64>>>(), size_of::<usize>());
        send_sync_unpin::<JoinHandle<u64>>();
    }

    #[test]
    fn both_kinds_hand_over_their_outcome_and_release_their_reference() {
        let (task_out, job_out) = crate::run(async {
            let task = crate::spawn(async { String::from("task") });
            let job = crate::spawn_blocking(|| String::from("job"));
            assert!(job.blocking_job().is_some() && task.blocking_job().is_none());
            // Dropped unread: the outcome and the references go with it.
            drop(crate::spawn(async { vec![1u8; 64] }));
            drop(crate::spawn_blocking(|| vec![2u8; 64]));
            (task.await.unwrap(), job.await.unwrap())
        });
        assert_eq!((task_out.as_str(), job_out.as_str()), ("task", "job"));
    }
}
