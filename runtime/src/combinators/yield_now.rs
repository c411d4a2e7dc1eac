//! `yield_now`: let the other ready tasks run before this one goes on.
//!
//! asyncio spells this `await asyncio.sleep(0)`. The future returned by
//! [`yield_now`] wakes its own task and returns `Pending` on its first poll,
//! then returns `Ready(())` on the second. On weft a task woken from the
//! runtime's own thread goes to the back of the run queue, so every task that
//! was already ready runs before this one resumes.
//!
//! ```text
//!   run queue before:  [A (yields), B, C]
//!   A polls YieldNow → wakes A, Pending
//!   run queue after:   [B, C, A]           A resumes after B and C
//! ```
//!
//! Inside a combinator such as [`join_all`](super::join_all()) the wake-up goes
//! to the combinator first: the yielding child is polled again on the
//! combinator's next poll, after the combinator's task has gone round the run
//! queue (see [`FutureSet`](super::future_set)'s one-ready-list-per-poll rule).
//!
//! Cancellation: dropping a `YieldNow` is always fine; at worst its task gets
//! one extra poll from the wake-up it already issued.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Yields once to the executor: the task is woken at once but returns
/// `Pending`, so other ready tasks run first.
///
/// ```
/// use weft_runtime::combinators::yield_now;
///
/// futures::executor::block_on(async {
///     yield_now().await; // back here after one trip round the executor
/// });
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future returned by [`yield_now`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Wake, Waker};

    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn pending_once_with_a_wake_up_then_ready() {
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&counter));
        let mut cx = Context::from_waker(&waker);
        let mut fut = yield_now();

        assert_eq!(Pin::new(&mut fut).poll(&mut cx), Poll::Pending);
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        assert_eq!(Pin::new(&mut fut).poll(&mut cx), Poll::Ready(()));
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
    }
}
