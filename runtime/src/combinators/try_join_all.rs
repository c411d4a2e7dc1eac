//! `try_join_all`: all `Ok` values in input order, or the first `Err`.
//!
//! This is asyncio's `gather(*aws)` without `return_exceptions`, with one
//! difference that Rust makes natural: when asyncio's `gather` raises the
//! first exception it leaves the other awaitables running, while
//! `try_join_all` drops them at once. Dropping a future is how Rust cancels
//! it, so on the first `Err` nothing the caller started keeps running behind
//! its back.
//!
//! ```text
//!   f0 ──── Ok(a) ─┐
//!   f1 ─────────── Err(e) ──▶ f0's output, f2 and f3 are dropped ──▶ Err(e)
//!   f2 ───────── (pending)
//!   f3 ── Ok(c) ──┘            (already finished: its output is dropped too)
//! ```
//!
//! "First" means first to be observed: the futures are polled in the order
//! they were woken (see [`FutureSet`](super::future_set::FutureSet)), and the
//! first `Err` returned by a poll wins.
//!
//! Cancellation: dropping a `TryJoinAll` drops every future that has not
//! finished, and the values collected so far.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::future_set::FutureSet;
use super::outputs::InOrder;

/// Runs the futures concurrently and returns all their `Ok` values in input
/// order, or the first `Err`, after dropping every future still running
/// (asyncio's `gather` without `return_exceptions`).
///
/// With no futures the result is `Ok(vec![])`, at once. Dropping the
/// returned future drops every future not finished yet.
///
/// Dropping a [`JoinHandle`](crate::JoinHandle) detaches its task rather
/// than cancelling it, so over spawned tasks the "rest" keep running after
/// an `Err`; to cancel sibling tasks on the first failure, use a
/// [`TaskGroup`](super::TaskGroup).
///
/// ```
/// use weft_runtime::combinators::try_join_all;
///
/// futures::executor::block_on(async {
///     let parsed = try_join_all(["1", "2", "3"].map(|s| async move { s.parse::<u8>() })).await;
///     assert_eq!(parsed, Ok(vec![1, 2, 3]));
///
///     let parsed = try_join_all(["1", "x", "3"].map(|s| async move { s.parse::<u8>() })).await;
///     assert!(parsed.is_err());
/// });
/// ```
pub fn try_join_all<I, T, E>(futures: I) -> TryJoinAll<I::Item, T>
where
    I: IntoIterator,
    I::Item: Future<Output = Result<T, E>>,
{
    let set: FutureSet<_> = futures.into_iter().map(Box::pin).collect();
    let values = InOrder::with_len(set.len());
    TryJoinAll { set, values }
}

/// The future returned by [`try_join_all`]; `T` is the futures' `Ok` type.
#[must_use = "futures do nothing unless awaited"]
pub struct TryJoinAll<F, T> {
    set: FutureSet<Pin<Box<F>>>,
    values: InOrder<T>,
}

// The futures are boxed and the values are never pinned, so moving a
// `TryJoinAll` is always fine.
impl<F, T> Unpin for TryJoinAll<F, T> {}

impl<F, T, E> Future for TryJoinAll<F, T>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = Result<Vec<T>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        while let Some((index, output)) = ready!(this.set.poll_next(cx)) {
            match output {
                Ok(value) => this.values.insert(index, value),
                Err(error) => {
                    // Cancel the rest now, not when the caller drops us. A
                    // fresh set, not a cleared one: wakers of the dropped
                    // futures that linger elsewhere point at the old set.
                    this.set = FutureSet::new();
                    this.values = InOrder::with_len(0);
                    return Poll::Ready(Err(error));
                }
            }
        }
        Poll::Ready(Ok(this.values.take_all()))
    }
}

impl<F, T> fmt::Debug for TryJoinAll<F, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryJoinAll")
            .field("unfinished", &self.set.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::channel::oneshot;
    use futures::executor::block_on;
    use std::rc::Rc;

    #[test]
    fn all_ok_values_come_back_in_input_order() {
        let (senders, receivers): (Vec<_>, Vec<_>) = (0..3).map(|_| oneshot::channel()).unzip();
        let all = try_join_all(receivers);
        for (value, tx) in senders.into_iter().enumerate().rev() {
            tx.send(value).unwrap();
        }
        assert_eq!(block_on(all), Ok(vec![0, 1, 2]));
    }

    #[test]
    fn the_first_error_drops_the_other_futures_at_once() {
        let alive = Rc::new(());
        let (fail_tx, fail_rx) = oneshot::channel::<()>();
        let guarded = |value: u8| {
            let guard = Rc::clone(&alive);
            Box::pin(async move {
                let _guard = guard;
                futures::future::pending::<()>().await;
                Ok(value)
            }) as Pin<Box<dyn Future<Output = Result<u8, &str>>>>
        };
        let mut all = try_join_all([
            guarded(0),
            Box::pin(async move {
                fail_rx.await.unwrap();
                Err("boom")
            }),
            guarded(2),
        ]);
        let mut cx = Context::from_waker(futures::task::noop_waker_ref());
        assert!(Pin::new(&mut all).poll(&mut cx).is_pending());
        assert_eq!(Rc::strong_count(&alive), 3);

        fail_tx.send(()).unwrap();
        assert_eq!(Pin::new(&mut all).poll(&mut cx), Poll::Ready(Err("boom")));
        // `all` is still alive, yet the siblings are gone.
        assert_eq!(Rc::strong_count(&alive), 1);
    }

    #[test]
    fn no_futures_gives_ok_empty() {
        let all = try_join_all(Vec::<std::future::Ready<Result<u8, ()>>>::new());
        assert_eq!(block_on(all), Ok(vec![]));
    }
}
