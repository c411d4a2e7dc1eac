//! The cross-thread wake path: how a waker called on another thread reaches
//! a runtime that may be asleep in `epoll_wait`.
//!
//! A remote waker pushes its task on a mutex-protected queue, then wakes the
//! runtime, but only if the runtime said it is asleep. The runtime says so
//! with a `parked` flag that lives under the same mutex as the queue:
//!
//! ```text
//!   runtime thread                          remote thread
//!   ──────────────                          ─────────────
//!   lock                                    lock
//!     queue empty? parked = true              push(task)
//!   unlock                                    was_parked = parked; parked = false
//!   epoll_wait (until unparked)             unlock
//!                                           if was_parked: unpark()  ── one syscall
//! ```
//!
//! The two critical sections are ordered by the mutex. If the push comes
//! first, the runtime sees the task and does not sleep; if the park comes
//! first, the pusher sees `parked` and unparks. Clearing the flag makes only
//! the first of many remote wakers pay for the syscall; the others find the
//! runtime already being woken. The push takes the lock anyway, so keeping
//! the flag under it costs nothing, and there is no memory-ordering argument
//! to get wrong. The loom model `loom-tests/tests/remote_wake.rs` checks it.
//!
//! Everything goes through the runtime's facade (`facade.rs`), so the
//! model checks this very code. The type is public (but hidden) for that
//! model only.

use super::facade::Mutex;

/// How a [`RemoteQueue`] wakes its sleeping owner (`mio::Waker` in the
/// runtime; a notification in the loom model).
pub trait Unpark {
    /// Wakes the owner if it sleeps, or makes its next sleep return at once.
    fn unpark(&self);
}

/// A queue other threads push onto, with a sleeping owner to wake.
#[derive(Debug)]
pub struct RemoteQueue<T, U> {
    state: Mutex<State<T>>,
    unparker: U,
}

#[derive(Debug)]
struct State<T> {
    items: Vec<T>,
    /// The owner is asleep (or about to be) and needs an unpark.
    parked: bool,
    /// Set when the owner is gone: later pushes are dropped, so that a task
    /// woken after its runtime shut down cannot keep the runtime alive.
    closed: bool,
}

impl<T, U: Unpark> RemoteQueue<T, U> {
    /// An empty queue whose owner is woken through `unparker`.
    pub fn new(unparker: U) -> Self {
        Self {
            state: Mutex::new(State {
                items: Vec::new(),
                parked: false,
                closed: false,
            }),
            unparker,
        }
    }

    /// Pushes `item` (from any thread) and wakes the owner if it sleeps;
    /// drops it if the owner is gone.
    pub fn push(&self, item: T) {
        let _ = self.try_push(item);
    }

    /// Like [`push`](Self::push), but hands `item` back if the owner is gone.
    pub fn try_push(&self, item: T) -> Result<(), T> {
        let was_parked = {
            let mut state = self.state.lock();
            if state.closed {
                return Err(item);
            }
            state.items.push(item);
            std::mem::take(&mut state.parked)
        };
        if was_parked {
            self.unparker.unpark();
        }
        Ok(())
    }

    /// Wakes the owner if it is parked, without queuing anything: for a
    /// state change the owner checks after `prepare_park` (a blocking job
    /// that ended, under the paused clock).
    pub fn unpark_if_parked(&self) {
        let was_parked = std::mem::take(&mut self.state.lock().parked);
        if was_parked {
            self.unparker.unpark();
        }
    }

    /// Owner: announces a sleep. Returns `false` when items are waiting, in
    /// which case the owner must not sleep.
    pub fn prepare_park(&self) -> bool {
        let mut state = self.state.lock();
        state.parked = state.items.is_empty();
        state.parked
    }

    /// Owner: the sleep is over (woken, or timed out).
    pub fn finish_park(&self) {
        self.state.lock().parked = false;
    }

    /// Owner: moves every waiting item into `out`; returns how many.
    pub fn drain_into(&self, out: &mut impl Extend<T>) -> usize {
        let items = std::mem::take(&mut self.state.lock().items);
        let n = items.len();
        out.extend(items);
        n
    }

    /// How the owner is woken.
    pub fn unparker(&self) -> &U {
        &self.unparker
    }

    /// Owner: refuses later pushes and returns what was still queued.
    pub fn close(&self) -> Vec<T> {
        let mut state = self.state.lock();
        state.closed = true;
        std::mem::take(&mut state.items)
    }
}
