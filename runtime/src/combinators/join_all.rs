//! `join_all`: run every future to completion, outputs in input order.
//!
//! This is asyncio's `gather(*aws, return_exceptions=True)`: every future
//! runs to the end, whatever the others do, and the caller gets every output.
//! Rust has no exceptions, so "returning exceptions" simply means that a
//! future whose output is a `Result` hands back its `Err` in its slot like any
//! other value. (For `gather` without `return_exceptions`, which stops at the
//! first error, see [`try_join_all`](super::try_join_all()).)
//!
//! The futures live in a [`FutureSet`](super::future_set::FutureSet), so a
//! wake-up polls only the future that was woken, and each output is filed
//! under its input index as it arrives:
//!
//! ```text
//!   input:       [f0, f1, f2]
//!   completes:    f2, f0, f1        (any order)
//!   output:      [o0, o1, o2]       (input order)
//! ```
//!
//! Cancellation: dropping a `JoinAll` drops every future that has not
//! finished, and the outputs collected so far.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::future_set::FutureSet;
use super::outputs::InOrder;

/// Runs every future to completion and returns their outputs in input order
/// (asyncio's `gather(..., return_exceptions=True)`).
///
/// The futures run concurrently on the caller's task; a wake-up polls only
/// the future it was for. With no futures the result is an empty `Vec`, at
/// once. Dropping the returned future drops every future not finished yet.
///
/// ```
/// use weft_runtime::combinators::join_all;
///
/// let outputs = futures::executor::block_on(join_all([
///     Box::pin(async { Ok(1) }) as std::pin::Pin<Box<dyn std::future::Future<Output = _>>>,
///     Box::pin(async { Err("no") }),
///     Box::pin(async { Ok(3) }),
/// ]));
/// assert_eq!(outputs, [Ok(1), Err("no"), Ok(3)]);
/// ```
pub fn join_all<I>(futures: I) -> JoinAll<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    let set: FutureSet<_> = futures.into_iter().map(Box::pin).collect();
    let outputs = InOrder::with_len(set.len());
    JoinAll { set, outputs }
}

/// The future returned by [`join_all`].
#[must_use = "futures do nothing unless awaited"]
pub struct JoinAll<F: Future> {
    set: FutureSet<Pin<Box<F>>>,
    outputs: InOrder<F::Output>,
}

// The futures are boxed and the outputs are never pinned, so moving a
// `JoinAll` is always fine.
impl<F: Future> Unpin for JoinAll<F> {}

impl<F: Future> Future for JoinAll<F> {
    type Output = Vec<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        while let Some((index, output)) = ready!(this.set.poll_next(cx)) {
            this.outputs.insert(index, output);
        }
        Poll::Ready(this.outputs.take_all())
    }
}

impl<F: Future> fmt::Debug for JoinAll<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinAll")
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
    fn outputs_come_back_in_input_order_whatever_the_completion_order() {
        let (senders, receivers): (Vec<_>, Vec<_>) = (0..4).map(|_| oneshot::channel()).unzip();
        let all = join_all(receivers);
        for (value, tx) in senders.into_iter().enumerate().rev() {
            tx.send(value * 10).unwrap();
        }
        let outputs: Vec<usize> = block_on(all).into_iter().map(Result::unwrap).collect();
        assert_eq!(outputs, [0, 10, 20, 30]);
    }

    #[test]
    fn every_future_runs_to_the_end_and_errors_are_values() {
        let (tx, rx) = oneshot::channel::<()>();
        let outputs = block_on(join_all([
            Box::pin(async { Err("early") }) as Pin<Box<dyn Future<Output = Result<u8, &str>>>>,
            Box::pin(async move {
                rx.await.unwrap();
                Ok(2)
            }),
            Box::pin(async move {
                tx.send(()).unwrap();
                Ok(3)
            }),
        ]));
        assert_eq!(outputs, [Err("early"), Ok(2), Ok(3)]);
    }

    #[test]
    fn no_futures_gives_an_empty_vec() {
        let outputs: Vec<()> = block_on(join_all(Vec::<std::future::Ready<()>>::new()));
        assert!(outputs.is_empty());
    }

    #[test]
    fn dropping_join_all_drops_the_unfinished_futures() {
        let alive = Rc::new(());
        let (_tx, rx) = oneshot::channel::<()>();
        let guard = Rc::clone(&alive);
        let mut all = join_all([async move {
            let _guard = guard;
            rx.await
        }]);
        let mut cx = Context::from_waker(futures::task::noop_waker_ref());
        assert!(Pin::new(&mut all).poll(&mut cx).is_pending());
        assert_eq!(Rc::strong_count(&alive), 2);
        drop(all);
        assert_eq!(Rc::strong_count(&alive), 1);
    }
}
