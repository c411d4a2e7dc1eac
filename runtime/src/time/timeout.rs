//! [`timeout`]: run a future with a deadline (asyncio's `wait_for`).
//!
//! A [`Timeout`] owns the inner future and a [`Sleep`]. Each poll:
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
        limit: Limit::After(duration),
        sleep: None,
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
        limit: Limit::At(deadline),
        sleep: None,
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
    limit: Limit,
    /// Made at the first poll that finds the inner future pending.
    sleep: Option<Sleep>,
}

/// When a [`Timeout`] gives up.
#[derive(Debug, Clone, Copy)]
enum Limit {
    /// This long after the first poll that found the inner future pending.
    After(Duration),
    /// At this instant.
    At(Instant),
}

impl<F> Timeout<F> {
    /// The instant at which the inner future is given up: known from the
    /// start for [`timeout_at`], and from the first poll that found the
    /// inner future pending for [`timeout`] (`None` before).
    pub fn deadline(&self) -> Option<Instant> {
        match (&self.sleep, self.limit) {
            (Some(sleep), _) => Some(sleep.deadline()),
            (None, Limit::At(deadline)) => Some(deadline),
            (None, Limit::After(_)) => None,
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
        // could move it. `limit` and `sleep` are not pinned (`Sleep` is
        // `Unpin`), so plain references to them are fine.
        let (mut future, limit, sleep) = unsafe {
            let this = self.get_unchecked_mut();
            (
                Pin::new_unchecked(&mut this.future),
                &this.limit,
                &mut this.sleep,
            )
        };
        let Some(inner) = future.as_mut().as_pin_mut() else {
            panic!("`Timeout` polled after it completed");
        };
        if let Poll::Ready(output) = inner.poll(cx) {
            future.set(None);
            if let Some(sleep) = sleep {
                sleep.cancel();
            }
            return Poll::Ready(Ok(output));
        }
        let limit = *limit;
        let sleep = sleep.get_or_insert_with(|| match limit {
            Limit::At(deadline) => sleep_until(deadline),
            Limit::After(duration) => sleep_until(deadline_after(now(), duration)),
        });
        if Pin::new(&mut *sleep).poll(cx).is_ready() {
            future.set(None);
            return Poll::Ready(Err(Elapsed {
                deadline: sleep.deadline(),
            }));
        }
        Poll::Pending
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
