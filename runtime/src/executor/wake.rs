//! How a wake puts a task back on a run queue.
//!
//! ```text
//!  wake() ──▶ is this runtime's run queue running on this thread?
//!               │ yes                              │ no
//!               ▼                                  ▼
//!       queued locally already?           REMOTE_QUEUED already set?
//!         │ no: set (plain store)           │ no: set (one fetch_or)
//!         ▼                                 ▼
//!       push on the local run queue      push on the remote queue; if the
//!       (a RefCell: no lock, no          runtime is parked, wake it through
//!        atomic read-modify-write)       mio::Waker (one syscall, only when
//!                                        it sleeps)
//! ```
//!
//! The flags (see `wake_flags.rs`) make a burst of wakes cost one queue
//! entry per path: they are cleared just before the task is polled, so a
//! wake during the poll queues the task again.
//!
//! The local run queue is found through a thread-local (`run_queue.rs`)
//! that the scheduler sets while it runs, so this layer never names the
//! scheduler: the scheduler holds the queue, and the wake path only pushes
//! onto it.

use std::sync::Arc;
use std::task::Wake;

use super::run_queue;
use super::shared::{Remote, Shared};
use super::task_ref::{TaskId, TaskRef, MAIN_KEY};
use super::wake_flags::WakeFlags;

/// Queues `task` of runtime `owner` once, however many times it is woken
/// before its next poll (see [`WakeFlags`] for why two flags).
///
/// The entry is made only once the flag is won: a task spawned on another
/// thread learns its slab slot when its runtime adopts it, and until it is
/// polled it counts as queued, so nobody builds its entry before then.
#[inline]
pub(crate) fn wake(flags: &WakeFlags, task: impl Fn() -> TaskRef, owner: &Shared) {
    let queued_here = run_queue::with_running_queue_of(owner, |queue| {
        if flags.wake_local() {
            queue.push(task());
        }
    });
    if queued_here.is_none() && flags.wake_remote() {
        owner.remote.push(Remote::Wake(task()));
    }
}

/// Marks `task` aborted and wakes it, from any thread: the scheduler drops
/// an aborted task instead of polling it.
pub(crate) fn abort(flags: &WakeFlags, task: impl Fn() -> TaskRef, owner: &Shared) {
    flags.abort();
    wake(flags, task, owner);
}

/// The waker of `block_on`'s own future, which is not a spawned task: it
/// queues `MAIN_KEY` with the id this `block_on` call was given.
pub(crate) struct MainWaker {
    pub(crate) flags: WakeFlags,
    pub(crate) id: TaskId,
    pub(crate) shared: Arc<Shared>,
}

impl MainWaker {
    pub(crate) fn schedule(&self) {
        wake(
            &self.flags,
            || TaskRef::new(MAIN_KEY, self.id),
            &self.shared,
        );
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
