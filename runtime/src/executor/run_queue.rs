//! The local run queue, and how a waker finds it.
//!
//! The run queue holds the tasks that are ready to be polled, in the order
//! they were woken. It belongs to one runtime on one thread, so a wake on
//! that thread pushes with no lock and no atomic read-modify-write: the
//! entries sit in a [`Ring`] inside an `UnsafeCell`, with no borrow flag to
//! check and set on each push and pop (a `RefCell`'s four instructions, on
//! a path of a few dozen). That is sound because the queue is not `Sync`
//! (only its thread reaches it) and each method holds the ring only for
//! its own few lines, calling nothing that could reach the queue again
//! ([`RunQueue::with_tasks`]).
//!
//! A waker may be called on any thread, though, and must tell a local wake
//! from a remote one. While a runtime runs, a thread-local holds a pointer
//! to its run queue; the waker compares the queue's owner with its own
//! runtime (both are the runtime's [`Shared`]):
//!
//! ```text
//!   RUNNING (thread-local) ──▶ RunQueue { owner: Arc<Shared>, tasks, local wakes }
//!                                         │
//!   waker: owner == my runtime? ──────────┘ yes: push here      no: remote queue
//! ```
//!
//! The pointer is a `Cell` of a raw pointer, so reading it is a single load,
//! with no destructor and no borrow flag on the path. The scheduler, which
//! holds the queue, installs it with [`enter`] for as long as it runs.
//! Nothing is process-wide, so several runtimes can run on several threads.

use std::cell::{Cell, UnsafeCell};
use std::ptr::{self, NonNull};
use std::sync::Arc;

use super::ring::Ring;
use super::shared::{Remote, Shared};
#[cfg(feature = "sim")]
use super::sim_hooks::SimHooks;
use super::task_ref::TaskRef;

thread_local! {
    /// The run queue of the runtime running on this thread; null when none
    /// runs.
    static RUNNING: Cell<*const RunQueue> = const { Cell::new(ptr::null()) };
}

/// A runtime's queue of tasks ready to run. Single-threaded.
pub(crate) struct RunQueue {
    /// The runtime this queue belongs to.
    owner: Arc<Shared>,
    /// Reached only through [`RunQueue::with_tasks`].
    tasks: UnsafeCell<Ring<TaskRef>>,
    /// Wakes pushed here, for the runtime's metrics.
    local_wakes: Cell<u64>,
    /// A seeded choice of the next task, the digest and the trace; `None`
    /// for the default FIFO runtime (see `sim_hooks.rs`).
    #[cfg(feature = "sim")]
    hooks: Option<Box<SimHooks>>,
}

impl RunQueue {
    pub(crate) fn new(owner: Arc<Shared>) -> Self {
        Self {
            owner,
            tasks: UnsafeCell::new(Ring::new()),
            local_wakes: Cell::new(0),
            #[cfg(feature = "sim")]
            hooks: None,
        }
    }

    /// Gives the queue its simulation hooks (at construction).
    #[cfg(feature = "sim")]
    pub(crate) fn with_hooks(mut self, hooks: Option<Box<SimHooks>>) -> Self {
        self.hooks = hooks;
        self
    }

    /// The simulation hooks, if the runtime was built with a seed or a
    /// recorder.
    #[cfg(feature = "sim")]
    #[inline]
    pub(crate) fn hooks(&self) -> Option<&SimHooks> {
        self.hooks.as_deref()
    }

    /// The runtime this queue belongs to.
    pub(crate) fn owner(&self) -> &Arc<Shared> {
        &self.owner
    }

    /// Runs `f` on the queued entries.
    #[inline]
    fn with_tasks<R>(&self, f: impl FnOnce(&mut Ring<TaskRef>) -> R) -> R {
        // SAFETY: the queue is not `Sync` (its `Cell`s), so only this thread
        // reaches the ring, and every caller's `f` works on the ring alone:
        // it calls no waker, no task and nothing else that could come back
        // here. So this is the only reference to the ring while it lives.
        f(unsafe { &mut *self.tasks.get() })
    }

    /// A local wake: the task goes to the back of the queue.
    #[inline]
    pub(crate) fn push(&self, task: TaskRef) {
        self.local_wakes.set(self.local_wakes.get() + 1);
        #[cfg(feature = "sim")]
        if let Some(hooks) = &self.hooks {
            hooks.woken(task, false);
        }
        self.with_tasks(|tasks| tasks.push_back(task));
    }

    /// The task to run next.
    #[inline]
    pub(crate) fn pop(&self) -> Option<TaskRef> {
        #[cfg(feature = "sim")]
        if let Some(hooks) = &self.hooks {
            // The chooser only looks at the entries' numbers.
            return self.with_tasks(|tasks| hooks.pick(tasks));
        }
        self.with_tasks(Ring::pop_front)
    }

    /// The task [`pop`](Self::pop) would take next without a seeded
    /// chooser, left in place.
    #[inline]
    pub(crate) fn peek(&self) -> Option<TaskRef> {
        self.with_tasks(|tasks| tasks.front())
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.with_tasks(|tasks| tasks.is_empty())
    }

    /// Moves the tasks woken or spawned on other threads to the back of this
    /// queue, in one batch; `adopt` gives each spawned task (a
    /// [`Remote::Spawn`] item) its slab slot. Returns how many.
    pub(crate) fn take_remote(&self, mut adopt: impl FnMut(NonNull<()>) -> TaskRef) -> usize {
        let mut batch = Vec::new();
        let n = self.owner.remote.drain_into(&mut batch);
        for item in batch {
            let task = match item {
                Remote::Wake(task) => task,
                Remote::Spawn(new) => adopt(new),
            };
            self.with_tasks(|tasks| tasks.push_back(task));
        }
        #[cfg(feature = "sim")]
        if let Some(hooks) = &self.hooks {
            let len = self.with_tasks(|tasks| tasks.len());
            for i in len - n..len {
                hooks.woken(self.with_tasks(|tasks| tasks.get(i)), true);
            }
        }
        n
    }

    /// Forgets every queued task (at shutdown).
    pub(crate) fn clear(&self) {
        self.with_tasks(Ring::clear);
    }

    /// Wakes pushed here so far.
    pub(crate) fn local_wakes(&self) -> u64 {
        self.local_wakes.get()
    }
}

/// Makes `queue` the one that wakes on this thread reach, until [`leave`].
///
/// # Safety
///
/// `queue` stays alive, and on this thread, until `leave` is called.
pub(crate) unsafe fn enter(queue: &RunQueue) {
    RUNNING.set(queue);
}

/// Undoes [`enter`]: wakes on this thread go to the remote queue again.
pub(crate) fn leave() {
    RUNNING.set(ptr::null());
}

/// Runs `f` with this thread's run queue if it is `owner`'s (the runtime a
/// waker belongs to); `None`, without calling `f`, on any other thread.
pub(crate) fn with_running_queue_of<R>(
    owner: &Shared,
    f: impl FnOnce(&RunQueue) -> R,
) -> Option<R> {
    let queue = RUNNING.get();
    if queue.is_null() {
        return None;
    }
    // SAFETY: `RUNNING` is non-null only between `enter` and `leave`, whose
    // caller keeps the queue alive and on this thread for that span.
    let queue = unsafe { &*queue };
    ptr::eq(&**queue.owner(), owner).then(|| f(queue))
}
