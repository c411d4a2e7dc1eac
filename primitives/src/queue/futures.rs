//! The futures of a queue: [`Put`], [`Get`] and [`Join`].
//!
//! Each follows the crate's one [waiting protocol](crate::waiter_queue)
//! through a [`WaitState`]: the first poll tries the operation and, if it
//! must wait, takes a slot in one of the queue's waiter lists; later polls
//! take the grant from the slot; `Drop` gives the slot up and, for a getter
//! that was handed an item it never took, passes the item on. The
//! bookkeeping itself lives in [`State`](super::state::State).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::error::{GetError, PutError, QueueShutDown};
use super::state::Claim;
use super::storage::QueueStorage;
use super::GenericQueue;
use crate::waiter_queue::{FirstPoll, WaitState, WaiterKey};

/// Future returned by [`GenericQueue::put`]: waits for room, then stores the
/// item; fails with the item if the queue is shut down.
///
/// Dropping it before it completes drops the item, unless the item was
/// already stored for it (a putter waiting for room is granted by storing its
/// item), in which case the item stays in the queue.
///
/// ```
/// use weft_primitives::queue::{Put, Queue};
///
/// let queue = Queue::new(1);
/// let put: Put<'_, _, _> = queue.put("job");
/// futures::executor::block_on(put).unwrap();
/// assert_eq!(queue.qsize(), 1);
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Put<'a, T, S: QueueStorage<T>> {
    queue: &'a GenericQueue<T, S>,
    /// The item until the first poll moves it into the queue or a waiter slot.
    item: Option<T>,
    wait: WaitState,
}

/// Future returned by [`GenericQueue::get`]: waits for an item; fails once
/// the queue is shut down and has no item left for this getter.
///
/// ```
/// use weft_primitives::queue::{Get, Queue};
///
/// let queue = Queue::new(0);
/// queue.put_nowait(5).unwrap();
/// let get: Get<'_, _, _> = queue.get();
/// assert_eq!(futures::executor::block_on(get), Ok(5));
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Get<'a, T, S: QueueStorage<T>> {
    queue: &'a GenericQueue<T, S>,
    wait: WaitState,
}

/// Future returned by [`GenericQueue::join`]: waits until every item put so
/// far has been marked done.
///
/// ```
/// use weft_primitives::queue::{Join, Queue};
///
/// let queue = Queue::<u8>::new(0);
/// let join: Join<'_, _, _> = queue.join();
/// futures::executor::block_on(join); // nothing was put: done at once
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Join<'a, T, S: QueueStorage<T>> {
    queue: &'a GenericQueue<T, S>,
    wait: WaitState,
}

impl<'a, T, S: QueueStorage<T>> Put<'a, T, S> {
    pub(super) fn new(queue: &'a GenericQueue<T, S>, item: T) -> Self {
        Self {
            queue,
            item: Some(item),
            wait: WaitState::Idle,
        }
    }
}

impl<'a, T, S: QueueStorage<T>> Get<'a, T, S> {
    pub(super) fn new(queue: &'a GenericQueue<T, S>) -> Self {
        Self {
            queue,
            wait: WaitState::Idle,
        }
    }
}

impl<'a, T, S: QueueStorage<T>> Join<'a, T, S> {
    pub(super) fn new(queue: &'a GenericQueue<T, S>) -> Self {
        Self {
            queue,
            wait: WaitState::Idle,
        }
    }
}

// The item is only ever moved, never pinned, so `Put` need not be pinned
// whatever `T` is.
impl<T, S: QueueStorage<T>> Unpin for Put<'_, T, S> {}

impl<T, S: QueueStorage<T>> Future for Put<'_, T, S> {
    type Output = Result<(), QueueShutDown<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let (queue, waker, item) = (this.queue, cx.waker(), &mut this.item);
        this.wait.poll(
            || {
                let item = item
                    .take()
                    .expect("a put holds its item until its first poll");
                queue.locked(|state, wakes| match state.try_put(item, wakes) {
                    Ok(()) => FirstPoll::Ready(Ok(())),
                    Err(PutError::ShutDown(item)) => FirstPoll::Ready(Err(QueueShutDown(item))),
                    Err(PutError::Full(item)) => FirstPoll::Queued(state.push_putter(item, waker)),
                })
            },
            |key| queue.locked(|state, _| state.poll_putter(key, waker)),
        )
    }
}

impl<T, S: QueueStorage<T>> Future for Get<'_, T, S> {
    type Output = Result<T, QueueShutDown>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let (queue, waker) = (this.queue, cx.waker());
        this.wait.poll(
            || {
                queue.locked(|state, wakes| match state.try_get(wakes) {
                    Ok(item) => FirstPoll::Ready(Ok(item)),
                    Err(GetError::ShutDown) => FirstPoll::Ready(Err(QueueShutDown(()))),
                    Err(GetError::Empty) => FirstPoll::Queued(state.push_getter(waker)),
                })
            },
            |key| match queue.locked(|state, wakes| state.claim(key, waker, wakes)) {
                Claim::Waiting => Poll::Pending,
                Claim::Item(item) => Poll::Ready(Ok(item)),
                Claim::ShutDown { revoked } => {
                    drop(revoked);
                    Poll::Ready(Err(QueueShutDown(())))
                }
            },
        )
    }
}

impl<T, S: QueueStorage<T>> Future for Join<'_, T, S> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let (queue, waker) = (this.queue, cx.waker());
        this.wait.poll(
            || queue.locked(|state, _| state.start_join(waker)),
            |key| queue.locked(|state, _| state.poll_joiner(key, waker)),
        )
    }
}

impl<T, S: QueueStorage<T>> Drop for Put<'_, T, S> {
    // Every put is dropped, nearly all of them done: that check is inlined,
    // the hand-back of a queued one is not.
    #[inline]
    fn drop(&mut self) {
        if let Some(key) = self.wait.cancel() {
            abandon_put(self.queue, key);
        }
    }
}

/// A put dropped while queued gives up its slot; an item not yet stored is
/// dropped here, after unlocking.
#[inline(never)]
fn abandon_put<T, S: QueueStorage<T>>(queue: &GenericQueue<T, S>, key: WaiterKey) {
    let _item = queue.locked(|state, _| state.abandon_putter(key));
}

impl<T, S: QueueStorage<T>> Drop for Get<'_, T, S> {
    // As for `Put`: the common check inline, the hand-back out of line.
    #[inline]
    fn drop(&mut self) {
        if let Some(key) = self.wait.cancel() {
            abandon_get(self.queue, key);
        }
    }
}

/// A get dropped while queued gives up its slot, handing on an item it was
/// granted; a revoked item is dropped here, after unlocking.
#[inline(never)]
fn abandon_get<T, S: QueueStorage<T>>(queue: &GenericQueue<T, S>, key: WaiterKey) {
    let _revoked = queue.locked(|state, wakes| state.abandon_getter(key, wakes));
}

impl<T, S: QueueStorage<T>> Drop for Join<'_, T, S> {
    fn drop(&mut self) {
        if let Some(key) = self.wait.cancel() {
            self.queue.locked(|state, _| state.abandon_joiner(key));
        }
    }
}

impl<T, S: QueueStorage<T>> fmt::Debug for Put<'_, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Put")
            .field("queued", &self.wait.is_waiting())
            .finish_non_exhaustive()
    }
}

impl<T, S: QueueStorage<T>> fmt::Debug for Get<'_, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Get")
            .field("queued", &self.wait.is_waiting())
            .finish_non_exhaustive()
    }
}

impl<T, S: QueueStorage<T>> fmt::Debug for Join<'_, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Join")
            .field("queued", &self.wait.is_waiting())
            .finish_non_exhaustive()
    }
}
