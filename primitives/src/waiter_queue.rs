//! The FIFO of parked waiters that every primitive in this crate shares.
//!
//! A primitive that makes tasks wait (a semaphore, a condition, a queue…)
//! needs three operations on its waiters, all cheap:
//!
//! * append a new waiter at the back (a task starts waiting),
//! * take the waiter at the front (a permit, an item or a notification is
//!   granted, first come first served),
//! * remove a waiter from anywhere (its future was dropped: cancellation).
//!
//! [`WaiterQueue`] keeps the waiters as nodes in a [`slab::Slab`] and links
//! them into a doubly linked list through slab indices instead of pointers.
//! All three operations are O(1), none needs `unsafe`, and a freed slot is
//! reused by the next waiter, so once the slab has grown to the largest number
//! of simultaneous waiters, waiting allocates nothing.
//!
//! ```text
//!            head                                  tail
//!             │                                     │
//!             ▼                                     ▼
//!   slab: [ #2 A ] ⇄ [ #0 B ] ⇄ [ #3 C ]    [ #1 D (unlinked, granted) ]
//! ```
//!
//! A node has two stages. While *linked* it is waiting in the FIFO. A granter
//! *unlinks* it (with [`WaiterQueue::pop_front`]) after recording the grant in
//! the node's state, but the slot itself stays: the waiting future still owns
//! it and reads the grant on its next poll, then frees the slot with
//! [`WaiterQueue::remove`]. If the future is dropped instead, its destructor
//! finds the grant in the slot and hands it to the next waiter. This
//! two-stage life is what makes the primitives cancel-safe.
//!
//! The queue is not synchronised: it lives inside a primitive's
//! `facade::Mutex`. Wakers must not be called while that mutex is held (the
//! woken task could run on another thread and block on the same mutex at
//! once), so granters collect them in a
//! [`WakeList`](crate::wake_list::WakeList) and wake them after unlocking.

use std::fmt;
use std::task::Waker;

use slab::Slab;

/// Stable handle to a waiter's slot, valid until [`WaiterQueue::remove`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct WaiterKey(usize);

/// A link to another node by slab index, or to none.
///
/// Four bytes with a reserved "none" value, where `Option<usize>` takes
/// sixteen: the two links of a node shrink from 32 bytes to 8, and with
/// them every waiter's slot (a semaphore's from 88 to 64 bytes).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct Link(u32);

impl Link {
    const NONE: Link = Link(u32::MAX);

    fn to(index: usize) -> Link {
        match u32::try_from(index) {
            Ok(index) if index != u32::MAX => Link(index),
            _ => panic!("a waiter queue holds fewer than {} waiters", u32::MAX),
        }
    }

    fn index(self) -> Option<usize> {
        (self != Self::NONE).then_some(self.0 as usize)
    }
}

/// One waiter: its place in the FIFO, its waker and the primitive's state.
#[derive(Debug)]
struct Node<S> {
    prev: Link,
    next: Link,
    /// Whether the node is in the FIFO (it may stay in the slab unlinked).
    linked: bool,
    waker: Option<Waker>,
    state: S,
}

/// A FIFO of waiters with O(1) removal from the middle; see the module docs.
pub(crate) struct WaiterQueue<S> {
    nodes: Slab<Node<S>>,
    head: Link,
    tail: Link,
    len: usize,
}

impl<S> WaiterQueue<S> {
    /// An empty queue; it allocates nothing until the first waiter arrives.
    pub(crate) fn new() -> Self {
        Self {
            nodes: Slab::new(),
            head: Link::NONE,
            tail: Link::NONE,
            len: 0,
        }
    }

    /// Appends a waiter at the back; it is "linked" (queued) until popped or
    /// unlinked.
    pub(crate) fn push_back(&mut self, state: S, waker: &Waker) -> WaiterKey {
        let entry = self.nodes.vacant_entry();
        let index = entry.key();
        let link = Link::to(index);
        entry.insert(Node {
            prev: self.tail,
            next: Link::NONE,
            linked: true,
            waker: Some(waker.clone()),
            state,
        });
        match self.tail.index() {
            Some(tail) => self.nodes[tail].next = link,
            None => self.head = link,
        }
        self.tail = link;
        self.len += 1;
        WaiterKey(index)
    }

    /// Number of linked waiters.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether no waiter is linked (unlinked slots may still exist).
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The waiter that has waited longest, if any.
    pub(crate) fn front(&self) -> Option<WaiterKey> {
        self.head.index().map(WaiterKey)
    }

    /// Unlinks the front waiter; its slot (state, waker) stays until
    /// [`remove`](Self::remove).
    pub(crate) fn pop_front(&mut self) -> Option<WaiterKey> {
        let key = self.front()?;
        self.unlink(key);
        Some(key)
    }

    /// Unlinks `key` wherever it is in the FIFO; `false` if it was not linked.
    pub(crate) fn unlink(&mut self, key: WaiterKey) -> bool {
        let node = &mut self.nodes[key.0];
        if !node.linked {
            return false;
        }
        node.linked = false;
        let prev = std::mem::replace(&mut node.prev, Link::NONE);
        let next = std::mem::replace(&mut node.next, Link::NONE);
        match prev.index() {
            Some(prev) => self.nodes[prev].next = next,
            None => self.head = next,
        }
        match next.index() {
            Some(next) => self.nodes[next].prev = prev,
            None => self.tail = prev,
        }
        self.len -= 1;
        true
    }

    /// Whether `key` is still waiting in the FIFO.
    pub(crate) fn is_linked(&self, key: WaiterKey) -> bool {
        self.nodes[key.0].linked
    }

    /// The primitive's state of waiter `key`.
    pub(crate) fn state(&self, key: WaiterKey) -> &S {
        &self.nodes[key.0].state
    }

    /// The primitive's state of waiter `key`, mutably.
    pub(crate) fn state_mut(&mut self, key: WaiterKey) -> &mut S {
        &mut self.nodes[key.0].state
    }

    /// Stores the waker of the latest poll (clones only when the stored one
    /// would not wake the same task).
    pub(crate) fn update_waker(&mut self, key: WaiterKey, waker: &Waker) {
        let slot = &mut self.nodes[key.0].waker;
        match slot {
            Some(stored) if stored.will_wake(waker) => {}
            _ => *slot = Some(waker.clone()),
        }
    }

    /// Takes the waiter's waker out, to wake it once the lock is released.
    pub(crate) fn take_waker(&mut self, key: WaiterKey) -> Option<Waker> {
        self.nodes[key.0].waker.take()
    }

    /// Unlinks `key` (if linked) and frees its slot, returning its state.
    pub(crate) fn remove(&mut self, key: WaiterKey) -> S {
        self.unlink(key);
        self.nodes.remove(key.0).state
    }

    /// Wakes every linked waiter, front to back, and frees every slot,
    /// linked or not; the slab keeps its capacity.
    ///
    /// For a primitive that releases all its waiters at once: it swaps the
    /// whole queue out under its lock (`mem::take`, O(1)) and calls this on
    /// the taken queue after unlocking, so no waker runs under the lock and
    /// none is copied into a [`WakeList`](crate::wake_list::WakeList) first. The waiters must learn of
    /// their release by other means (the event's generation): the keys of
    /// this queue are dead afterwards.
    pub(crate) fn wake_all_and_clear(&mut self) {
        let mut next = self.head.index();
        while let Some(index) = next {
            let node = &mut self.nodes[index];
            next = node.next.index();
            if let Some(waker) = node.waker.take() {
                waker.wake();
            }
        }
        self.nodes.clear();
        self.head = Link::NONE;
        self.tail = Link::NONE;
        self.len = 0;
    }

    /// Linked waiters, front to back.
    pub(crate) fn iter(&self) -> impl Iterator<Item = WaiterKey> + '_ {
        std::iter::successors(self.head.index(), move |&index| {
            self.nodes[index].next.index()
        })
        .map(WaiterKey)
    }

    /// How many waiter slots the queue can hold without allocating.
    pub(crate) fn capacity(&self) -> usize {
        self.nodes.capacity()
    }
}

/// Shows the linked waiters' states, front to back (the slab's layout and
/// the unlinked slots are implementation details).
impl<S: fmt::Debug> fmt::Debug for WaiterQueue<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|key| self.state(key)))
            .finish()
    }
}

impl<S> Default for WaiterQueue<S> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::task::noop_waker_ref;
    use std::sync::{Arc, Mutex};
    use std::task::Wake;

    fn keys<S>(queue: &WaiterQueue<S>) -> Vec<WaiterKey> {
        queue.iter().collect()
    }

    /// Records the order in which wakers fire, by id.
    #[derive(Default)]
    struct Log(Mutex<Vec<usize>>);

    struct IdWaker {
        id: usize,
        log: Arc<Log>,
    }

    impl Wake for IdWaker {
        fn wake(self: Arc<Self>) {
            self.log.0.lock().unwrap().push(self.id);
        }
    }

    fn id_waker(id: usize, log: &Arc<Log>) -> Waker {
        Waker::from(Arc::new(IdWaker {
            id,
            log: log.clone(),
        }))
    }

    #[test]
    fn fifo_order_and_pop_front() {
        let waker = noop_waker_ref();
        let mut queue = WaiterQueue::new();
        assert!(queue.is_empty());
        assert_eq!(queue.front(), None);
        let a = queue.push_back('a', waker);
        let b = queue.push_back('b', waker);
        let c = queue.push_back('c', waker);
        assert_eq!(queue.len(), 3);
        assert_eq!(keys(&queue), [a, b, c]);

        assert_eq!(queue.pop_front(), Some(a));
        // A popped waiter keeps its slot (state readable) but is unlinked.
        assert!(!queue.is_linked(a));
        assert_eq!(*queue.state(a), 'a');
        assert_eq!(queue.front(), Some(b));
        assert_eq!(queue.len(), 2);
        assert_eq!(queue.remove(a), 'a');

        assert_eq!(queue.pop_front(), Some(b));
        assert_eq!(queue.pop_front(), Some(c));
        assert_eq!(queue.pop_front(), None);
        assert!(queue.is_empty());
    }

    #[test]
    fn unlink_from_front_middle_and_back() {
        let waker = noop_waker_ref();
        let mut queue = WaiterQueue::new();
        let k: Vec<_> = (0..5).map(|i| queue.push_back(i, waker)).collect();

        assert!(queue.unlink(k[2])); // middle
        assert_eq!(keys(&queue), [k[0], k[1], k[3], k[4]]);
        assert!(queue.unlink(k[0])); // front
        assert_eq!(queue.front(), Some(k[1]));
        assert!(queue.unlink(k[4])); // back: a new waiter must link after k[3]
        let late = queue.push_back(5, waker);
        assert_eq!(keys(&queue), [k[1], k[3], late]);
        assert_eq!(queue.len(), 3);

        // Unlinking twice is harmless and reports that nothing happened.
        assert!(!queue.unlink(k[2]));
        assert_eq!(queue.len(), 3);

        // The only remaining waiter, removed, leaves an empty queue whose next
        // waiter becomes both head and tail.
        for key in [k[1], k[3], late] {
            queue.remove(key);
        }
        for key in [k[0], k[2], k[4]] {
            queue.remove(key);
        }
        assert!(queue.is_empty());
        let only = queue.push_back(9, waker);
        assert_eq!(keys(&queue), [only]);
        assert_eq!(queue.pop_front(), Some(only));
    }

    #[test]
    fn debug_lists_linked_states_front_to_back() {
        let waker = noop_waker_ref();
        let mut queue = WaiterQueue::new();
        let first = queue.push_back("first", waker);
        queue.push_back("second", waker);
        queue.push_back("third", waker);
        queue.pop_front();
        assert_eq!(format!("{queue:?}"), r#"["second", "third"]"#);
        queue.remove(first);
    }

    #[test]
    fn remove_linked_waiter_unlinks_it() {
        let waker = noop_waker_ref();
        let mut queue = WaiterQueue::new();
        let a = queue.push_back(1, waker);
        let b = queue.push_back(2, waker);
        *queue.state_mut(b) += 10;
        assert_eq!(queue.remove(b), 12);
        assert_eq!(keys(&queue), [a]);
        assert_eq!(queue.len(), 1);
    }

    #[test]
    fn slots_are_reused_so_steady_state_does_not_grow() {
        let waker = noop_waker_ref();
        let mut queue = WaiterQueue::new();
        let first: Vec<_> = (0..4).map(|i| queue.push_back(i, waker)).collect();
        let capacity = queue.capacity();
        for key in first {
            queue.remove(key);
        }
        for round in 0..100 {
            let keys: Vec<_> = (0..4).map(|i| queue.push_back(round + i, waker)).collect();
            for key in keys.into_iter().rev() {
                queue.remove(key);
            }
        }
        assert_eq!(queue.capacity(), capacity);
    }

    #[test]
    fn update_waker_keeps_latest_and_take_empties() {
        let log = Arc::new(Log::default());
        let mut queue = WaiterQueue::new();
        let key = queue.push_back((), &id_waker(1, &log));
        queue.update_waker(key, &id_waker(2, &log));
        let waker = queue.take_waker(key).expect("a waker is stored");
        assert!(queue.take_waker(key).is_none());
        waker.wake();
        assert_eq!(*log.0.lock().unwrap(), [2]);
    }

    #[test]
    fn update_waker_does_not_replace_an_equivalent_waker() {
        let log = Arc::new(Log::default());
        let waker = id_waker(1, &log);
        let mut queue = WaiterQueue::new();
        let key = queue.push_back((), &waker);
        queue.update_waker(key, &waker.clone());
        assert!(queue.take_waker(key).unwrap().will_wake(&waker));
    }
}
