//! The rendezvous where a task hands its outcome over to its `JoinHandle`.
//!
//! A task and its handle meet at a progress byte and a mutex holding the
//! waker of whoever awaits the handle. The task hands its outcome over
//! exactly once (its value, its panic, or "cancelled" when it was dropped
//! unfinished) and wakes that waker; the handle takes the outcome, or, if
//! it is dropped first, leaves the task to drop the outcome itself.
//!
//! ```text
//!   task (runtime thread or blocking thread)          JoinHandle (any thread)
//!        │ complete: store the outcome,                    │ poll: take the outcome
//!        │ set FINISHED, wake the waiter                   │ (set READ), or leave
//!        └──────────▶ progress + waiter (locked) ◀─────────┘ a waker; drop: set
//!                            │                               DETACHED, drop any
//!                     outcome storage                        unread outcome
//! ```
//!
//! The rendezvous only borrows its two fields, and never sees the outcome's
//! storage: the owner keeps them where it likes. A spawned task keeps all
//! three in its own block (`task_block.rs`: the progress byte and the
//! waiter in its header, the outcome in the memory its finished future
//! occupied); a `spawn_blocking` job keeps them in a small `Arc` of its own
//! (`blocking_pool.rs`).
//!
//! Every change of the progress byte before FINISHED is made under the
//! waiter's lock (so a load and a store do, no read-modify-write is
//! needed), and the lock orders the hand-over: the outcome is stored before
//! FINISHED is set (a Release store), and the handle reads it only after it
//! saw FINISHED (an Acquire load, or a load under the lock). After
//! FINISHED the task side writes nothing more and only the handle, which
//! is one owner, writes READ or DETACHED: so the usual join, of a task that
//! has finished, takes its outcome with one load and one store and no
//! lock. Reads that need no lock (`is_finished`, and a dropped handle
//! noticing it already read the outcome) are single atomic loads.
//!
//! The fields, and the task block's stage, go through the runtime's facade,
//! so the loom models in `loom-tests/tests/join_handoff.rs` check this very
//! code: an output taken on another thread, completion racing `abort`, and
//! completion racing the handle's drop.

use std::task::{Context, Poll, Waker};

use super::facade::atomic::{AtomicU8, Ordering};
use super::facade::Mutex;

/// The outcome is known: stored for the handle, or dropped if it was gone.
const FINISHED: u8 = 1;
/// The handle took the outcome: dropping it has nothing left to do.
const READ: u8 = 2;
/// The handle was dropped: an outcome that comes later is dropped at once.
const DETACHED: u8 = 4;

/// The two fields where a task and its handle meet, borrowed from wherever
/// their owner keeps them, plus the protocol over them. The outcome's
/// storage is the owner's: the task side passes a `store` function, the
/// handle side a `take` function, and the rendezvous calls each at most
/// once, at the right moment (`store` under the lock).
#[derive(Clone, Copy)]
pub(crate) struct Rendezvous<'a> {
    progress: &'a AtomicU8,
    waiter: &'a Mutex<Option<Waker>>,
}

impl<'a> Rendezvous<'a> {
    pub(crate) fn new(progress: &'a AtomicU8, waiter: &'a Mutex<Option<Waker>>) -> Self {
        Self { progress, waiter }
    }

    /// Whether the outcome is known.
    pub(crate) fn is_finished(self) -> bool {
        self.progress.load(Ordering::Acquire) & FINISHED != 0
    }

    /// Task side: hands `outcome` over (the first one wins) with `store`,
    /// which puts it where the handle's `take` finds it, and wakes the
    /// awaiting handle. With no handle left, the outcome is dropped here
    /// instead, on the task's thread.
    pub(crate) fn complete<O>(self, outcome: O, store: impl FnOnce(O)) {
        let (unread, waker) = {
            let mut waiter = self.waiter.lock();
            let progress = self.progress.load(Ordering::Relaxed);
            if progress & FINISHED != 0 {
                return;
            }
            let handed_over = if progress & DETACHED == 0 {
                store(outcome);
                (None, waiter.take())
            } else {
                (Some(outcome), None)
            };
            self.progress.store(progress | FINISHED, Ordering::Release);
            handed_over
        };
        drop(unread);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Handle side: the outcome, taken with `take`, once the task finished;
    /// until then the handle's waker is left for the task to wake.
    ///
    /// # Panics
    ///
    /// When the outcome was taken already.
    pub(crate) fn poll_outcome<R>(self, cx: &mut Context<'_>, take: impl FnOnce() -> R) -> Poll<R> {
        // Once FINISHED is set, the task side never writes the progress or
        // the outcome again, and only this handle does: a finished task's
        // outcome is taken without the lock. Acquire pairs with the
        // Release that set FINISHED after the outcome was stored.
        let mut progress = self.progress.load(Ordering::Acquire);
        if progress & FINISHED == 0 {
            let mut waiter = self.waiter.lock();
            progress = self.progress.load(Ordering::Relaxed);
            if progress & FINISHED == 0 {
                match &mut *waiter {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    slot => *slot = Some(cx.waker().clone()),
                }
                return Poll::Pending;
            }
        }
        assert!(
            progress & READ == 0,
            "JoinHandle polled again after it returned the task's outcome"
        );
        self.progress.store(progress | READ, Ordering::Relaxed);
        Poll::Ready(take())
    }

    /// Handle side, when the handle goes: drops an outcome it did not read
    /// (now, on its thread, with `take` to get it) and its waker.
    pub(crate) fn detach<R>(self, take: impl FnOnce() -> R) {
        // The usual end: the handle was awaited, nothing is left to drop.
        // (Only the handle sets READ, so its own earlier store is visible.)
        if self.progress.load(Ordering::Relaxed) & READ != 0 {
            return;
        }
        let (waker, unread) = {
            let mut waiter = self.waiter.lock();
            let progress = self.progress.load(Ordering::Relaxed);
            self.progress.store(progress | DETACHED, Ordering::Relaxed);
            (waiter.take(), (progress & FINISHED != 0).then(take))
        };
        drop(waker);
        drop(unread);
    }
}
