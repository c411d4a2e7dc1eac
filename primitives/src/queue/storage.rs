//! Storage policies: the one thing that differs between [`Queue`],
//! [`LifoQueue`] and [`PriorityQueue`].
//!
//! asyncio makes `LifoQueue` and `PriorityQueue` subclasses of `Queue` that
//! override three hooks (`_init`, `_put`, `_get`). weft does the same with a
//! trait: [`GenericQueue`] does all the waiting, fairness and bookkeeping, and
//! asks its storage only to hold items and give back the next one.
//!
//! | policy              | container                 | `pop` returns          |
//! |---------------------|---------------------------|------------------------|
//! | [`FifoStorage`]     | `VecDeque<T>`             | the oldest item        |
//! | [`LifoStorage`]     | `VecDeque<T>`             | the newest item        |
//! | [`PriorityStorage`] | `BinaryHeap<Reverse<T>>`  | the smallest item      |
//!
//! The LIFO policy uses a `VecDeque` rather than a `Vec` because of
//! [`QueueStorage::restore`], which puts an item back *below* every stored
//! one: O(1) at the front of a deque, O(n) at the front of a vector.
//!
//! [`Queue`]: super::Queue
//! [`LifoQueue`]: super::LifoQueue
//! [`PriorityQueue`]: super::PriorityQueue
//! [`GenericQueue`]: super::GenericQueue

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// How a [`GenericQueue`](super::GenericQueue) stores its items and which one
/// it hands out next.
///
/// Implement it to build a queue with another order; the queue calls these
/// methods under its lock, so they should be quick and must not block.
///
/// ```
/// use weft_primitives::queue::{FifoStorage, QueueStorage};
///
/// let mut storage = FifoStorage::default();
/// storage.push(1);
/// storage.push(2);
/// storage.restore(0); // an item older than everything stored
/// assert_eq!(storage.len(), 3);
/// assert_eq!(storage.pop(), Some(0));
/// assert_eq!(storage.pop(), Some(1));
/// ```
pub trait QueueStorage<T>: Default {
    /// Stores a newly put item.
    fn push(&mut self, item: T);

    /// Removes and returns the item to hand out next, if any.
    fn pop(&mut self) -> Option<T>;

    /// Stores an item that is older than every item stored now.
    ///
    /// The queue calls this when an item it had already handed to a woken
    /// getter comes back because that getter was dropped before it ran. Such
    /// an item was handed out while the storage was empty, so everything
    /// stored since is newer; order-based policies put it where the oldest
    /// item belongs.
    fn restore(&mut self, item: T);

    /// The number of stored items.
    fn len(&self) -> usize;

    /// Whether nothing is stored.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// First in, first out: the storage of [`Queue`](super::Queue).
///
/// ```
/// use weft_primitives::queue::{FifoStorage, QueueStorage};
///
/// let mut fifo = FifoStorage::default();
/// fifo.push('a');
/// fifo.push('b');
/// assert_eq!(fifo.pop(), Some('a'));
/// ```
#[derive(Debug)]
pub struct FifoStorage<T>(VecDeque<T>);

/// Last in, first out: the storage of [`LifoQueue`](super::LifoQueue).
///
/// ```
/// use weft_primitives::queue::{LifoStorage, QueueStorage};
///
/// let mut lifo = LifoStorage::default();
/// lifo.push('a');
/// lifo.push('b');
/// assert_eq!(lifo.pop(), Some('b'));
/// ```
#[derive(Debug)]
pub struct LifoStorage<T>(VecDeque<T>);

/// Smallest first, like Python's `heapq`: the storage of
/// [`PriorityQueue`](super::PriorityQueue). Items that compare equal come out
/// in no particular order; put `(priority, sequence, value)` tuples to make
/// ties first-in first-out.
///
/// ```
/// use weft_primitives::queue::{PriorityStorage, QueueStorage};
///
/// let mut heap = PriorityStorage::default();
/// heap.push(3);
/// heap.push(1);
/// heap.push(2);
/// assert_eq!(heap.pop(), Some(1));
/// ```
#[derive(Debug)]
pub struct PriorityStorage<T>(BinaryHeap<Reverse<T>>);

// `derive(Default)` would demand `T: Default`, which an empty container does
// not need.
impl<T> Default for FifoStorage<T> {
    fn default() -> Self {
        Self(VecDeque::new())
    }
}

impl<T> Default for LifoStorage<T> {
    fn default() -> Self {
        Self(VecDeque::new())
    }
}

impl<T: Ord> Default for PriorityStorage<T> {
    fn default() -> Self {
        Self(BinaryHeap::new())
    }
}

impl<T> QueueStorage<T> for FifoStorage<T> {
    fn push(&mut self, item: T) {
        self.0.push_back(item);
    }

    fn pop(&mut self) -> Option<T> {
        self.0.pop_front()
    }

    fn restore(&mut self, item: T) {
        // The oldest item is the next one out.
        self.0.push_front(item);
    }

    fn len(&self) -> usize {
        self.0.len()
    }
}

impl<T> QueueStorage<T> for LifoStorage<T> {
    fn push(&mut self, item: T) {
        self.0.push_back(item);
    }

    fn pop(&mut self) -> Option<T> {
        self.0.pop_back()
    }

    fn restore(&mut self, item: T) {
        // The oldest item sits at the bottom of the stack.
        self.0.push_front(item);
    }

    fn len(&self) -> usize {
        self.0.len()
    }
}

impl<T: Ord> QueueStorage<T> for PriorityStorage<T> {
    fn push(&mut self, item: T) {
        self.0.push(Reverse(item));
    }

    fn pop(&mut self) -> Option<T> {
        self.0.pop().map(|Reverse(item)| item)
    }

    fn restore(&mut self, item: T) {
        // Age does not matter in a heap: only the item's value places it.
        self.push(item);
    }

    fn len(&self) -> usize {
        self.0.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pushes `1, 2, 3`, restores `0`, and drains the storage.
    fn order<S: QueueStorage<i32>>() -> Vec<i32> {
        let mut storage = S::default();
        assert!(storage.is_empty());
        for item in [1, 2, 3] {
            storage.push(item);
        }
        assert!(!storage.is_empty());
        storage.restore(0);
        assert_eq!(storage.len(), 4);
        let drained = std::iter::from_fn(|| storage.pop()).collect();
        assert!(storage.is_empty());
        drained
    }

    #[test]
    fn fifo_hands_out_oldest_first_and_restores_at_the_front() {
        assert_eq!(order::<FifoStorage<i32>>(), [0, 1, 2, 3]);
    }

    #[test]
    fn lifo_hands_out_newest_first_and_restores_at_the_bottom() {
        assert_eq!(order::<LifoStorage<i32>>(), [3, 2, 1, 0]);
    }

    #[test]
    fn priority_hands_out_smallest_first_whatever_the_arrival() {
        assert_eq!(order::<PriorityStorage<i32>>(), [0, 1, 2, 3]);
        let mut heap = PriorityStorage::default();
        for item in [5, 1, 4, 1, 3] {
            heap.push(item);
        }
        heap.restore(2);
        let drained: Vec<_> = std::iter::from_fn(|| heap.pop()).collect();
        assert_eq!(drained, [1, 1, 2, 3, 4, 5]);
    }
}
