//! Tasks: their ids, what run queues hold, and how a wake puts a task back
//! on a run queue.
//!
//! A spawned task is one heap allocation (see `raw.rs`); its thread-safe
//! part is a small header with a reference count and the flags below. Run
//! queues hold a [`TaskRef`]: the task's slot in the runtime's slab and its
//! id, two plain integers. Queuing a task therefore touches no reference
//! count, and a wake that arrives after the task ended (its slot maybe
//! reused by another task) is recognised by the id and ignored.
//!
//! Waking a task (see [`TaskFlags::schedule`]):
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
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::Wake;

use crate::context;
use crate::core::Shared;

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

/// The task is in a run queue (or about to be).
const SCHEDULED: u8 = 1;
/// `JoinHandle::abort` was called: drop the task instead of polling it.
const ABORTED: u8 = 2;

/// A task's two flags, shared with every thread that may wake it.
#[derive(Debug, Default)]
pub(crate) struct TaskFlags(AtomicU8);

impl TaskFlags {
    /// Queues `task` of runtime `owner`, unless it is queued already.
    pub(crate) fn schedule(&self, task: TaskRef, owner: &Shared) {
        if self.0.fetch_or(SCHEDULED, Ordering::AcqRel) & SCHEDULED != 0 {
            return;
        }
        if !context::push_local(owner, task) {
            owner.push_remote(task);
        }
    }

    /// Marks the task aborted and queues it, from any thread: the scheduler
    /// drops an aborted task instead of polling it.
    pub(crate) fn abort(&self, task: TaskRef, owner: &Shared) {
        self.0.fetch_or(ABORTED, Ordering::AcqRel);
        self.schedule(task, owner);
    }

    /// Called by the scheduler right before a poll, so that a wake during
    /// the poll queues the task again. Returns whether the task was aborted
    /// (one atomic operation answers both).
    pub(crate) fn start_poll(&self) -> bool {
        self.0.fetch_and(!SCHEDULED, Ordering::AcqRel) & ABORTED != 0
    }

    pub(crate) fn is_scheduled(&self) -> bool {
        self.0.load(Ordering::Acquire) & SCHEDULED != 0
    }
}

/// The waker of `block_on`'s own future, which is not a spawned task: it
/// queues `MAIN_KEY` with the id this `block_on` call was given.
pub(crate) struct MainWaker {
    pub(crate) flags: TaskFlags,
    pub(crate) id: TaskId,
    pub(crate) shared: Arc<Shared>,
}

impl MainWaker {
    pub(crate) fn schedule(&self) {
        let task = TaskRef {
            key: MAIN_KEY,
            id: self.id,
        };
        self.flags.schedule(task, &self.shared);
    }
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.schedule();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.schedule();
    }
}
