//! `select` and `select2`: the first future to finish wins.
//!
//! [`select`] is asyncio's `wait(aws, return_when=FIRST_COMPLETED)`: it
//! resolves as soon as one future finishes, with that output, the winner's
//! index, and the futures that are still running, in input order. They come
//! back untouched (no further polls), so the caller decides: select again
//! over them, await one, or drop them all (which cancels them).
//!
//! ```text
//!   select([f0, f1, f2, f3])      f2 finishes first
//!     └──▶ Some((output of f2, 2, [f0, f1, f3]))
//! ```
//!
//! Because the losers are handed back by value, the futures must be `Unpin`:
//! `JoinHandle`s are, and so is any `Pin<Box<dyn Future>>`.
//!
//! Asked to select over nothing, asyncio's `wait` raises `ValueError`;
//! `select` resolves to `None` instead. That makes "handle everything in
//! completion order, while keeping the rest" a plain loop:
//!
//! ```text
//!   while let Some((output, _, rest)) = select(pending).await { ...; pending = rest; }
//! ```
//!
//! [`select2`] covers the common two-future case, possibly of different types,
//! and reports which side won through [`Either`]. It is `select` over
//! `[Either::Left(a), Either::Right(b)]`: `Either` is itself a future when both
//! sides are. The loser is dropped; pass `&mut a` to keep it.
//!
//! Both are built on [`FutureSet`](super::future_set::FutureSet): a wake-up
//! polls only the future that was woken. When several finish at once, the
//! first one woken wins.
//!
//! Cancellation: dropping a `Select` or `Select2` before it resolves drops
//! every future it holds.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::future_set::FutureSet;

/// Waits for the first of `futures` to finish (asyncio's
/// `wait(..., return_when=FIRST_COMPLETED)`).
///
/// Resolves to `Some((output, index, remaining))`: the winner's output, its
/// position in the input, and the other futures in input order, not polled
/// since the winner finished. Resolves to `None` at once if `futures` is
/// empty, so `while let Some((output, _, rest)) = select(pending).await`
/// handles every output in completion order.
///
/// The futures must be `Unpin` to be handed back (`JoinHandle`s and
/// `Pin<Box<dyn Future>>` are). Dropping the `Select` before it resolves
/// drops them all. When several are ready at once, the one woken first wins.
///
/// ```
/// use std::future::Future;
/// use std::pin::Pin;
/// use weft_runtime::combinators::select;
///
/// futures::executor::block_on(async {
///     let futures: Vec<Pin<Box<dyn Future<Output = &str>>>> = vec![
///         Box::pin(futures::future::pending()),
///         Box::pin(async { "fast" }),
///     ];
///     let (output, index, remaining) = select(futures).await.unwrap();
///     assert_eq!((output, index, remaining.len()), ("fast", 1, 1));
/// });
/// ```
pub fn select<I>(futures: I) -> Select<I::Item>
where
    I: IntoIterator,
    I::Item: Future + Unpin,
{
    Select {
        set: Some(futures.into_iter().collect()),
    }
}

/// The future returned by [`select`].
#[must_use = "futures do nothing unless awaited"]
pub struct Select<F> {
    /// `None` once resolved: the remaining futures were handed back.
    set: Option<FutureSet<F>>,
}

impl<F: Future + Unpin> Future for Select<F> {
    type Output = Option<(F::Output, usize, Vec<F>)>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut set = self.set.take().expect("`Select` polled after it resolved");
        match set.poll_next(cx) {
            Poll::Pending => {
                self.set = Some(set);
                Poll::Pending
            }
            Poll::Ready(finished) => {
                Poll::Ready(finished.map(|(index, output)| (output, index, set.into_futures())))
            }
        }
    }
}

impl<F> fmt::Debug for Select<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Select")
            .field("futures", &self.set.as_ref().map_or(0, FutureSet::len))
            .finish()
    }
}

/// One of two values: which side of a [`select2`] finished first.
///
/// An `Either` of two futures is itself a future that polls the one it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Either<L, R> {
    /// The first (left) alternative.
    Left(L),
    /// The second (right) alternative.
    Right(R),
}

impl<L, R> Future for Either<L, R>
where
    L: Future + Unpin,
    R: Future + Unpin,
{
    type Output = Either<L::Output, R::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Either::Left(left) => Pin::new(left).poll(cx).map(Either::Left),
            Either::Right(right) => Pin::new(right).poll(cx).map(Either::Right),
        }
    }
}

/// Waits for the first of two futures to finish and returns its output,
/// tagged with its side; the other future is dropped.
///
/// To keep the loser, pass `&mut future` (a `&mut F` is a future when `F` is
/// `Unpin`); to select over futures that are not `Unpin`, pin them first
/// with [`std::pin::pin!`] or [`Box::pin`].
///
/// ```
/// use std::pin::pin;
/// use weft_runtime::combinators::{select2, Either};
///
/// futures::executor::block_on(async {
///     let (tx, rx) = futures::channel::oneshot::channel::<u8>();
///     let mut slow = pin!(async move { rx.await.unwrap() });
///     let fast = pin!(async { "now" });
///
///     assert_eq!(select2(&mut slow, fast).await, Either::Right("now"));
///     // `slow` was only borrowed: it is still ours to finish.
///     tx.send(7).unwrap();
///     assert_eq!(slow.await, 7);
/// });
/// ```
pub fn select2<A, B>(a: A, b: B) -> Select2<A, B>
where
    A: Future + Unpin,
    B: Future + Unpin,
{
    Select2 {
        set: [Either::Left(a), Either::Right(b)].into_iter().collect(),
    }
}

/// The future returned by [`select2`].
#[must_use = "futures do nothing unless awaited"]
pub struct Select2<A, B> {
    set: FutureSet<Either<A, B>>,
}

impl<A, B> Future for Select2<A, B>
where
    A: Future + Unpin,
    B: Future + Unpin,
{
    type Output = Either<A::Output, B::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match ready!(self.set.poll_next(cx)) {
            Some((_, output)) => Poll::Ready(output),
            None => panic!("`Select2` polled after it resolved"),
        }
    }
}

impl<A, B> fmt::Debug for Select2<A, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Select2")
            .field("resolved", &(self.set.len() < 2))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::channel::oneshot;
    use futures::executor::block_on;

    #[test]
    fn returns_the_winner_its_index_and_the_rest_in_input_order() {
        let (mut senders, receivers): (Vec<_>, Vec<_>) = (0..4).map(|_| oneshot::channel()).unzip();
        senders.remove(2).send(20).unwrap();

        let (output, index, remaining) = block_on(select(receivers)).unwrap();
        assert_eq!((output, index), (Ok(20), 2));
        assert_eq!(remaining.len(), 3);

        // The losers are intact and still wired to senders 0, 1 and 3.
        for (tx, value) in senders.into_iter().zip([0, 10, 30]) {
            tx.send(value).unwrap();
        }
        let rest: Vec<i32> = remaining
            .into_iter()
            .map(|rx| block_on(rx).unwrap())
            .collect();
        assert_eq!(rest, [0, 10, 30]);
    }

    #[test]
    fn select_in_a_loop_yields_completion_order_and_ends_with_none() {
        let (senders, receivers): (Vec<_>, Vec<_>) = (0..3).map(|_| oneshot::channel()).unzip();
        let mut pending = receivers;
        let mut order = Vec::new();
        for (value, tx) in senders.into_iter().enumerate().rev() {
            tx.send(value).unwrap();
            let (output, _, rest) = block_on(select(pending)).unwrap();
            order.push(output.unwrap());
            pending = rest;
        }
        assert_eq!(order, [2, 1, 0]);
        assert!(block_on(select(pending)).is_none());
    }

    #[test]
    fn select2_reports_the_side_that_won() {
        let (tx, rx) = oneshot::channel::<u8>();
        tx.send(1).unwrap();
        let right: Either<(), _> = block_on(select2(futures::future::pending(), rx));
        assert_eq!(right, Either::Right(Ok(1)));
        let left: Either<u8, ()> =
            block_on(select2(std::future::ready(5), futures::future::pending()));
        assert_eq!(left, Either::Left(5));
    }
}
