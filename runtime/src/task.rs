//! Tasks: what the scheduler stores for each spawned future, and the waker
//! that puts a task back on a run queue.
//!
//! Every task has a small, thread-safe [`TaskHeader`] (its id, its slot in
//! the runtime's task slab, and two flags) behind an `Arc`; that `Arc` *is*
//! the task's waker. The future itself lives in the slab, on the runtime's
//! thread only, so it does not need to be `Send`.
//!
//! Run queues hold a [`TaskRef`]: the slot and the id, two plain integers.
//! Queuing a task therefore touches no reference count, and a wake that
//! arrives after the task ended (its slot maybe reused by another task) is
//! recognised by the id and ignored.
//!
//! Waking a task (see [`TaskHeader::schedule`]):
//!
//! ```text
//!  wake() ──▶ SCHEDULED already set? ──yes──▶ nothing to do (already queued)
//!                   │ no, now set
//!                   ▼
//!       on this runtime's own thread? ──yes──▶ push on the local run queue
//!                   │ no                        (a RefCell: no lock, no syscall)
//!                   ▼
//!       push on the remote queue; if the runtime is parked, wake it
//!       through mio::Waker (one syscall, only when it sleeps)
//! ```
//!
//! The `SCHEDULED` flag makes a burst of wakes cost one queue entry: it is
//! cleared just before the task is polled, so a wake during the poll queues
//! the task again.

use std::fmt;
use std::future::{poll_fn, Future};
use std::num::NonZeroU64;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Wake;
use std::task::{Poll, Waker};

use crate::context;
use crate::core::Shared;
use crate::join::{Abort, JoinCell, JoinError};

/// A task's id, unique within its runtime and never reused.
///
/// ```
/// weft_runtime::run(async {
///     let a = weft_runtime::spawn(async {});
///     let b = weft_runtime::spawn(async {});
///     assert_ne!(a.id(), b.id());
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(pub(crate) NonZeroU64);

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The slab key of `block_on`'s own future, which is not stored in the slab.
pub(crate) const MAIN_KEY: usize = usize::MAX;

/// What a run queue holds: which slot to poll, and which task must be in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TaskRef {
    pub(crate) key: usize,
    pub(crate) id: TaskId,
}

/// The thread-safe part of a task: enough to find it and to schedule it.
pub(crate) struct TaskHeader {
    pub(crate) id: TaskId,
    /// The task's slot in the runtime's slab. A slot is reused after the
    /// task ends, so the scheduler checks it still holds *this* header.
    pub(crate) key: usize,
    scheduled: AtomicBool,
    aborted: AtomicBool,
    pub(crate) shared: Arc<Shared>,
}

impl TaskHeader {
    pub(crate) fn new(id: TaskId, key: usize, shared: Arc<Shared>) -> Self {
        Self {
            id,
            key,
            scheduled: AtomicBool::new(false),
            aborted: AtomicBool::new(false),
            shared,
        }
    }

    /// Queues the task to be polled, unless it is queued already.
    pub(crate) fn schedule(self: &Arc<Self>) {
        if self.scheduled.swap(true, Ordering::AcqRel) {
            return;
        }
        let task = TaskRef {
            key: self.key,
            id: self.id,
        };
        if !context::push_local(&self.shared, task) {
            self.shared.push_remote(task);
        }
    }

    /// Called by the scheduler right before a poll, so that a wake during
    /// the poll queues the task again.
    pub(crate) fn clear_scheduled(&self) {
        self.scheduled.store(false, Ordering::Release);
    }

    pub(crate) fn is_scheduled(&self) -> bool {
        self.scheduled.load(Ordering::Acquire)
    }

    pub(crate) fn is_aborted(&self) -> bool {
        self.aborted.load(Ordering::Acquire)
    }
}

impl Wake for TaskHeader {
    fn wake(self: Arc<Self>) {
        self.schedule();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.schedule();
    }
}

impl Abort for TaskHeader {
    fn abort(self: Arc<Self>) {
        self.aborted.store(true, Ordering::Release);
        // Scheduled like any wake, so an abort from another thread also
        // reaches a parked runtime; the scheduler drops an aborted task
        // instead of polling it.
        self.schedule();
    }
}

/// Wraps a user's future into the future the scheduler stores: it runs the
/// user's future, catches a panic in any poll, and leaves the outcome in the
/// task's [`JoinCell`]. If the wrapper is dropped before the user's future
/// finished (abort, runtime shutdown, even before its first poll), the
/// handle hears "cancelled".
pub(crate) fn run_to_completion<F: Future>(
    fut: F,
    cell: Arc<JoinCell<F::Output>>,
    id: TaskId,
) -> impl Future<Output = ()> {
    // Made out here, not inside the async block: a block that never started
    // drops its captures but never runs its body.
    let report = CancelledOnDrop { cell, id };
    async move {
        let report = report;
        let mut fut = pin!(fut);
        let outcome =
            poll_fn(
                |cx| match catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
                    Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
                    Ok(Poll::Pending) => Poll::Pending,
                    Err(payload) => Poll::Ready(Err(JoinError::panicked(id, payload))),
                },
            )
            .await;
        report.cell.complete(outcome);
    }
}

/// Reports "cancelled" when dropped; a no-op after the real outcome was
/// recorded, because a [`JoinCell`] keeps its first outcome.
pub(crate) struct CancelledOnDrop<T> {
    pub(crate) cell: Arc<JoinCell<T>>,
    pub(crate) id: TaskId,
}

impl<T> Drop for CancelledOnDrop<T> {
    fn drop(&mut self) {
        self.cell.complete(Err(JoinError::cancelled(self.id)));
    }
}

/// What the runtime's slab holds for each live task.
pub(crate) struct TaskSlot {
    pub(crate) header: Arc<TaskHeader>,
    /// `None` while the task is being polled: the future and its waker are
    /// moved out of the slab for the poll (a move, no reference counting),
    /// so the task may spawn or abort others meanwhile.
    pub(crate) runnable: Option<Runnable>,
    pub(crate) name: Option<Arc<str>>,
    pub(crate) polls: u64,
}

/// A task's future and the waker it is polled with, made once at spawn.
pub(crate) struct Runnable {
    pub(crate) future: Pin<Box<dyn Future<Output = ()>>>,
    pub(crate) waker: Waker,
}
