//! asyncio's queues: [`Queue`] (first in, first out), [`LifoQueue`] (last in,
//! first out) and [`PriorityQueue`] (smallest first), with asyncio's API,
//! including `task_done`/`join` and Python 3.13's `shutdown`.
//!
//! The three are one type, [`GenericQueue`], with different
//! [storage policies](QueueStorage): the waiting, fairness and bookkeeping are
//! written once, the storage only decides which item comes out next.
//!
//! | asyncio                    | weft                                            |
//! |----------------------------|-------------------------------------------------|
//! | `Queue(maxsize=0)`         | [`Queue::new(0)`](GenericQueue::new) (0 = unbounded) |
//! | `await q.put(x)`           | [`q.put(x).await`](GenericQueue::put) → `Result<(), QueueShutDown<T>>` |
//! | `q.put_nowait(x)`          | [`q.put_nowait(x)`](GenericQueue::put_nowait) → `Err(PutError::Full(x))` … |
//! | `await q.get()`            | [`q.get().await`](GenericQueue::get) → `Result<T, QueueShutDown>` |
//! | `q.get_nowait()`           | [`q.get_nowait()`](GenericQueue::get_nowait) → `Err(GetError::Empty)` … |
//! | `q.task_done()`, `await q.join()` | [`task_done`](GenericQueue::task_done), [`join`](GenericQueue::join) |
//! | `q.shutdown(immediate)`    | [`shutdown(immediate)`](GenericQueue::shutdown) |
//! | `async for`-style loop     | [`items`](GenericQueue::items) |
//!
//! # Algorithm
//!
//! One mutex guards the whole state: the storage, a FIFO of waiting getters,
//! a FIFO of waiting putters, a list of tasks in `join`, and two counters.
//! Every operation takes it once, briefly, and wakes tasks only after
//! releasing it.
//!
//! The heart of it is that a waiter is *granted* by the task that makes
//! progress possible, which does the waiter's work on its behalf (the
//! crate's one waiting protocol, in `waiter_queue.rs`, with the item as
//! the grant):
//!
//! ```text
//!   put(x) while getters wait        get() while putters wait (queue full)
//!
//!   getters: [G1] ⇄ [G2]             storage: [a b c]   putters: [P1(x)] ⇄ [P2(y)]
//!      │                                  │ pop a
//!      ▼                                  ▼
//!   G1's slot ← x   (G1 unlinked,    storage: [b c x]   P1 unlinked, woken:
//!   woken; x is G1's, counted in     its put is already done
//!   qsize, invisible to others)
//! ```
//!
//! From this follow the guarantees:
//!
//! * **FIFO fairness.** Items go to waiting getters in the order they began
//!   waiting, and free slots to waiting putters in the same way.
//! * **No overtaking.** A getter waits only while the storage is empty, and
//!   an item it was handed never enters the storage, so a newcomer's
//!   `get_nowait` cannot take it. A putter waits only while the queue is
//!   full, and a newcomer's `put_nowait` fails while any putter waits.
//! * **`qsize` as in asyncio.** An item handed to a getter that has not run
//!   yet still counts in [`qsize`](GenericQueue::qsize) and towards
//!   [`full`](GenericQueue::full), as it is still in asyncio's deque until
//!   that getter runs; so a bounded queue never holds more than `maxsize`.
//!
//! # Cancel safety
//!
//! Every future can be dropped at any await point:
//!
//! * A [`Get`] dropped while waiting just leaves the FIFO. One dropped after
//!   an item was handed to it, before it ran, passes the item to the next
//!   waiting getter (and wakes it), or, with no getter waiting, puts it back
//!   into the storage where the oldest item belongs. No item or wake-up is
//!   lost.
//! * A [`Put`] dropped while waiting drops its item with it (the caller's
//!   choice). One dropped after it was granted lost nothing: its item is
//!   already in the queue, and stays.
//! * A [`Join`] dropped at any point only frees its slot.
//!
//! # Shutdown (asyncio 3.13)
//!
//! After [`shutdown`](GenericQueue::shutdown), puts fail at once and hand the
//! item back (blocked putters too); gets drain the remaining items, then
//! fail; blocked getters fail at once (they wait only on an empty queue).
//! `shutdown(true)` also drops every queued item, including items handed to
//! getters that have not run yet (they fail), subtracts the number dropped
//! from the unfinished count, and releases `join` if that reaches zero.
//!
//! # Memory
//!
//! Waiters live in slots that are reused, so waiting allocates nothing once
//! the slot tables have grown to the largest number of simultaneous waiters;
//! items allocate only as the storage grows.

mod error;
mod futures;
mod items;
mod state;
mod storage;
#[cfg(test)]
mod tests;

use std::fmt;

pub use self::error::{GetError, PutError, QueueShutDown, TaskDoneError};
pub use self::futures::{Get, Join, Put};
pub use self::items::Items;
pub use self::storage::{FifoStorage, LifoStorage, PriorityStorage, QueueStorage};

use self::state::{Lifecycle, State};
use crate::facade::Mutex;
use crate::wake_list::WakeList;

/// A first in, first out queue (asyncio's `Queue`).
///
/// ```
/// use weft_primitives::Queue;
///
/// let queue = Queue::new(0);
/// queue.put_nowait(1).unwrap();
/// queue.put_nowait(2).unwrap();
/// assert_eq!(queue.get_nowait(), Ok(1));
/// ```
pub type Queue<T> = GenericQueue<T, FifoStorage<T>>;

/// A last in, first out queue (asyncio's `LifoQueue`).
///
/// ```
/// use weft_primitives::LifoQueue;
///
/// let queue = LifoQueue::new(0);
/// queue.put_nowait(1).unwrap();
/// queue.put_nowait(2).unwrap();
/// assert_eq!(queue.get_nowait(), Ok(2));
/// ```
pub type LifoQueue<T> = GenericQueue<T, LifoStorage<T>>;

/// A queue that hands out its smallest item first (asyncio's
/// `PriorityQueue`); use `(priority, value)` tuples as in Python.
///
/// ```
/// use weft_primitives::PriorityQueue;
///
/// let queue = PriorityQueue::new(0);
/// queue.put_nowait((2, "later")).unwrap();
/// queue.put_nowait((1, "first")).unwrap();
/// assert_eq!(queue.get_nowait(), Ok((1, "first")));
/// ```
pub type PriorityQueue<T> = GenericQueue<T, PriorityStorage<T>>;

/// The queue behind [`Queue`], [`LifoQueue`] and [`PriorityQueue`], generic
/// over its [storage policy](QueueStorage); see the [module docs](self) for
/// the algorithm and its guarantees.
///
/// It is `Send + Sync` when the items are `Send`; share it with an `Arc` to
/// use it from several tasks or threads.
///
/// ```
/// use std::sync::Arc;
/// use weft_primitives::Queue;
///
/// let queue = Arc::new(Queue::new(4));
/// let producer = {
///     let queue = queue.clone();
///     std::thread::spawn(move || {
///         futures::executor::block_on(async {
///             for n in 0..100 {
///                 queue.put(n).await.unwrap();
///             }
///         })
///     })
/// };
/// let received: Vec<i32> = futures::executor::block_on(async {
///     let mut received = Vec::new();
///     for _ in 0..100 {
///         received.push(queue.get().await.unwrap());
///     }
///     received
/// });
/// producer.join().unwrap();
/// assert_eq!(received, (0..100).collect::<Vec<_>>());
/// ```
pub struct GenericQueue<T, S: QueueStorage<T>> {
    state: Mutex<State<T, S>>,
}

impl<T, S: QueueStorage<T>> GenericQueue<T, S> {
    /// A queue that holds at most `maxsize` items; 0 means unbounded.
    ///
    /// ```
    /// let queue = weft_primitives::Queue::<u8>::new(10);
    /// assert_eq!(queue.maxsize(), 10);
    /// ```
    pub fn new(maxsize: usize) -> Self {
        Self {
            state: Mutex::new(State::new(maxsize)),
        }
    }

    /// The most items the queue holds (0: unbounded).
    ///
    /// ```
    /// assert_eq!(weft_primitives::Queue::<u8>::new(0).maxsize(), 0);
    /// ```
    pub fn maxsize(&self) -> usize {
        self.state.lock().maxsize()
    }

    /// The number of items in the queue, counting items already handed to
    /// getters that have not run yet (as asyncio does).
    ///
    /// ```
    /// let queue = weft_primitives::Queue::new(0);
    /// queue.put_nowait('x').unwrap();
    /// assert_eq!(queue.qsize(), 1);
    /// ```
    pub fn qsize(&self) -> usize {
        self.state.lock().qsize()
    }

    /// Whether [`qsize`](Self::qsize) is 0.
    ///
    /// ```
    /// assert!(weft_primitives::Queue::<u8>::new(0).empty());
    /// ```
    pub fn empty(&self) -> bool {
        self.qsize() == 0
    }

    /// Whether the queue holds `maxsize` items; never true when unbounded.
    ///
    /// ```
    /// let queue = weft_primitives::Queue::new(1);
    /// queue.put_nowait(1).unwrap();
    /// assert!(queue.full());
    /// ```
    pub fn full(&self) -> bool {
        self.state.lock().is_full()
    }

    /// Puts an item, waiting for room if the queue is full.
    ///
    /// Fails, handing the item back, if the queue is shut down (before or
    /// while waiting). Putters waiting for room are served first come, first
    /// served. Cancel-safe: see [`Put`].
    ///
    /// ```
    /// let queue = weft_primitives::Queue::new(1);
    /// futures::executor::block_on(queue.put("job")).unwrap();
    /// assert_eq!(queue.get_nowait(), Ok("job"));
    /// ```
    pub fn put(&self, item: T) -> Put<'_, T, S> {
        Put::new(self, item)
    }

    /// Puts an item if there is room now and no putter is waiting for room;
    /// otherwise hands it back in the error.
    ///
    /// ```
    /// use weft_primitives::queue::{PutError, Queue};
    ///
    /// let queue = Queue::new(1);
    /// assert!(queue.put_nowait(1).is_ok());
    /// assert!(matches!(queue.put_nowait(2), Err(PutError::Full(2))));
    /// ```
    pub fn put_nowait(&self, item: T) -> Result<(), PutError<T>> {
        self.locked(|state, wakes| state.try_put(item, wakes))
    }

    /// Takes an item, waiting for one if the queue is empty.
    ///
    /// Fails once the queue is shut down and empty. Getters waiting for items
    /// are served first come, first served. Cancel-safe: see [`Get`].
    ///
    /// ```
    /// let queue = weft_primitives::Queue::new(0);
    /// queue.put_nowait(3).unwrap();
    /// assert_eq!(futures::executor::block_on(queue.get()), Ok(3));
    /// ```
    pub fn get(&self) -> Get<'_, T, S> {
        Get::new(self)
    }

    /// Takes an item if one is available to a new getter now (items already
    /// handed to waiting getters are not).
    ///
    /// ```
    /// use weft_primitives::queue::{GetError, Queue};
    ///
    /// let queue = Queue::new(0);
    /// assert_eq!(queue.get_nowait(), Err(GetError::Empty));
    /// queue.put_nowait(1).unwrap();
    /// assert_eq!(queue.get_nowait(), Ok(1));
    /// ```
    pub fn get_nowait(&self) -> Result<T, GetError> {
        self.locked(|state, wakes| state.try_get(wakes))
    }

    /// Marks one put item as processed, for [`join`](Self::join).
    ///
    /// Fails with [`TaskDoneError`] if called more times than items were put.
    ///
    /// ```
    /// let queue = weft_primitives::Queue::new(0);
    /// queue.put_nowait(1).unwrap();
    /// let _item = queue.get_nowait().unwrap();
    /// assert!(queue.task_done().is_ok());
    /// assert!(queue.task_done().is_err());
    /// ```
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        self.locked(|state, wakes| state.task_done(wakes))
    }

    /// Waits until every item put so far has been marked done with
    /// [`task_done`](Self::task_done) (or dropped by an immediate shutdown).
    /// Cancel-safe: see [`Join`].
    ///
    /// ```
    /// let queue = weft_primitives::Queue::new(0);
    /// queue.put_nowait(1).unwrap();
    /// queue.get_nowait().unwrap();
    /// queue.task_done().unwrap();
    /// futures::executor::block_on(queue.join());
    /// ```
    pub fn join(&self) -> Join<'_, T, S> {
        Join::new(self)
    }

    /// Shuts the queue down, as asyncio 3.13's `Queue.shutdown`.
    ///
    /// Puts fail from now on and hand their item back, including putters
    /// blocked now. Gets take the remaining items, then fail; getters blocked
    /// now fail (the queue is empty for them). With `immediate`, the queued
    /// items are dropped first (items already handed to getters that have
    /// not run included), the unfinished count drops by their number, and
    /// [`join`](Self::join) is released if it reaches zero.
    ///
    /// ```
    /// let queue = weft_primitives::Queue::new(0);
    /// queue.put_nowait(1).unwrap();
    /// queue.shutdown(false);
    /// assert_eq!(queue.get_nowait(), Ok(1)); // drained first
    /// assert!(queue.get_nowait().is_err());
    /// assert!(queue.put_nowait(2).is_err());
    /// ```
    pub fn shutdown(&self, immediate: bool) {
        // The dropped items are dropped here, after unlocking.
        let _dropped = self.locked(|state, wakes| state.shutdown(immediate, wakes));
    }

    /// Whether [`shutdown`](Self::shutdown) was called.
    ///
    /// ```
    /// let queue = weft_primitives::Queue::<u8>::new(0);
    /// queue.shutdown(true);
    /// assert!(queue.is_shut_down());
    /// ```
    pub fn is_shut_down(&self) -> bool {
        self.state.lock().lifecycle() != Lifecycle::Open
    }

    /// An async iterator that yields items until the queue is shut down and
    /// drained; see [`Items`].
    ///
    /// ```
    /// let queue = weft_primitives::Queue::new(0);
    /// queue.put_nowait(1).unwrap();
    /// queue.shutdown(false);
    /// let mut items = queue.items();
    /// futures::executor::block_on(async {
    ///     assert_eq!(items.next().await, Some(1));
    ///     assert_eq!(items.next().await, None);
    /// });
    /// ```
    pub fn items(&self) -> Items<'_, T, S> {
        Items::new(self)
    }

    /// Runs `f` in the queue's one critical section, then wakes the tasks it
    /// granted once the lock is released.
    fn locked<R>(&self, f: impl FnOnce(&mut State<T, S>, &mut WakeList) -> R) -> R {
        let mut wakes = WakeList::new();
        let result = f(&mut self.state.lock(), &mut wakes);
        wakes.wake_all();
        result
    }
}

/// An unbounded queue, like asyncio's `Queue()`.
impl<T, S: QueueStorage<T>> Default for GenericQueue<T, S> {
    fn default() -> Self {
        Self::new(0)
    }
}

impl<T, S: QueueStorage<T>> fmt::Debug for GenericQueue<T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("GenericQueue")
            .field("maxsize", &state.maxsize())
            .field("qsize", &state.qsize())
            .field("unfinished", &state.unfinished())
            .field("waiting_getters", &state.waiting_getters())
            .field("waiting_putters", &state.waiting_putters())
            .field("lifecycle", &state.lifecycle())
            .finish()
    }
}
