//! Which runtime, if any, is running on this thread.
//!
//! `Runtime::block_on` installs its core in a thread-local for the duration
//! of the call; `spawn`, `sleep`, socket registration and friends find their
//! runtime here. Entering also points the executor's wake path at the
//! core's run queue (`executor/run_queue.rs`), which is how a waker tells a
//! local wake (push on the run queue, no lock) from a remote one. Nothing is
//! process-wide, so several runtimes can run on several threads.

use std::cell::RefCell;
use std::rc::Rc;

use super::core::Core;
use crate::driver::reactor::Reactor;
use crate::driver::timer::TimeDriver;
use crate::executor::run_queue;

thread_local! {
    static CURRENT: RefCell<Option<Rc<Core>>> = const { RefCell::new(None) };
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
        // SAFETY: `CURRENT` keeps the core, and so its run queue, alive until
        // the guard's drop, which leaves the run queue first. The core never
        // leaves this thread (`Rc`).
        unsafe { run_queue::enter(&core.run_queue) };
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
        run_queue::leave();
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
             `Runtime::block_on`; from another thread, such as a spawn_blocking job, spawn \
             through a `Spawner` (`Spawner::current()`, `Runtime::spawner()`)"
        )
    })
}

/// The current runtime's timer driver, for the time API.
pub(crate) fn time_driver() -> Rc<TimeDriver> {
    current("polling a timer").time.clone()
}

/// The current runtime's reactor, to register an I/O object with.
pub(crate) fn reactor() -> Rc<Reactor> {
    current("registering an I/O object").reactor.clone()
}
