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

use std::ptr;
use std::sync::Arc;
use std::task::{RawWaker, RawWakerVTable, Waker};

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
    if queued_here.is_none() {
        wake_remote(flags, task, owner);
    }
}

/// The remote half of [`wake`], kept out of line: its lock and its system
/// call would otherwise make the local path save and restore registers
/// that only this half needs.
#[cold]
#[inline(never)]
fn wake_remote(flags: &WakeFlags, task: impl Fn() -> TaskRef, owner: &Shared) {
    if flags.wake_remote() {
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
///
/// It is an `Arc<MainWaker>` behind a vtable of its own
/// (`MAIN_WAKER_VTABLE`), rather than `std`'s `Wake` glue, so that a waker
/// can be recognised as a main waker by its vtable's address: the timing
/// wheel then keeps the `Arc`'s pointer instead of a boxed copy of the
/// waker (`stored_waker.rs`), and a `Sleep` awaited by `block_on`'s future
/// allocates nothing.
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

    /// A waker for `this`, taking over its strong reference.
    pub(crate) fn into_waker(this: Arc<Self>) -> Waker {
        let raw = RawWaker::new(Arc::into_raw(this).cast(), &MAIN_WAKER_VTABLE);
        // SAFETY: the vtable's functions expect a data pointer that owns one
        // strong reference to an `Arc<MainWaker>`, which `into_raw` hands
        // over.
        unsafe { Waker::from_raw(raw) }
    }

    /// The main waker `waker` wakes, with a strong reference of its own, if
    /// `waker` is one.
    pub(crate) fn of_waker(waker: &Waker) -> Option<Arc<Self>> {
        if !ptr::eq(waker.vtable(), &MAIN_WAKER_VTABLE) {
            return None;
        }
        let main = waker.data().cast::<Self>();
        // SAFETY: a waker with this vtable owns a strong reference to the
        // `Arc` its data points to, alive while `waker` is; the count is
        // raised before a second `Arc` is made from the pointer.
        unsafe {
            Arc::increment_strong_count(main);
            Some(Arc::from_raw(main))
        }
    }

    /// Whether `waker` is a waker of this very main waker.
    pub(crate) fn is_woken_by(this: &Arc<Self>, waker: &Waker) -> bool {
        ptr::eq(waker.vtable(), &MAIN_WAKER_VTABLE)
            && ptr::eq(waker.data(), Arc::as_ptr(this).cast())
    }
}

static MAIN_WAKER_VTABLE: RawWakerVTable =
    RawWakerVTable::new(clone_main, wake_main, wake_main_by_ref, drop_main);

/// # Safety
///
/// `data` is a main waker's data pointer: it owns one strong reference to
/// a live `Arc<MainWaker>`.
unsafe fn clone_main(data: *const ()) -> RawWaker {
    // SAFETY: the caller's reference keeps the `Arc` alive while another
    // strong reference is taken.
    unsafe { Arc::increment_strong_count(data.cast::<MainWaker>()) };
    RawWaker::new(data, &MAIN_WAKER_VTABLE)
}

/// # Safety
///
/// As for [`clone_main`]; the reference is consumed.
unsafe fn wake_main(data: *const ()) {
    // SAFETY: takes over the waker's reference, released at the end.
    let main = unsafe { Arc::from_raw(data.cast::<MainWaker>()) };
    main.schedule();
}

/// # Safety
///
/// As for [`clone_main`].
unsafe fn wake_main_by_ref(data: *const ()) {
    // SAFETY: the waker's reference keeps the `MainWaker` alive.
    unsafe { &*data.cast::<MainWaker>() }.schedule();
}

/// # Safety
///
/// As for [`clone_main`]; the reference is consumed.
unsafe fn drop_main(data: *const ()) {
    // SAFETY: takes over the waker's reference and releases it.
    drop(unsafe { Arc::from_raw(data.cast::<MainWaker>()) });
}
