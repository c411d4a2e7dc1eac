//! `as_completed`: outputs one by one, in the order the futures finish.
//!
//! This is asyncio's `as_completed(aws)`: a loop body runs for each result
//! as soon as it is ready instead of waiting for the slowest one, as
//! `join_all` would.
//!
//! ```text
//!   as_completed([f0, f1, f2])     f1, then f2, then f0 finish
//!   next().await → Some(o1)
//!   next().await → Some(o2)
//!   next().await → Some(o0)
//!   next().await → None
//! ```
//!
//! The futures only make progress while `next` is being awaited (they run on
//! the caller's task, inside a [`FutureSet`](super::future_set::FutureSet)).
//! Outputs that become ready while the caller is busy elsewhere are picked up
//! by the next call; nothing is lost. With the crate feature `stream`,
//! `AsCompleted` is also a `futures_core::Stream`.
//!
//! Cancellation: the future returned by `next` is cancel-safe. Dropping it
//! before it resolves loses no output: every unfinished future stays in the
//! set, and an output is only taken out of the set when `next` returns it.
//! Dropping the `AsCompleted` drops every future that has not finished.

use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::future_set::FutureSet;

/// Yields the futures' outputs in the order the futures finish (asyncio's
/// `as_completed`).
///
/// The futures run on the caller's task while [`AsCompleted::next`] is
/// awaited. Dropping the `AsCompleted` drops every future that has not
/// finished. With the crate feature `stream` it is also a
/// `futures_core::Stream`.
///
/// ```
/// use weft_runtime::combinators::as_completed;
///
/// futures::executor::block_on(async {
///     let (tx, rx) = futures::channel::oneshot::channel();
///     let mut done = as_completed([
///         Box::pin(async move { rx.await.unwrap() })
///             as std::pin::Pin<Box<dyn std::future::Future<Output = &str>>>,
///         Box::pin(async move {
///             tx.send("second").unwrap();
///             "first"
///         }),
///     ]);
///     assert_eq!(done.len(), 2);
///     assert_eq!(done.next().await, Some("first"));
///     assert_eq!(done.next().await, Some("second"));
///     assert_eq!(done.next().await, None);
/// });
/// ```
pub fn as_completed<I>(futures: I) -> AsCompleted<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    AsCompleted {
        set: futures.into_iter().map(Box::pin).collect(),
    }
}

/// The futures given to [`as_completed`] that have not been yielded yet.
#[must_use = "`AsCompleted` does nothing unless `next` is awaited"]
pub struct AsCompleted<F> {
    set: FutureSet<Pin<Box<F>>>,
}

impl<F: Future> AsCompleted<F> {
    /// The output of the next future to finish, or `None` once every output
    /// has been returned.
    ///
    /// Cancel-safe: dropping the returned future before it resolves loses no
    /// output; the unfinished futures stay in `self` for the next call.
    pub async fn next(&mut self) -> Option<F::Output> {
        poll_fn(|cx| self.poll_completed(cx)).await
    }

    fn poll_completed(&mut self, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        self.set
            .poll_next(cx)
            .map(|finished| finished.map(|(_, output)| output))
    }
}

impl<F> AsCompleted<F> {
    /// Number of outputs not returned yet.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// Whether every output has been returned.
    pub fn is_empty(&self) -> bool {
        self.set.len() == 0
    }
}

impl<F> fmt::Debug for AsCompleted<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("len", &self.len())
            .finish()
    }
}

#[cfg(feature = "stream")]
impl<F: Future> futures_core::Stream for AsCompleted<F> {
    type Item = F::Output;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        self.get_mut().poll_completed(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len(), Some(self.len()))
    }
}

#[cfg(feature = "stream")]
impl<F: Future> futures_core::FusedStream for AsCompleted<F> {
    fn is_terminated(&self) -> bool {
        self.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::channel::oneshot;
    use futures::executor::block_on;

    #[test]
    fn yields_in_completion_order_then_none() {
        let (senders, receivers): (Vec<_>, Vec<_>) = (0..3).map(|_| oneshot::channel()).unzip();
        let mut senders: Vec<_> = senders.into_iter().map(Some).collect();
        let mut done = as_completed(receivers);
        let mut order = Vec::new();
        for index in [2, 0, 1] {
            senders[index].take().unwrap().send(index).unwrap();
            order.push(block_on(done.next()).unwrap().unwrap());
            assert_eq!(done.len(), 3 - order.len());
        }
        assert_eq!(order, [2, 0, 1]);
        assert!(done.is_empty());
        assert_eq!(block_on(done.next()), None);
    }

    #[test]
    fn dropping_a_pending_next_loses_nothing() {
        let (tx, rx) = oneshot::channel::<u8>();
        let mut done = as_completed([rx]);
        {
            let mut next = std::pin::pin!(done.next());
            let mut cx = Context::from_waker(futures::task::noop_waker_ref());
            assert!(next.as_mut().poll(&mut cx).is_pending());
        }
        tx.send(9).unwrap();
        assert_eq!(block_on(done.next()), Some(Ok(9)));
    }

    #[cfg(feature = "stream")]
    #[test]
    fn is_a_stream_with_an_exact_size_hint() {
        use futures::{Stream, StreamExt};

        let done = as_completed([std::future::ready(1), std::future::ready(2)]);
        assert_eq!(done.size_hint(), (2, Some(2)));
        assert_eq!(block_on(done.collect::<Vec<_>>()), [1, 2]);
    }
}
