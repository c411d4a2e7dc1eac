//! The part of a runtime that other threads may touch.
//!
//! Everything else of a runtime lives on its thread. A waker called on
//! another thread (a `spawn_blocking` job finishing, a primitive released
//! by another runtime) reaches it only through this: the remote queue of
//! woken tasks, whose unparker is the `mio::Waker` that rouses the event
//! loop from `epoll_wait` (see `remote.rs` for the protocol). Every task
//! header holds an `Arc` of it, which is also how a waker tells which
//! runtime its task belongs to.

use super::remote::{RemoteQueue, Unpark};
use super::task_ref::TaskRef;

/// The cross-thread state of one runtime.
pub(crate) struct Shared {
    /// Tasks woken from other threads, drained by the runtime's loop.
    pub(crate) remote: RemoteQueue<TaskRef, mio::Waker>,
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
        }
    }

    pub(crate) fn push_remote(&self, task: TaskRef) {
        self.remote.push(task);
    }

    pub(crate) fn unpark_if_parked(&self) {
        self.remote.unpark_if_parked();
    }
}
