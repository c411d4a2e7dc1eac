//! [`timeout`]: run a future with a deadline (asyncio's `wait_for`).
//!
//! A [`Timeout`] owns the inner future and its limit (a duration, or an
//! instant for [`timeout_at`]); the first poll that finds the inner future
//! pending turns the limit into a [`Sleep`] in the same place. Each poll:
//!
//! ```text
//!   poll inner ── Ready(v) ──▶ drop inner, cancel the timer ──▶ Ready(Ok(v))
//!      │ Pending
//!   poll sleep ── Ready    ──▶ drop inner                   ──▶ Ready(Err(Elapsed))
//!      │ Pending
//!   Pending (woken by whichever comes first)
//! ```
//!
//! The inner future goes first, so a future that is ready at once never
//! reads the clock nor touches the timing wheel, and a value
//! that is ready at the deadline is returned rather than lost. On expiry the
//! inner future is dropped right away, as asyncio cancels the awaitable; on
//! success the timer leaves the wheel right away. Dropping the `Timeout`
//! drops both.
//!
//! Most timeouts guard work that finishes in time, often at its first poll,
//! so that path is kept short: building a `Timeout` writes the inner future
//! and the limit (whose tag sits in a spare byte of the `Sleep` it shares
//! its place with), and the ready poll empties the inner future's slot and
//! tests whether a timer was armed, nothing more.

use std::error::Error;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::instant::{deadline_after, now};
use super::sleep::{sleep_until, Sleep};

/// Runs `future` for at most `duration` (asyncio's `wait_for`): resolves to
/// `Ok(output)` if it completes in time, or `Err(Elapsed)` after dropping it.
///
/// As with asyncio's `wait_for` (a coroutine that starts timing when it is
/// awaited), the clock starts at the first poll, and only if the inner
/// future is not ready at once: a ready future costs no clock read at all.
/// For a fixed instant, use [`timeout_at`]. See [`sleep`](crate::sleep) for
/// the clock and the rounding.
///
/// ```
/// use std::time::Duration;
/// use weft_runtime::time;
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let quick = time::timeout(Duration::from_secs(1), async { 7 }).await;
///     assert_eq!(quick, Ok(7));
///
///     let slow = time::sleep(Duration::from_secs(60));
///     let err = time::timeout(Duration::from_secs(30), slow).await.unwrap_err();
///     assert_eq!(err.to_string(), "deadline elapsed before the future completed (it was dropped)");
/// });
/// ```
///
/// # Panics
///
/// Awaiting the `Timeout` outside a weft runtime panics.
pub fn timeout<F: IntoFuture>(duration: Duration, future: F) -> Timeout<F::IntoFuture> {
    Timeout {
        future: Some(future.into_future()),
        timer: Timer::After(duration),
    }
}

/// Runs `future` until the runtime's clock reaches `deadline`; see
/// [`timeout`].
///
/// ```
/// use std::time::Duration;
/// use weft_runtime::time;
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let deadline = time::now() + Duration::from_secs(10);
///     let err = time::timeout_at(deadline, std::future::pending::<()>()).await.unwrap_err();
///     assert_eq!(err.deadline(), deadline);
///     assert_eq!(time::now(), deadline);
/// });
/// ```
///
/// # Panics
///
/// Awaiting the `Timeout` outside a weft runtime panics.
pub fn timeout_at<F: IntoFuture>(deadline: Instant, future: F) -> Timeout<F::IntoFuture> {
    Timeout {
        future: Some(future.into_future()),
        timer: Timer::At(deadline),
    }
}

/// The future returned by [`timeout`] and [`timeout_at`].
///
/// ```
/// use std::time::Duration;
/// use weft_runtime::time;
///
/// weft_runtime::run(async {
///     let guarded = time::timeout(Duration::from_secs(5), async { "done" });
///     // The clock starts at the first poll that finds the work pending.
///     assert_eq!(guarded.deadline(), None);
///     assert_eq!(guarded.await, Ok("done"));
///
///     let at = time::now() + Duration::from_secs(5);
///     assert_eq!(time::timeout_at(at, async {}).deadline(), Some(at));
/// });
/// ```
pub struct Timeout<F> {
    /// `None` once the `Timeout` has completed: the inner future is dropped
    /// as soon as the outcome is known.
    future: Option<F>,
    timer: Timer,
}

/// A [`Timeout`]'s deadline: a limit until the first poll that finds the
/// inner future pending, an armed [`Sleep`] from then on.
///
/// One enum rather than a limit beside an `Option<Sleep>`: the limit and
/// the `Sleep` are never needed together, and the tag lives in a spare byte
/// of the `Sleep`, so the `Timeout` is its future plus a `Sleep`, and one
/// whose future is ready at once writes the limit and that byte, no more.
enum Timer {
    /// This long after the first poll that found the inner future pending.
    After(Duration),
    /// At this instant.
    At(Instant),
    /// The first pending poll made this; it stays (cancelled) once the
    /// outcome is known, so `deadline()` still answers.
    Armed(Sleep),
}

impl<F> Timeout<F> {
    /// The instant at which the inner future is given up: known from the
    /// start for [`timeout_at`], and from the first poll that found the
    /// inner future pending for [`timeout`] (`None` before).
    pub fn deadline(&self) -> Option<Instant> {
        match &self.timer {
            Timer::After(_) => None,
            Timer::At(deadline) => Some(*deadline),
            Timer::Armed(sleep) => Some(sleep.deadline()),
        }
    }
}

impl<F> fmt::Debug for Timeout<F> {
    /// Shows the deadline and whether the outcome is known; the inner future
    /// need not be `Debug` (async blocks are not).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("deadline", &self.deadline())
            .field("completed", &self.future.is_none())
            .finish()
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `future` is structurally pinned: it is only ever used
        // through the `Pin` made here (polled, or dropped in place by
        // `Pin::set`), never moved out, and `Timeout` has no `Drop` impl that
        // could move it. `timer` is not pinned (`Sleep` is `Unpin`), so a
        // plain reference to it is fine.
        let (mut future, timer) = unsafe {
            let this = self.get_unchecked_mut();
            (Pin::new_unchecked(&mut this.future), &mut this.timer)
        };
        let Some(inner) = future.as_mut().as_pin_mut() else {
            panic!("`Timeout` polled after it completed");
        };
        if let Poll::Ready(output) = inner.poll(cx) {
            future.set(None);
            if let Timer::Armed(sleep) = timer {
                sleep.cancel();
            }
            return Poll::Ready(Ok(output));
        }
        let sleep = match *timer {
            Timer::Armed(ref mut sleep) => sleep,
            Timer::At(deadline) => timer.arm(deadline),
            Timer::After(duration) => timer.arm(deadline_after(now(), duration)),
        };
        if Pin::new(&mut *sleep).poll(cx).is_ready() {
            future.set(None);
            return Poll::Ready(Err(Elapsed {
                deadline: sleep.deadline(),
            }));
        }
        Poll::Pending
    }
}

impl Timer {
    /// Replaces the limit by a `Sleep` until `deadline` and returns it.
    fn arm(&mut self, deadline: Instant) -> &mut Sleep {
        *self = Timer::Armed(sleep_until(deadline));
        match self {
            Timer::Armed(sleep) => sleep,
            Timer::After(_) | Timer::At(_) => unreachable!("armed just now"),
        }
    }
}

/// The error of a [`Timeout`] whose deadline passed first; the inner future
/// has been dropped.
///
/// It converts into an `io::Error` of kind `TimedOut`, so `?` works in I/O
/// code:
///
/// ```
/// use std::io;
/// use std::time::Duration;
/// use weft_runtime::time;
///
/// async fn read_or_give_up() -> io::Result<()> {
///     time::timeout(Duration::from_secs(1), std::future::pending::<()>()).await?;
///     Ok(())
/// }
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// let err = rt.block_on(read_or_give_up()).unwrap_err();
/// assert_eq!(err.kind(), io::ErrorKind::TimedOut);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed {
    deadline: Instant,
}

impl Elapsed {
    /// The deadline that passed.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline elapsed before the future completed (it was dropped)")
    }
}

impl Error for Elapsed {}

impl From<Elapsed> for io::Error {
    fn from(elapsed: Elapsed) -> Self {
        io::Error::new(io::ErrorKind::TimedOut, elapsed)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::future::{pending, poll_fn};
    use std::pin::pin;
    use std::rc::Rc;

    use super::*;
    use crate::{yield_now, Builder};

    /// An inner future that is not `Unpin` (so the pinning is real) and
    /// sets `dropped` when it is dropped, after `yields` pending polls if it
    /// completes.
    fn guarded(dropped: &Rc<Cell<bool>>, yields: usize, finish: bool) -> impl Future<Output = u8> {
        struct SetOnDrop(Rc<Cell<bool>>);
        impl Drop for SetOnDrop {
            fn drop(&mut self) {
                self.0.set(true);
            }
        }
        let flag = SetOnDrop(dropped.clone());
        async move {
            let _flag = flag;
            for _ in 0..yields {
                yield_now().await;
            }
            if !finish {
                pending::<()>().await;
            }
            7
        }
    }

    /// Each outcome drops the pinned inner future where it lies, as soon as
    /// the outcome is known, while the `Timeout` itself is still alive.
    #[test]
    fn each_outcome_drops_the_inner_future_in_place_at_once() {
        let rt = Builder::new().start_paused(true).build();
        rt.block_on(async {
            let second = Duration::from_secs(1);
            for (yields, finish, expected) in
                [(0, true, Ok(7)), (2, true, Ok(7)), (0, false, Err(()))]
            {
                let dropped = Rc::new(Cell::new(false));
                let mut timeout = pin!(timeout(second, guarded(&dropped, yields, finish)));
                let output = timeout.as_mut().await;
                assert_eq!(output.map_err(|_| ()), expected);
                assert!(dropped.get());
                assert_eq!(timeout.deadline().is_some(), yields > 0 || !finish);
                assert!(format!("{timeout:?}").contains("completed: true"));
            }
        });
    }

    #[test]
    #[should_panic(expected = "`Timeout` polled after it completed")]
    fn polling_after_completion_panics() {
        let rt = Builder::new().start_paused(true).build();
        rt.block_on(async {
            let mut timeout = pin!(timeout(Duration::from_secs(1), async { 7 }));
            assert_eq!(timeout.as_mut().await, Ok(7));
            poll_fn(|cx| timeout.as_mut().poll(cx)).await.ok();
        });
    }
}
