//! The part of a runtime that other threads may touch.
//!
//! Everything else of a runtime lives on its thread. Another thread reaches
//! it only through this: the remote queue, whose unparker is the
//! `mio::Waker` that rouses the event loop from `epoll_wait` (see
//! `remote.rs` for the protocol), and the task id counter. The queue
//! carries two kinds of item:
//!
//! * a task woken on another thread (a `spawn_blocking` job finishing, a
//!   primitive released by another runtime), as a [`TaskRef`];
//! * a task spawned on another thread (a `Spawner`), as a pointer to it: the
//!   spawning thread allocated its block, the runtime's thread gives it a
//!   slot in the slab when it drains the queue. Such a task's future is
//!   `Send`, or is still the `Send` closure that will build it, so moving
//!   its block between threads is sound.
//!
//! Every task header holds an `Arc` of this, which is also how a waker
//! tells which runtime its task belongs to.

use std::ptr::NonNull;

use super::facade::atomic::{AtomicU64, Ordering};
use super::remote::{RemoteQueue, Unpark};
use super::task_ref::{TaskId, TaskRef};

/// What other threads hand a runtime.
pub(crate) enum Remote {
    /// A task woken on another thread.
    Wake(TaskRef),
    /// A task spawned on another thread, to be adopted by the runtime: one
    /// counted reference to its block, a `TaskPtr` (`task_block.rs`) with
    /// its type erased, because this file lies below the task block. Only
    /// `TaskPtr::from_remote` turns it back, and every path that takes one
    /// out of the queue does (forgetting it would leak the block).
    Spawn(NonNull<()>),
}

// SAFETY: the only pointer inside is a task block sent to the runtime,
// which holds a `Send` future, or the `Send` closure that builds one (see
// the module docs); `TaskPtr` itself is `Send`.
unsafe impl Send for Remote {}

/// The cross-thread state of one runtime.
pub(crate) struct Shared {
    /// Tasks woken or spawned from other threads, drained by the loop.
    pub(crate) remote: RemoteQueue<Remote, mio::Waker>,
    /// The id the next task gets, whichever thread spawns it.
    next_id: AtomicU64,
}

impl Unpark for mio::Waker {
    fn unpark(&self) {
        // `wake` fails only if the eventfd is gone, i.e. the runtime shut
        // down: then there is nobody left to wake.
        let _ = self.wake();
    }
}

impl Shared {
    /// The state of a runtime whose loop `waker` rouses.
    pub(crate) fn new(waker: mio::Waker) -> Self {
        Self {
            remote: RemoteQueue::new(waker),
            next_id: AtomicU64::new(1),
        }
    }

    /// A fresh task id, unique within this runtime.
    pub(crate) fn next_task_id(&self) -> TaskId {
        // Relaxed: ids need only be unique, which the read-modify-write is.
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        TaskId(std::num::NonZeroU64::new(id).expect("task ids start at 1 and only grow"))
    }

    pub(crate) fn unpark_if_parked(&self) {
        self.remote.unpark_if_parked();
    }
}
