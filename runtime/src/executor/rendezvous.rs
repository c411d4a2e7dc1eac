//! The rendezvous where a task hands its outcome over to its `JoinHandle`.
//!
//! A task and its handle meet at a progress byte and a [`Waiter`] slot
//! holding the waker of whoever awaits the handle, which a one-byte lock
//! guards. The task hands its outcome over
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
//! The rendezvous only borrows its three fields, and never sees the
//! outcome's storage: the owner keeps them where it likes. A spawned task
//! keeps all four in its own block (`task_block.rs`: the progress byte, the
//! lock and the waiter in its header, the outcome in the memory its
//! finished future occupied); a `spawn_blocking` job keeps them in a small
//! `Arc` of its own (`blocking_pool.rs`).
//!
//! The lock is a [`ByteLock`], one byte kept beside the slot rather than a
//! `Mutex<Option<Waker>>` around it: the mutex would pad its lock byte to
//! the waker's alignment, a whole word in every task's header, where the
//! byte shares a word with the progress byte and the wake flags.
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
use super::facade::{ByteLock, ByteLockGuard, UnsafeCell};

/// The outcome is known: stored for the handle, or dropped if it was gone.
const FINISHED: u8 = 1;
/// The handle took the outcome: dropping it has nothing left to do.
const READ: u8 = 2;
/// The handle was dropped: an outcome that comes later is dropped at once.
const DETACHED: u8 = 4;

/// Where the waker of whoever awaits the handle waits: a slot that the
/// rendezvous' [`ByteLock`] guards.
pub(crate) struct Waiter(UnsafeCell<Option<Waker>>);

impl Waiter {
    pub(crate) fn new() -> Self {
        Self(UnsafeCell::new(None))
    }

    /// Runs `f` on the slot, while `_locked` holds the lock paired with it
    /// (the rendezvous pairs them).
    fn with<R>(&self, _locked: &ByteLockGuard<'_>, f: impl FnOnce(&mut Option<Waker>) -> R) -> R {
        self.0.with_mut(|slot| {
            // SAFETY: the lock paired with this slot is held, so no other
            // access runs; the reference ends with `f`.
            f(unsafe { &mut *slot })
        })
    }
}

// SAFETY: the slot holds a `Waker`, which is `Send + Sync`, and is reached
// only through `with`, under the lock the rendezvous pairs it with: by one
// thread at a time, each after the previous holder released the lock.
unsafe impl Sync for Waiter {}

/// The three fields where a task and its handle meet, borrowed from wherever
/// their owner keeps them, plus the protocol over them. The outcome's
/// storage is the owner's: the task side passes a `store` function, the
/// handle side a `take` function, and the rendezvous calls each at most
/// once, at the right moment (`store` under the lock).
#[derive(Clone, Copy)]
pub(crate) struct Rendezvous<'a> {
    progress: &'a AtomicU8,
    lock: &'a ByteLock,
    waiter: &'a Waiter,
}

impl<'a> Rendezvous<'a> {
    /// The rendezvous over these fields; `lock` is the one that guards
    /// `waiter`, always the same pair.
    pub(crate) fn new(progress: &'a AtomicU8, lock: &'a ByteLock, waiter: &'a Waiter) -> Self {
        Self {
            progress,
            lock,
            waiter,
        }
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
            let locked = self.lock.lock();
            let progress = self.progress.load(Ordering::Relaxed);
            if progress & FINISHED != 0 {
                return;
            }
            let handed_over = if progress & DETACHED == 0 {
                store(outcome);
                (None, self.waiter.with(&locked, Option::take))
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
            let locked = self.lock.lock();
            progress = self.progress.load(Ordering::Relaxed);
            if progress & FINISHED == 0 {
                let replaced = self.waiter.with(&locked, |slot| match slot {
                    Some(w) if w.will_wake(cx.waker()) => None,
                    slot => slot.replace(cx.waker().clone()),
                });
                // The waker it replaces is dropped outside the lock.
                drop(locked);
                drop(replaced);
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
            let locked = self.lock.lock();
            let progress = self.progress.load(Ordering::Relaxed);
            self.progress.store(progress | DETACHED, Ordering::Relaxed);
            (
                self.waiter.with(&locked, Option::take),
                (progress & FINISHED != 0).then(take),
            )
        };
        drop(waker);
        drop(unread);
    }
}
