//! `JoinHandle`: the caller's end of a spawned task.
//!
//! A task and its handle meet at a *rendezvous* (see [`Rendezvous`]): a
//! progress byte, and a mutex holding the waker of whoever awaits the
//! handle. The task hands its outcome over exactly once (its value, its
//! panic, or "cancelled" when it was dropped unfinished) and wakes that
//! waker; the handle takes the outcome, or, if it is dropped first, leaves
//! the task to drop the outcome itself.
//!
//! ```text
//!   task (runtime thread or blocking thread)          JoinHandle (any thread)
//!        │ complete: store the outcome,                    │ poll: take the outcome
//!        │ set FINISHED, wake the waiter                   │ (set READ), or leave
//!        └──────────▶ progress + waiter (locked) ◀─────────┘ a waker; drop: set
//!                            │                               DETACHED, drop any
//!                     outcome storage                        unread outcome
//! ```
//!
//! Where the outcome waits depends on the kind of task:
//!
//! * a spawned task keeps it in its own allocation, in the memory its
//!   finished future occupied (`raw.rs`), and the progress byte and the
//!   waiter sit in the task's header;
//! * a `spawn_blocking` job keeps all three in a small `Arc` of its own
//!   ([`BlockingJoin`]), completed from a pool thread.
//!
//! Every change of the progress byte is made under the waiter's lock (so a
//! load and a store do, no read-modify-write is needed), and the lock orders
//! the hand-over: the outcome is stored before FINISHED is set, and the
//! handle reads it only after it saw FINISHED. Reads that need no lock
//! (`is_finished`, and a dropped handle noticing it already read the
//! outcome) are single atomic loads.
//!
//! Dropping a `JoinHandle` detaches the task: it keeps running, and its
//! outcome is dropped as soon as it is known, on the task's own thread.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;

use crate::raw::TaskPtr;
use crate::task::TaskId;

/// The outcome is known: stored for the handle, or dropped if it was gone.
const FINISHED: u8 = 1;
/// The handle took the outcome: dropping it has nothing left to do.
const READ: u8 = 2;
/// The handle was dropped: an outcome that comes later is dropped at once.
const DETACHED: u8 = 4;

/// The two fields where a task and its handle meet, borrowed from wherever
/// their owner keeps them, plus the protocol over them. The outcome's
/// storage is the owner's: the task side passes a `store` function, the
/// handle side a `take` function, and the rendezvous calls each at most
/// once, under the lock, at the right moment.
#[derive(Clone, Copy)]
pub(crate) struct Rendezvous<'a> {
    progress: &'a AtomicU8,
    waiter: &'a Mutex<Option<Waker>>,
}

impl<'a> Rendezvous<'a> {
    pub(crate) fn new(progress: &'a AtomicU8, waiter: &'a Mutex<Option<Waker>>) -> Self {
        Self { progress, waiter }
    }

    /// Whether the outcome is known.
    pub(crate) fn is_finished(self) -> bool {
        self.progress.load(Ordering::Acquire) & FINISHED != 0
    }

    /// Task side: hands `outcome` over (the first one wins) with `store`,
    /// which puts it where the handle's `take` finds it, and wakes the
    /// awaiting handle. With no handle left, the outcome is dropped here
    /// instead, on the task's thread.
    pub(crate) fn complete<O>(self, outcome: O, store: impl FnOnce(O)) {
        let (unread, waker) = {
            let mut waiter = self.waiter.lock();
            let progress = self.progress.load(Ordering::Relaxed);
            if progress & FINISHED != 0 {
                return;
            }
            let handed_over = if progress & DETACHED == 0 {
                store(outcome);
                (None, waiter.take())
            } else {
                (Some(outcome), None)
            };
            self.progress.store(progress | FINISHED, Ordering::Release);
            handed_over
        };
        drop(unread);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Handle side: the outcome, taken with `take`, once the task finished;
    /// until then the handle's waker is left for the task to wake.
    ///
    /// # Panics
    ///
    /// When the outcome was taken already.
    fn poll_outcome<R>(self, cx: &mut Context<'_>, take: impl FnOnce() -> R) -> Poll<R> {
        let mut waiter = self.waiter.lock();
        let progress = self.progress.load(Ordering::Relaxed);
        if progress & FINISHED == 0 {
            match &mut *waiter {
                Some(w) if w.will_wake(cx.waker()) => {}
                slot => *slot = Some(cx.waker().clone()),
            }
            return Poll::Pending;
        }
        assert!(
            progress & READ == 0,
            "JoinHandle polled again after it returned the task's outcome"
        );
        self.progress.store(progress | READ, Ordering::Relaxed);
        Poll::Ready(take())
    }

    /// Handle side, when the handle goes: drops an outcome it did not read
    /// (now, on its thread, with `take` to get it) and its waker.
    fn detach<R>(self, take: impl FnOnce() -> R) {
        // The usual end: the handle was awaited, nothing is left to drop.
        // (Only the handle sets READ, so its own earlier store is visible.)
        if self.progress.load(Ordering::Relaxed) & READ != 0 {
            return;
        }
        let (waker, unread) = {
            let mut waiter = self.waiter.lock();
            let progress = self.progress.load(Ordering::Relaxed);
            self.progress.store(progress | DETACHED, Ordering::Relaxed);
            (waiter.take(), (progress & FINISHED != 0).then(take))
        };
        drop(waker);
        drop(unread);
    }
}

/// Where a `spawn_blocking` job leaves its outcome for its `JoinHandle`.
pub(crate) struct JoinCell<T> {
    progress: AtomicU8,
    waiter: Mutex<Option<Waker>>,
    /// A lock of its own, so that this stays safe code; the rendezvous is
    /// shared with tasks, whose outcome sits outside any lock, and a
    /// blocking job costs a thread hand-off anyway.
    outcome: Mutex<Option<Result<T, JoinError>>>,
}

impl<T> JoinCell<T> {
    fn new() -> Self {
        Self {
            progress: AtomicU8::new(0),
            waiter: Mutex::new(None),
            outcome: Mutex::new(None),
        }
    }

    fn rendezvous(&self) -> Rendezvous<'_> {
        Rendezvous::new(&self.progress, &self.waiter)
    }

    /// Records the outcome (the first one wins) and wakes the awaiting
    /// handle; with no handle left, drops the outcome right here.
    pub(crate) fn complete(&self, outcome: Result<T, JoinError>) {
        self.rendezvous()
            .complete(outcome, |outcome| *self.outcome.lock() = Some(outcome));
    }

    fn take(&self) -> Result<T, JoinError> {
        self.outcome
            .lock()
            .take()
            .expect("the rendezvous takes a stored outcome, once")
    }
}

/// What a `spawn_blocking` job shares with its handle, in one allocation.
pub(crate) struct BlockingJoin<T> {
    pub(crate) cell: JoinCell<T>,
    /// Set by `JoinHandle::abort`: a job that has not started is skipped.
    skip: AtomicBool,
    pub(crate) id: TaskId,
}

impl<T> BlockingJoin<T> {
    pub(crate) fn new(id: TaskId) -> Self {
        Self {
            cell: JoinCell::new(),
            skip: AtomicBool::new(false),
            id,
        }
    }

    pub(crate) fn is_skipped(&self) -> bool {
        self.skip.load(Ordering::Acquire)
    }
}

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
            Target::Blocking(job) => job.cell.rendezvous(),
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
            Target::Blocking(job) => job.cell.take(),
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
            Target::Blocking(job) => job.skip.store(true, Ordering::Release),
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
            Target::Blocking(job) => job.id,
        }
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
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

/// Why a task gave no value: it was cancelled, or it panicked.
///
/// ```
/// weft_runtime::run(async {
///     let err = weft_runtime::spawn(async { panic!("boom") }).await.unwrap_err();
///     assert!(err.is_panic());
///     assert_eq!(err.panic_message().as_deref(), Some("boom"));
/// });
/// ```
pub struct JoinError {
    id: TaskId,
    // A std Mutex makes the `Send`-only payload shareable, so that `JoinError`
    // is `Sync` and fits in `Box<dyn Error + Send + Sync>`. It is boxed: a
    // task's outcome shares memory with its future, and keeping the error at
    // two words keeps a task with a small future and output small.
    panic: Option<Box<std::sync::Mutex<Box<dyn Any + Send + 'static>>>>,
}

impl JoinError {
    pub(crate) fn cancelled(id: TaskId) -> Self {
        Self { id, panic: None }
    }

    pub(crate) fn panicked(id: TaskId, payload: Box<dyn Any + Send + 'static>) -> Self {
        Self {
            id,
            panic: Some(Box::new(std::sync::Mutex::new(payload))),
        }
    }

    /// The task was cancelled (aborted, or dropped when its runtime shut down).
    pub fn is_cancelled(&self) -> bool {
        self.panic.is_none()
    }

    /// The task panicked.
    pub fn is_panic(&self) -> bool {
        self.panic.is_some()
    }

    /// The id of the task that failed.
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// The panic's message, when the payload was a string (as `panic!` makes).
    pub fn panic_message(&self) -> Option<String> {
        let payload = self
            .panic
            .as_ref()?
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        crate::panic_message(&**payload).map(str::to_owned)
    }

    /// The panic payload, to resume the panic with `std::panic::resume_unwind`.
    /// Returns `Err(self)` when the task was cancelled instead.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.panic {
            Some(payload) => Ok(payload.into_inner().unwrap_or_else(|e| e.into_inner())),
            None => Err(self),
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.panic_message() {
            _ if self.is_cancelled() => write!(f, "task {} was cancelled", self.id),
            Some(msg) => write!(f, "task {} panicked: {msg}", self.id),
            None => write!(f, "task {} panicked", self.id),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.is_cancelled() {
            "Cancelled"
        } else {
            "Panicked"
        };
        f.debug_struct("JoinError")
            .field("id", &self.id)
            .field("kind", &kind)
            .field("message", &self.panic_message())
            .finish()
    }
}

impl std::error::Error for JoinError {}
