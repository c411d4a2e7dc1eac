//! `JoinHandle`: the caller's end of a spawned task.
//!
//! A task and its handle share one [`JoinCell`]: the task writes its outcome
//! there exactly once (its value, its panic, or "cancelled" when it was
//! dropped unfinished) and wakes whoever awaits the handle. For a spawned
//! task the cell lives inside the task's own allocation (`raw.rs`); for a
//! `spawn_blocking` job it is a small `Arc` of its own, completed from a
//! pool thread.
//!
//! ```text
//!   task (runtime thread or blocking thread)        JoinHandle (awaiting task)
//!        │ complete(Ok(v) | Panicked | Cancelled)        │ poll: take the outcome,
//!        └──────────────▶ JoinCell { outcome, waker } ◀──┘   or leave a waker
//! ```
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

/// The outcome is known (`JoinCell::complete` ran).
const FINISHED: u8 = 1;
/// The handle took the outcome: dropping it has nothing left to do.
const READ: u8 = 2;

/// Where a task leaves its outcome for its `JoinHandle`.
pub(crate) struct JoinCell<T> {
    /// `FINISHED` and `READ`, readable without the lock.
    progress: AtomicU8,
    state: Mutex<JoinState<T>>,
}

struct JoinState<T> {
    outcome: Option<Result<T, JoinError>>,
    waker: Option<Waker>,
    /// Cleared when the handle is dropped: an outcome is then dropped at
    /// once instead of being kept for nobody.
    handle_alive: bool,
}

impl<T> JoinCell<T> {
    pub(crate) fn new() -> Self {
        Self {
            progress: AtomicU8::new(0),
            state: Mutex::new(JoinState {
                outcome: None,
                waker: None,
                handle_alive: true,
            }),
        }
    }

    /// Records the outcome (the first one wins) and wakes the awaiting
    /// handle; with no handle left, drops the outcome right here.
    pub(crate) fn complete(&self, outcome: Result<T, JoinError>) {
        let (unread, waker) = {
            let mut state = self.state.lock();
            if self.progress.load(Ordering::Relaxed) & FINISHED != 0 {
                return;
            }
            self.progress.fetch_or(FINISHED, Ordering::Release);
            if state.handle_alive {
                state.outcome = Some(outcome);
                (None, state.waker.take())
            } else {
                (Some(outcome), None)
            }
        };
        drop(unread);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.progress.load(Ordering::Acquire) & FINISHED != 0
    }

    fn poll_outcome(&self, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>> {
        let mut state = self.state.lock();
        match state.outcome.take() {
            Some(outcome) => {
                self.progress.fetch_or(READ, Ordering::Relaxed);
                Poll::Ready(outcome)
            }
            None if self.progress.load(Ordering::Relaxed) & FINISHED != 0 => {
                panic!("JoinHandle polled again after it returned the task's outcome")
            }
            None => {
                match &mut state.waker {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    slot => *slot = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
        }
    }

    /// The handle is going away: drop any outcome now, on its thread.
    fn detach(&self) {
        // The usual end: the handle was awaited, nothing is left to drop.
        // (Only the handle sets READ, so its own earlier store is visible.)
        if self.progress.load(Ordering::Relaxed) & READ != 0 {
            return;
        }
        let unread = {
            let mut state = self.state.lock();
            state.handle_alive = false;
            state.waker = None;
            state.outcome.take()
        };
        drop(unread);
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
    /// A spawned task's block, whose join cell holds a `T`.
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

    fn cell(&self) -> &JoinCell<T> {
        match &self.target {
            // SAFETY: `for_task`'s contract: the block's output type is `T`.
            Target::Task(task, _) => unsafe { task.join::<T>() },
            Target::Blocking(job) => &job.cell,
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
        self.cell().is_finished()
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
        self.cell().poll_outcome(cx)
    }
}

impl<T> Unpin for JoinHandle<T> {}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        self.cell().detach();
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
    // is `Sync` and fits in `Box<dyn Error + Send + Sync>`.
    panic: Option<std::sync::Mutex<Box<dyn Any + Send + 'static>>>,
}

impl JoinError {
    pub(crate) fn cancelled(id: TaskId) -> Self {
        Self { id, panic: None }
    }

    pub(crate) fn panicked(id: TaskId, payload: Box<dyn Any + Send + 'static>) -> Self {
        Self {
            id,
            panic: Some(std::sync::Mutex::new(payload)),
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
        payload
            .downcast_ref::<&'static str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
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
