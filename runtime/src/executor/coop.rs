//! Cooperative budget: a task that always finds its I/O ready must still
//! give the others a turn.
//!
//! Edge-triggered readiness means a socket that keeps receiving data never
//! returns `WouldBlock`, and a task reading it in a loop would never return
//! `Pending`. So each poll of a task gets a budget of I/O operations; when
//! it is spent, the next operation wakes the task and returns `Pending`,
//! sending it to the back of the run queue. The scheduler refills the
//! budget before every poll.

use std::cell::Cell;
use std::task::{Context, Poll};

/// I/O operations one task may complete in one poll.
pub(crate) const BUDGET: u32 = 128;

thread_local! {
    static REMAINING: Cell<u32> = const { Cell::new(BUDGET) };
}

/// Refills the budget; the scheduler calls it before each task poll.
pub(crate) fn refill() {
    REMAINING.with(|r| r.set(BUDGET));
}

/// Spends one unit, or, when the budget is spent, schedules the task again
/// and returns `Pending` so that it yields.
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    REMAINING.with(|r| match r.get() {
        0 => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        n => {
            r.set(n - 1);
            Poll::Ready(())
        }
    })
}
