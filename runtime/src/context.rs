//! Which runtime, if any, is running on this thread.
//!
//! `Runtime::block_on` installs its core in a thread-local for the duration
//! of the call; `spawn`, `sleep` and friends find their runtime there. This
//! is also how a waker tells a local wake (push on the run queue, no lock)
//! from a remote one: it compares its runtime with the one installed here.
//! Nothing is process-wide, so several runtimes can run on several threads.

use std::cell::{Cell, RefCell};
use std::ptr;
use std::rc::Rc;

use crate::core::{Core, Shared};
use crate::time::TimeDriver;

thread_local! {
    static CURRENT: RefCell<Option<Rc<Core>>> = const { RefCell::new(None) };
    /// The same core as a bare pointer (null when none runs), for the wake
    /// path: a `Cell` of a pointer has no destructor and no borrow flag, so
    /// reading it is a single load.
    static RUNNING: Cell<*const Core> = const { Cell::new(ptr::null()) };
}

/// Installs `core` as this thread's runtime until the guard is dropped.
///
/// # Panics
///
/// When another runtime is already running on this thread: a nested
/// `block_on` would stall the outer runtime's tasks.
pub(crate) fn enter(core: Rc<Core>) -> EnterGuard {
    CURRENT.with(|current| {
        let mut current = current.borrow_mut();
        assert!(
            current.is_none(),
            "cannot start a weft runtime from within a running runtime (a nested block_on \
             would block every task of the outer one); spawn the future instead"
        );
        RUNNING.set(Rc::as_ptr(&core));
        *current = Some(core);
    });
    EnterGuard {
        _not_send: std::marker::PhantomData,
    }
}

/// Uninstalls the runtime when dropped.
pub(crate) struct EnterGuard {
    _not_send: std::marker::PhantomData<Rc<()>>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        // The core is dropped outside the borrow: its destructor may use
        // the thread-local again.
        RUNNING.set(ptr::null());
        let core = CURRENT.with(|current| current.borrow_mut().take());
        drop(core);
    }
}

/// The runtime running on this thread, if any.
pub(crate) fn try_current() -> Option<Rc<Core>> {
    CURRENT
        .try_with(|current| current.borrow().clone())
        .ok()
        .flatten()
}

/// The runtime running on this thread.
///
/// # Panics
///
/// Outside a weft runtime, naming `what` the caller tried to do.
pub(crate) fn current(what: &str) -> Rc<Core> {
    try_current().unwrap_or_else(|| {
        panic!(
            "{what} needs a weft runtime: call it from within `weft_runtime::run` or \
             `Runtime::block_on`"
        )
    })
}

/// The current runtime's timer driver, for the time module.
pub(crate) fn time_driver() -> Rc<TimeDriver> {
    current("polling a timer").time.clone()
}

/// Runs `f` with this thread's core if it is `owner`'s (the runtime a
/// waker belongs to); `None`, without calling `f`, on any other thread.
pub(crate) fn with_owner_core<R>(owner: &Shared, f: impl FnOnce(&Core) -> R) -> Option<R> {
    let core = RUNNING.get();
    if core.is_null() {
        return None;
    }
    // SAFETY: `RUNNING` is non-null only between `enter` and the guard's
    // drop, and holds the pointer of the `Rc<Core>` that `CURRENT` keeps
    // alive for exactly that span (the guard nulls `RUNNING` before it
    // releases the core). The core never leaves this thread (`Rc`).
    let core = unsafe { &*core };
    ptr::eq(&*core.shared, owner).then(|| f(core))
}
