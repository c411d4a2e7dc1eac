//! [`Sleep`]: a future that completes once the runtime's clock reaches a
//! deadline (asyncio's `sleep`).
//!
//! A `Sleep` is a deadline plus, once it has been polled, a *registration*:
//! the key of its entry in the runtime's timing wheel and the runtime's
//! timer driver. Its life:
//!
//! ```text
//!   sleep(d) ── no wheel entry yet: creating a Sleep is free and works
//!      │        outside a runtime
//!      │ poll, deadline ahead
//!      ▼
//!   registered ── poll again: same deadline → only the waker is updated
//!      │                      reset deadline → the entry is moved, O(1)
//!      │ the wheel fires the entry (wakes the task)
//!      ▼
//!   poll: Ready(()) and the entry is freed        drop at any point: the
//!                                                 entry is unlinked and
//!                                                 freed at once, O(1)
//! ```
//!
//! # No clock read on the way
//!
//! A real clock costs a system call to read, and a sleeping task is polled
//! twice (when it starts sleeping, and when its timer woke it), so neither
//! poll reads it. Each relies on something that proves the deadline passed
//! instead, and only ever errs towards "not yet":
//!
//! * **First poll** (and the poll after a `reset`): the deadline is compared
//!   with the instant the driver last read the clock at (`fire_due`, once
//!   per turn of the event loop; a paused clock is read exactly, it costs
//!   nothing). Passed by then: `Ready` without touching the wheel. Not
//!   passed by then, though maybe passed by now: the entry is placed, and
//!   the wheel, which puts a past tick in its current slot, fires it at its
//!   next advance, a turn later.
//! * **Later polls**: the entry has fired, which the wheel does only once
//!   the clock reached the deadline (it rounds deadlines up and the present
//!   down), so the deadline passed: `Ready`. Not fired: the poll was
//!   spurious (another branch of a `select`, say), and only the waker is
//!   updated.
//!
//! So a `Sleep` never completes early, and completes at most one turn later
//! than a fresh clock read would have let it.
//!
//! `Sleep` is `Unpin` (the wheel refers to it by slab key, not by address),
//! so `(&mut sleep).await` works without pinning. Polled after completion it
//! returns `Ready(())` again.
//!
//! # `Send + Sync`
//!
//! A `Sleep` holds no `Rc`: its registration names its runtime's timer
//! driver through the driver's `Send + Sync` cancellation handle, and each
//! poll looks up the runtime current on the polling thread. So other crates
//! can build their timer traits on it (hyper's `rt::Sleep` must be
//! `Send + Sync`), and a `Sleep` may cross threads inside a `Send` future.
//! The rules where it lands:
//!
//! * **Polled where no weft runtime runs**: it panics, saying so (as
//!   before); nothing is registered and nothing unsafe happens.
//! * **Polled on another runtime** than the one it is registered with: it
//!   leaves the old runtime's wheel and registers with the new one.
//! * **Dropped where its runtime is not current** (another thread, or after
//!   `block_on` returned): it posts its key to its runtime, which frees the
//!   entry at its next turn, before firing anything; the entry wakes nobody.
//!
//! On its own runtime, the common case, this costs a pointer comparison per
//! poll, and the thread-local lookup every poll already made, at drop.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::instant::{deadline_after, now};
use crate::driver::clock::PackedInstant;
use crate::driver::timer::{RemoteCancels, TimeDriver};
use crate::driver::wheel::TimerKey;
use crate::scheduler::context;

/// Waits until `duration` has passed on the runtime's clock (asyncio's
/// `asyncio.sleep`).
///
/// The deadline is [`now()`](crate::time::now)` + duration`, taken when
/// `sleep` is called (outside a runtime: from the real clock); the wheel
/// is touched only at the first poll. The `Sleep` completes no earlier than
/// the deadline, and normally within a millisecond or two after it (timers
/// have 1 ms resolution). A duration too long for `Instant` to add (such as
/// `Duration::MAX`) means about 30 years: never, in practice, yet a paused
/// clock can still reach it.
///
/// ```
/// use std::time::Duration;
/// use weft_runtime::time;
///
/// weft_runtime::run(async {
///     let start = time::now();
///     time::sleep(Duration::from_millis(20)).await;
///     assert!(time::now() - start >= Duration::from_millis(20));
/// });
/// ```
///
/// # Panics
///
/// Awaiting the `Sleep` outside a weft runtime panics.
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(deadline_after(now(), duration))
}

/// Waits until the runtime's clock reaches `deadline`.
///
/// Deadlines are `std::time::Instant`s on the runtime's clock: take them
/// from [`time::now()`](crate::time::now), which a paused clock controls,
/// rather than from `Instant::now()`. A deadline in the past completes at
/// the first poll.
///
/// ```
/// use std::time::Duration;
/// use weft_runtime::time;
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let start = time::now();
///     let deadline = start + Duration::from_secs(90);
///     time::sleep_until(deadline).await;
///     // The paused clock jumped straight to the deadline.
///     assert_eq!(time::now(), deadline);
/// });
/// ```
///
/// # Panics
///
/// Awaiting the `Sleep` outside a weft runtime panics.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline: PackedInstant::pack(deadline),
        registration: None,
    }
}

/// The future returned by [`sleep`] and [`sleep_until`].
///
/// Cancel it by dropping it: its timer is removed from the wheel at once.
/// It is `Unpin`, so `(&mut sleep).await` needs no pinning, and
/// `Send + Sync`, so it fits in `Send` futures and other crates' timer
/// traits. Polled where no weft runtime runs, it panics; polled on another
/// runtime than before, it moves there; dropped where its runtime is not
/// current, its runtime frees its timer at its next turn.
///
/// ```
/// use std::time::Duration;
/// use weft_runtime::time;
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let start = time::now();
///     let mut nap = time::sleep(Duration::from_secs(5));
///     assert!(!nap.is_elapsed());
///     // Push the deadline back before waiting.
///     nap.reset(start + Duration::from_secs(8));
///     (&mut nap).await;
///     assert!(nap.is_elapsed());
///     assert_eq!(time::now(), start + Duration::from_secs(8));
/// });
/// ```
pub struct Sleep {
    /// Packed into one word (see `PackedInstant`): a sleeping task carries
    /// its `Sleep` inside its future, so every byte here is paid once per
    /// sleeper.
    deadline: PackedInstant,
    registration: Option<Registration>,
}

/// A `Sleep`'s entry in one runtime's wheel.
///
/// A flag, rather than a copy of the deadline the entry was placed for,
/// keeps the registration at two words and the whole `Sleep` at three.
struct Registration {
    /// The driver the entry lives in, named by its cancellation handle.
    home: Arc<RemoteCancels>,
    key: TimerKey,
    /// `reset` changed the deadline since the entry was placed: the next
    /// poll moves the entry.
    deadline_changed: bool,
}

impl Sleep {
    /// The instant this `Sleep` completes at (on the runtime's clock).
    pub fn deadline(&self) -> Instant {
        self.deadline.unpack()
    }

    /// Whether the runtime's clock has reached the deadline: then the next
    /// poll completes at once.
    ///
    /// The clock read is the current runtime's, or the real clock where no
    /// runtime runs.
    pub fn is_elapsed(&self) -> bool {
        now() >= self.deadline()
    }

    /// Changes the deadline, earlier or later, even after completion: the
    /// `Sleep` can then be awaited again. The timer is moved at the next
    /// poll; a `Sleep` is owned by the one task that polls it, so nobody can
    /// be waiting on it meanwhile.
    pub fn reset(&mut self, deadline: Instant) {
        let deadline = PackedInstant::pack(deadline);
        if deadline == self.deadline {
            return;
        }
        self.deadline = deadline;
        if let Some(registration) = &mut self.registration {
            registration.deadline_changed = true;
        }
    }

    /// Removes the timer from the wheel, if registered.
    pub(crate) fn cancel(&mut self) {
        if self.registration.is_some() {
            let current = context::try_current();
            self.leave(current.as_ref().map(|core| &*core.time));
        }
    }

    /// Removes the timer from its wheel: directly if that is `current`'s,
    /// otherwise through its runtime's remote cancellations.
    fn leave(&mut self, current: Option<&TimeDriver>) {
        let Some(registration) = self.registration.take() else {
            return;
        };
        match current {
            Some(driver) if Arc::ptr_eq(driver.remote_cancels(), &registration.home) => {
                driver.cancel(registration.key);
            }
            _ => registration.home.push(registration.key),
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // The module docs explain why no poll reads the clock.
        let this = self.get_mut();
        let driver = context::time_driver();
        let deadline = this.deadline;
        match &mut this.registration {
            Some(registration)
                if Arc::ptr_eq(&registration.home, driver.remote_cancels())
                    && !registration.deadline_changed =>
            {
                if driver.remove_if_fired(registration.key) {
                    this.registration = None;
                    return Poll::Ready(());
                }
                driver.set_waker(registration.key, cx.waker());
            }
            _ if deadline <= driver.observed_now() => {
                this.leave(Some(&driver));
                return Poll::Ready(());
            }
            Some(registration) if Arc::ptr_eq(&registration.home, driver.remote_cancels()) => {
                // `reset` moved the deadline.
                driver.reschedule(registration.key, deadline, cx.waker());
                registration.deadline_changed = false;
            }
            _ => {
                // First poll, or first poll on another runtime than the one
                // it was registered with: register here (and leave there).
                this.leave(Some(&driver));
                let key = driver.register(deadline, cx.waker());
                this.registration = Some(Registration {
                    home: driver.remote_cancels().clone(),
                    key,
                    deadline_changed: false,
                });
            }
        }
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.cancel();
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline())
            .field("registered", &self.registration.is_some())
            .finish()
    }
}

#[cfg(all(test, not(loom), target_pointer_width = "64"))]
mod tests {
    use super::*;
    use crate::executor::task_block::block_size;

    #[test]
    fn a_sleeping_task_takes_104_bytes() {
        // The shape of the example in `executor/task_block.rs`'s module
        // docs: 104 bytes fit the allocator's 112-byte chunk.
        let duration = Duration::from_millis(5);
        let sleeper = async move {
            sleep(duration).await;
            Instant::now()
        };
        assert_eq!(size_of_val(&sleeper), 48);
        assert_eq!(block_size(&sleeper), 104);
    }
}
