//! [`Alarm`]: how a simulated operation waits for the clock.
//!
//! A simulated socket has no reactor behind it. A task waits for one of
//! two things: a change someone else makes (data written, a partition
//! healed: the world keeps the task's waker and wakes it), or an instant
//! the world already knows (data on the way arrives at its arrival time, a
//! connect gives up at its timeout). For the second, the operation keeps
//! an `Alarm`, a [`Sleep`] on the runtime's clock, so the paused clock
//! jumps straight to that instant when every task is waiting. No extra
//! task and no background driver is involved: every delivery is observed
//! lazily, by the task that waits for it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::world::Step;
use crate::time::{sleep_until, Sleep};

/// The timer of one waiting operation; empty while the operation waits
/// for no instant.
#[derive(Debug, Default)]
pub(super) struct Alarm {
    sleep: Option<Sleep>,
}

impl Alarm {
    /// Tries `op` until it is ready or must wait: an operation that waits
    /// for an instant already reached (the clock moved on while the alarm
    /// was set) is simply tried again.
    pub(super) fn poll_step<T>(
        &mut self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&Context<'_>) -> Step<T>,
    ) -> Poll<T> {
        loop {
            match op(cx) {
                Step::Ready(value) => {
                    self.sleep = None;
                    return Poll::Ready(value);
                }
                Step::Wait(None) => {
                    self.sleep = None;
                    return Poll::Pending;
                }
                Step::Wait(Some(deadline)) => {
                    let sleep = self.sleep.get_or_insert_with(|| sleep_until(deadline));
                    sleep.reset(deadline);
                    if Pin::new(sleep).poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                }
            }
        }
    }
}
