//! `FutureSet`: the engine behind every combinator in this module. It polls
//! only the futures that were woken.
//!
//! # Why
//!
//! A naive `join_all` keeps a `Vec` of futures and polls all of them whenever
//! any one of them wakes the task: n polls per wake-up, so n futures that
//! finish one by one cost O(n²) polls. `FutureSet` gives each child future a
//! waker of its own. That waker knows the child's index, so the next poll of
//! the set touches only the children that were woken: O(woken) per poll.
//!
//! # How
//!
//! ```text
//!   child 0's waker ─┐
//!   child 3's waker ─┼─ wake: push own index ──▶ ┌────────────────────┐
//!   (one per child) ─┘  (the first push onto an  │ ready list: [3, 0] │
//!                       empty list also wakes    │ parent waker       │
//!                       the parent task)         └─────────┬──────────┘
//!                                                          │ poll_next starts
//!                                                          │ by taking the list
//!                                                          ▼
//!   ┌──────────────────────────────────────────────────────────────────┐
//!   │ FutureSet   slots: [f0, f1, (done), f3, ...]   batch: [3, 0]     │
//!   │             polls f3, then f0, and no other child                │
//!   └──────────────────────────────────────────────────────────────────┘
//! ```
//!
//! * **Waking a child polls nothing.** The child's waker pushes its index onto
//!   the shared ready list and, if the list was empty, wakes the parent (the
//!   task that polls the set). Wakers may be called from any thread, so the
//!   list sits behind a mutex; the set itself belongs to one task.
//! * **No duplicates.** Each child has a `queued` flag. A wake-up sets it and
//!   pushes the index only if it was clear; the set clears it just before it
//!   polls that child. A child is therefore on the list at most once, and a
//!   wake-up that arrives while the child is being polled queues it again.
//! * **One ready list per call.** `poll_next` takes the ready list once, when
//!   it starts. A child woken after that (a child that woke itself, as
//!   [`yield_now`](super::yield_now()) does) waits for the next call, and the
//!   parent has been woken for it. So a child that wakes itself in a loop
//!   cannot keep the parent spinning inside one poll: the parent returns
//!   `Pending` and other tasks get their turn.
//! * **One parent wake-up per batch.** Only the wake-up that makes the list
//!   non-empty wakes the parent. That is enough: every `poll_next` starts by
//!   emptying the list and storing the current parent waker under the same
//!   lock, so the first wake-up after that finds the list empty and wakes
//!   that waker; until the parent's next call, later wake-ups only add their
//!   index.
//! * **Stable indices.** A finished child leaves an empty slot behind; indices
//!   are never reused. `join_all` uses them to return outputs in input order
//!   and `TaskGroup` in spawn order. A late wake-up of a finished child finds
//!   its slot empty and is skipped. The price is one empty slot per finished
//!   future until the set is dropped.
//!
//! Fairness: children are polled in the order they were woken (FIFO); newly
//! pushed futures are polled in push order at the next poll.
//!
//! Cancellation: dropping the set drops every child that has not finished.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use crate::executor::facade::atomic::{AtomicBool, Ordering};
use crate::executor::facade::Mutex;

/// A set of futures, each with its own waker, that polls only the woken ones.
pub(crate) struct FutureSet<F> {
    /// One slot per future ever pushed; `None` once that future finished.
    slots: Vec<Option<Slot<F>>>,
    /// Number of `Some` slots.
    live: usize,
    /// Indices taken off the ready list (or just pushed) and not yet polled.
    batch: VecDeque<usize>,
    ready: Arc<ReadyList>,
}

struct Slot<F> {
    future: F,
    child: Arc<ChildWaker>,
    /// `child` as a `Waker`, built once instead of on every poll.
    waker: Waker,
}

/// Indices of woken children, shared by the set and every child waker.
struct ReadyList {
    inner: Mutex<ReadyInner>,
}

struct ReadyInner {
    indices: Vec<usize>,
    /// The waker of the last poll that found the list empty; taken by the
    /// wake-up that makes the list non-empty.
    parent: Option<Waker>,
}

/// The waker handed to one child future.
struct ChildWaker {
    index: usize,
    /// Set while the index waits on the ready list or in the batch.
    queued: AtomicBool,
    ready: Arc<ReadyList>,
}

impl Wake for ChildWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.queued.swap(true, Ordering::AcqRel) {
            // Already waiting for a poll; that poll will see what woke us.
            return;
        }
        let parent = {
            let mut inner = self.ready.inner.lock();
            inner.indices.push(self.index);
            if inner.indices.len() == 1 {
                inner.parent.take()
            } else {
                None
            }
        };
        // Woken outside the lock: the parent's waker may run arbitrary code.
        if let Some(parent) = parent {
            parent.wake();
        }
    }
}

impl<F> FutureSet<F> {
    /// An empty set.
    pub(crate) fn new() -> Self {
        FutureSet {
            slots: Vec::new(),
            live: 0,
            batch: VecDeque::new(),
            ready: Arc::new(ReadyList {
                inner: Mutex::new(ReadyInner {
                    indices: Vec::new(),
                    parent: None,
                }),
            }),
        }
    }

    /// Adds `future` and returns its index (0 for the first future pushed,
    /// then 1, 2, ...). The future is first polled by the next
    /// [`poll_next`](Self::poll_next); no wake-up is issued, so the owner
    /// must poll the set after pushing.
    pub(crate) fn push(&mut self, future: F) -> usize {
        let index = self.slots.len();
        let child = Arc::new(ChildWaker {
            index,
            queued: AtomicBool::new(true),
            ready: Arc::clone(&self.ready),
        });
        let waker = Waker::from(Arc::clone(&child));
        self.slots.push(Some(Slot {
            future,
            child,
            waker,
        }));
        self.live += 1;
        self.batch.push_back(index);
        index
    }

    /// Number of futures that have not finished.
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// The unfinished futures, in push order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &F> {
        self.slots.iter().flatten().map(|slot| &slot.future)
    }

    /// Gives back the unfinished futures, in push order.
    pub(crate) fn into_futures(self) -> Vec<F> {
        self.slots
            .into_iter()
            .flatten()
            .map(|slot| slot.future)
            .collect()
    }

    /// Moves the woken indices into the batch and remembers `waker` as the
    /// parent to wake when the next child wakes.
    fn take_ready_list(&mut self, waker: &Waker) {
        let mut inner = self.ready.inner.lock();
        match &inner.parent {
            Some(parent) if parent.will_wake(waker) => {}
            _ => inner.parent = Some(waker.clone()),
        }
        self.batch.extend(inner.indices.drain(..));
    }
}

impl<F: Future + Unpin> FutureSet<F> {
    /// Polls the woken futures until one finishes.
    ///
    /// First takes the ready list (and stores `cx`'s waker as the parent),
    /// then polls the batch in order. Returns `Ready(Some((index, output)))`
    /// for the first future that finishes, `Ready(None)` when the set is
    /// empty, and `Pending` once the batch is exhausted (a child woken since
    /// the list was taken wakes the parent). Children not yet polled when a
    /// future finishes stay in the batch for the next call.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<(usize, F::Output)>> {
        self.take_ready_list(cx.waker());
        loop {
            let Some(index) = self.batch.pop_front() else {
                return if self.live == 0 {
                    Poll::Ready(None)
                } else {
                    Poll::Pending
                };
            };
            let Some(slot) = &mut self.slots[index] else {
                // A wake-up that arrived after this child finished.
                continue;
            };
            // A swap, not a store: if a waker's swap saw the flag still set
            // and skipped queueing, this swap reads that write (acquire) and
            // so sees whatever the waker published before waking; the poll
            // below cannot miss it.
            slot.child.queued.swap(false, Ordering::AcqRel);
            let mut child_cx = Context::from_waker(&slot.waker);
            if let Poll::Ready(output) = Pin::new(&mut slot.future).poll(&mut child_cx) {
                self.slots[index] = None;
                self.live -= 1;
                return Poll::Ready(Some((index, output)));
            }
        }
    }
}

impl<F> FromIterator<F> for FutureSet<F> {
    fn from_iter<I: IntoIterator<Item = F>>(futures: I) -> Self {
        let mut set = FutureSet::new();
        for future in futures {
            set.push(future);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::channel::oneshot;
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;
    use std::sync::atomic::AtomicUsize;

    /// A parent waker that counts its wake-ups.
    #[derive(Default)]
    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn parent() -> (Arc<CountingWaker>, Waker) {
        let counter = Arc::new(CountingWaker::default());
        let waker = Waker::from(Arc::clone(&counter));
        (counter, waker)
    }

    fn wakes(counter: &CountingWaker) -> usize {
        counter.0.load(Ordering::SeqCst)
    }

    /// Wraps a future and counts how often it is polled.
    struct CountPolls<F> {
        polls: Rc<Cell<usize>>,
        inner: F,
    }

    impl<F: Future + Unpin> Future for CountPolls<F> {
        type Output = F::Output;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
            self.polls.set(self.polls.get() + 1);
            Pin::new(&mut self.inner).poll(cx)
        }
    }

    /// `n` futures in a set, each waiting on a oneshot and counting its polls.
    struct Fixture {
        set: FutureSet<CountPolls<oneshot::Receiver<usize>>>,
        senders: Vec<oneshot::Sender<usize>>,
        polls: Vec<Rc<Cell<usize>>>,
    }

    impl Fixture {
        fn new(n: usize) -> Self {
            let mut fixture = Fixture {
                set: FutureSet::new(),
                senders: Vec::new(),
                polls: Vec::new(),
            };
            for _ in 0..n {
                let (tx, rx) = oneshot::channel();
                let count = Rc::new(Cell::new(0));
                fixture.set.push(CountPolls {
                    polls: Rc::clone(&count),
                    inner: rx,
                });
                fixture.senders.push(tx);
                fixture.polls.push(count);
            }
            fixture
        }

        fn poll_counts(&self) -> Vec<usize> {
            self.polls.iter().map(|count| count.get()).collect()
        }
    }

    #[test]
    fn polls_only_the_woken_children() {
        let mut f = Fixture::new(5);
        let (counter, waker) = parent();
        let mut cx = Context::from_waker(&waker);

        assert!(f.set.poll_next(&mut cx).is_pending());
        assert_eq!(f.poll_counts(), [1, 1, 1, 1, 1]);

        f.senders.remove(3).send(30).unwrap();
        assert_eq!(wakes(&counter), 1);
        assert_eq!(f.set.poll_next(&mut cx), Poll::Ready(Some((3, Ok(30)))));
        assert_eq!(f.poll_counts(), [1, 1, 1, 2, 1]);

        // Nothing woken: the poll touches no child.
        assert!(f.set.poll_next(&mut cx).is_pending());
        assert_eq!(f.poll_counts(), [1, 1, 1, 2, 1]);
        assert_eq!(f.set.len(), 4);
    }

    #[test]
    fn wakes_the_parent_once_per_batch_and_polls_in_wake_order() {
        let mut f = Fixture::new(3);
        let (counter, waker) = parent();
        let mut cx = Context::from_waker(&waker);
        assert!(f.set.poll_next(&mut cx).is_pending());

        let tx2 = f.senders.pop().unwrap();
        let tx1 = f.senders.pop().unwrap();
        tx2.send(2).unwrap();
        tx1.send(1).unwrap();
        assert_eq!(
            wakes(&counter),
            1,
            "the second wake-up finds the list non-empty"
        );

        let mut finished = Vec::new();
        while let Poll::Ready(Some((index, _))) = f.set.poll_next(&mut cx) {
            finished.push(index);
        }
        assert_eq!(finished, [2, 1]);
        assert_eq!(f.poll_counts(), [1, 2, 2]);
    }

    /// Returns `Pending` forever, waking itself on every poll.
    struct WakesItself {
        polls: Rc<Cell<usize>>,
    }

    impl Future for WakesItself {
        type Output = ();
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            self.polls.set(self.polls.get() + 1);
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    #[test]
    fn a_child_that_wakes_itself_is_polled_once_per_parent_poll() {
        let polls = Rc::new(Cell::new(0));
        let mut set: FutureSet<_> = [WakesItself {
            polls: Rc::clone(&polls),
        }]
        .into_iter()
        .collect();
        let (counter, waker) = parent();
        let mut cx = Context::from_waker(&waker);

        assert!(set.poll_next(&mut cx).is_pending());
        assert_eq!(polls.get(), 1);
        assert_eq!(wakes(&counter), 1, "the parent is woken to poll it again");

        assert!(set.poll_next(&mut cx).is_pending());
        assert_eq!(polls.get(), 2);
        assert_eq!(wakes(&counter), 2);
    }

    /// Completes on its second poll and keeps its waker for the test.
    struct KeepsWaker {
        waker: Rc<RefCell<Option<Waker>>>,
    }

    impl Future for KeepsWaker {
        type Output = ();
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            let mut slot = self.waker.borrow_mut();
            if slot.is_some() {
                return Poll::Ready(());
            }
            *slot = Some(cx.waker().clone());
            Poll::Pending
        }
    }

    #[test]
    fn a_wake_up_after_the_child_finished_is_skipped() {
        let stored = Rc::new(RefCell::new(None));
        let mut set: FutureSet<_> = [KeepsWaker {
            waker: Rc::clone(&stored),
        }]
        .into_iter()
        .collect();
        let (_counter, waker) = parent();
        let mut cx = Context::from_waker(&waker);

        assert!(set.poll_next(&mut cx).is_pending());
        let child_waker = stored.borrow().clone().unwrap();
        child_waker.wake_by_ref();
        assert_eq!(set.poll_next(&mut cx), Poll::Ready(Some((0, ()))));

        child_waker.wake();
        assert_eq!(set.poll_next(&mut cx), Poll::Ready(None));
    }

    #[test]
    fn pushed_futures_are_polled_at_the_next_poll_even_after_the_set_ran_empty() {
        let mut set = FutureSet::new();
        let (_counter, waker) = parent();
        let mut cx = Context::from_waker(&waker);
        assert_eq!(set.poll_next(&mut cx), Poll::Ready(None));

        assert_eq!(set.push(std::future::ready('a')), 0);
        assert_eq!(set.push(std::future::ready('b')), 1);
        assert_eq!(set.poll_next(&mut cx), Poll::Ready(Some((0, 'a'))));
        assert_eq!(set.poll_next(&mut cx), Poll::Ready(Some((1, 'b'))));
        assert_eq!(set.poll_next(&mut cx), Poll::Ready(None));
    }

    #[test]
    fn into_futures_returns_the_unfinished_ones_in_push_order() {
        let mut f = Fixture::new(4);
        let (_counter, waker) = parent();
        let mut cx = Context::from_waker(&waker);
        assert!(f.set.poll_next(&mut cx).is_pending());
        f.senders.remove(1).send(10).unwrap();
        assert_eq!(f.set.poll_next(&mut cx), Poll::Ready(Some((1, Ok(10)))));

        assert_eq!(f.set.iter().count(), 3);
        let rest = f.set.into_futures();
        assert_eq!(rest.len(), 3);
        // The receivers still belong to senders 0, 2 and 3, in that order.
        for (tx, value) in f.senders.into_iter().zip([0, 2, 3]) {
            tx.send(value).unwrap();
        }
        let values: Vec<usize> = rest
            .into_iter()
            .map(|rx| futures::executor::block_on(rx).unwrap())
            .collect();
        assert_eq!(values, [0, 2, 3]);
    }

    #[test]
    fn a_child_woken_from_another_thread_wakes_the_parent() {
        let (tx, rx) = oneshot::channel::<u8>();
        let mut set: FutureSet<_> = [rx].into_iter().collect();
        let (counter, waker) = parent();
        let mut cx = Context::from_waker(&waker);
        assert!(set.poll_next(&mut cx).is_pending());

        std::thread::spawn(move || tx.send(7).unwrap())
            .join()
            .unwrap();
        assert_eq!(wakes(&counter), 1);
        assert_eq!(set.poll_next(&mut cx), Poll::Ready(Some((0, Ok(7)))));
    }
}
