//! The one waiting protocol of the crate: how a task waits, is granted what
//! it waits for, and either takes the grant or hands it on.
//!
//! Every future of this crate that may have to wait (an acquire, a lock, an
//! event's or a condition's wait, a barrier's wait, a queue's put, get and
//! join) follows the same four steps, and this module is the only place
//! that implements them. A primitive keeps a [`WaiterQueue`] behind its
//! lock; a future keeps a [`WaitState`].
//!
//! 1. **Queued.** The future's first poll tries the operation under the
//!    primitive's lock. If it has to wait, [`WaiterQueue::push_back`] gives
//!    it a slot at the back of the FIFO holding its request and its waker,
//!    and the future remembers the slot's key ([`WaitState::poll`] runs
//!    this first poll and every later one).
//! 2. **Granted.** Whoever makes progress possible (a release, a put, a
//!    notify, the last party of a barrier, a close or shutdown) calls
//!    [`WaiterQueue::grant_front`]: the waiter that has waited longest
//!    leaves the FIFO, the granter records the grant in its slot (a permit
//!    count, an item, an outcome), and its waker moves into a
//!    [`WakeList`] that is woken once the lock is released. A woken task
//!    must never run into the lock its waker came from. The slot itself
//!    stays: the future owns it now.
//! 3. **Taken.** The future's next poll calls [`WaiterQueue::poll`]. While
//!    the slot is still queued it only stores the latest waker and stays
//!    pending; once granted, it frees the slot and returns the grant.
//! 4. **Or handed on.** A future dropped before it took its grant calls
//!    [`WaiterQueue::cancel`] from its destructor ([`WaitState::cancel`]
//!    says whether it has a slot to give up). That frees the slot and
//!    returns what it holds: the request of a waiter still queued, or the
//!    grant of one that was granted and never ran. The primitive hands such
//!    a grant to the next waiter, exactly as if it had just been released.
//!
//! # Why nothing is lost
//!
//! This is the cancel-safety argument for every primitive of the crate.
//!
//! * **No lost wake-up.** A waiter checks whether it must wait and queues
//!   itself in one critical section; a granter grants in another. So a
//!   granter either runs first, and the waiter sees its effect and does not
//!   queue, or runs later and finds the waiter in the FIFO. Each pending
//!   poll stores its waker under the same lock, so the granter takes the
//!   latest one.
//! * **No lost grant.** A grant is written into the slot under the lock
//!   before the waiter is woken, and only the slot's future frees the slot:
//!   by taking the grant (step 3) or by handing it back (step 4), both under
//!   the lock. So at every instant a grant is in the primitive, in exactly
//!   one slot, or in the hands of the task that took it, and a future
//!   dropped at any await point gives back everything it was given.
//! * **No grant used twice.** A slot is freed once: the poll that takes the
//!   grant moves the future's [`WaitState`] to `Done`, and a `Done` future
//!   has no slot to cancel.
//!
//! A granter may also record a partial grant in the slot of the waiter at
//! the front without unlinking it ([`WaiterQueue::front_mut`]): the
//! semaphore's head gathers permits that way. Such a partial grant is part
//! of the slot, so step 4 hands it on like any other.
//!
//! # Completion without the lock
//!
//! Two primitives let their woken waiters finish with one atomic load
//! instead of a trip through the lock: the granter frees the slot itself
//! ([`WaiterQueue::grant_front_and_free`], or
//! [`WaiterQueue::wake_all_and_clear`] for a whole queue) and publishes the
//! grant in an atomic word that every waiter can read: the semaphore's
//! count of served tickets, the event's generation. The rule that makes
//! this safe: a waiter reads that word before it uses its key, and reads it
//! again under the lock (the word changes only under the lock), because a
//! freed slot may already belong to a newer waiter. Steps 1, 3 and 4 are
//! unchanged for them.
//!
//! # The FIFO
//!
//! [`WaiterQueue`] keeps the waiters as nodes in a [`slab::Slab`] and links
//! them into a doubly linked list through slab indices instead of pointers,
//! so queueing, granting the front and cancelling from anywhere are O(1)
//! and need no `unsafe`. A freed slot is reused by the next waiter: once the
//! slab has grown to the largest number of simultaneous waiters, waiting
//! allocates nothing.
//!
//! ```text
//!            head                                  tail
//!             │                                     │
//!             ▼                                     ▼
//!   slab: [ #2 A ] ⇄ [ #0 B ] ⇄ [ #3 C ]    [ #1 D (unlinked, granted) ]
//! ```
//!
//! The queue is not synchronised: it lives inside a primitive's
//! `facade::Mutex`.

use std::fmt;
use std::task::{Poll, Waker};

use slab::Slab;

use crate::wake_list::WakeList;

/// Stable handle to a waiter's slot, valid until the slot is freed (by
/// [`WaiterQueue::poll`] returning `Ready`, or by [`WaiterQueue::cancel`]).
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

/// One waiter: its place in the FIFO, its waker and its slot.
#[derive(Debug)]
struct Node<S> {
    /// The node before this one; meaningless while this node is the head
    /// (see [`WaiterQueue::pop_front`]).
    prev: Link,
    next: Link,
    /// Whether the node is in the FIFO (a granted one stays in the slab,
    /// unlinked, until its future frees it).
    linked: bool,
    waker: Option<Waker>,
    /// The waiter's request while it is queued, its grant once granted.
    slot: S,
}

/// A FIFO of waiters with O(1) cancellation from the middle, and the
/// protocol of the [module docs](self).
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

    /// Step 1: queues a waiter at the back with its request in its slot.
    pub(crate) fn push_back(&mut self, slot: S, waker: &Waker) -> WaiterKey {
        let entry = self.nodes.vacant_entry();
        let index = entry.key();
        let link = Link::to(index);
        entry.insert(Node {
            prev: self.tail,
            next: Link::NONE,
            linked: true,
            waker: Some(waker.clone()),
            slot,
        });
        match self.tail.index() {
            Some(tail) => self.nodes[tail].next = link,
            None => self.head = link,
        }
        self.tail = link;
        self.len += 1;
        WaiterKey(index)
    }

    /// Step 2: grants the waiter that has waited longest. It leaves the FIFO
    /// and its waker moves to `wakes`; the caller records the grant in the
    /// returned slot. `None` if nobody waits.
    #[inline]
    pub(crate) fn grant_front(&mut self, wakes: &mut WakeList) -> Option<&mut S> {
        let key = self.pop_front()?;
        let node = &mut self.nodes[key.0];
        if let Some(waker) = node.waker.take() {
            wakes.push(waker);
        }
        Some(&mut node.slot)
    }

    /// Step 2 for every queued waiter, front to back, for a release whose
    /// grant the slots already hold (a shutdown that refuses every waiter,
    /// the last `task_done` that releases every `join`).
    pub(crate) fn grant_all(&mut self, wakes: &mut WakeList) {
        while self.grant_front(wakes).is_some() {}
    }

    /// Step 2 for a primitive that tells its waiters of their grant through
    /// an atomic word (see the [module docs](self#completion-without-the-lock)):
    /// grants the front waiter and frees its slot at once, returning the
    /// slot's contents.
    pub(crate) fn grant_front_and_free(&mut self, wakes: &mut WakeList) -> Option<S> {
        let key = self.pop_front()?;
        let node = self.nodes.remove(key.0);
        if let Some(waker) = node.waker {
            wakes.push(waker);
        }
        Some(node.slot)
    }

    /// The slot of the waiter that has waited longest, still queued: for a
    /// granter that works on it before it grants it (the semaphore's head
    /// gathers permits, a waiting putter's item is stored for it).
    pub(crate) fn front_mut(&mut self) -> Option<&mut S> {
        let head = self.head.index()?;
        Some(&mut self.nodes[head].slot)
    }

    /// Step 3: `Pending` while the waiter is queued (storing the waker of
    /// this poll); once it was granted, frees its slot and returns the grant.
    pub(crate) fn poll(&mut self, key: WaiterKey, waker: &Waker) -> Poll<S> {
        if self.nodes[key.0].linked {
            self.update_waker(key, waker);
            Poll::Pending
        } else {
            Poll::Ready(self.nodes.remove(key.0).slot)
        }
    }

    /// Step 4: the waiter's future was dropped. Frees its slot, wherever it
    /// is, and returns what the slot holds: the request of a waiter still
    /// queued, or the grant it never took, which the caller hands on.
    pub(crate) fn cancel(&mut self, key: WaiterKey) -> S {
        self.unlink(key);
        self.nodes.remove(key.0).slot
    }

    /// Wakes every queued waiter, front to back, and frees every slot,
    /// queued or granted; the slab keeps its capacity.
    ///
    /// For a primitive that releases all its waiters at once: it swaps the
    /// whole queue out under its lock (`mem::take`, O(1)) and calls this on
    /// the taken queue after unlocking, so no waker runs under the lock and
    /// none is copied into a [`WakeList`] first. The waiters must learn of
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

    /// Number of queued (not yet granted) waiters.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether no waiter is queued (granted slots may still exist).
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many waiter slots the queue can hold without allocating.
    pub(crate) fn capacity(&self) -> usize {
        self.nodes.capacity()
    }

    /// Unlinks the front waiter; its slot stays until its future frees it.
    ///
    /// The head has no predecessor, so this is [`unlink`](Self::unlink)
    /// with half the work: every grant goes through here. It touches only
    /// the popped node: the new head's `prev` is left as it was, because a
    /// head's `prev` is never read ([`unlink`](Self::unlink) recognises the
    /// head by `self.head`). In a long queue the next node was pushed long
    /// ago and is likely out of cache, so writing its `prev` here would cost
    /// a miss on every grant.
    #[inline]
    fn pop_front(&mut self) -> Option<WaiterKey> {
        let index = self.head.index()?;
        let node = &mut self.nodes[index];
        node.linked = false;
        let next = node.next;
        if next == Link::NONE {
            self.tail = Link::NONE;
        }
        self.head = next;
        self.len -= 1;
        Some(WaiterKey(index))
    }

    /// Unlinks `key` wherever it is in the FIFO; `false` if it was not linked.
    fn unlink(&mut self, key: WaiterKey) -> bool {
        let node = &mut self.nodes[key.0];
        if !node.linked {
            return false;
        }
        node.linked = false;
        let (prev, next) = (node.prev, node.next);
        if self.head == Link::to(key.0) {
            // A head's `prev` is stale (see `pop_front`), and the next node
            // becomes the head, so its `prev` need not be set either.
            self.head = next;
            if next == Link::NONE {
                self.tail = Link::NONE;
            }
        } else {
            // Not the head: `prev` names the node before it.
            self.nodes[prev.0 as usize].next = next;
            match next.index() {
                Some(next) => self.nodes[next].prev = prev,
                None => self.tail = prev,
            }
        }
        self.len -= 1;
        true
    }

    /// Stores the waker of the latest poll (clones only when the stored one
    /// would not wake the same task).
    fn update_waker(&mut self, key: WaiterKey, waker: &Waker) {
        let stored = &mut self.nodes[key.0].waker;
        match stored {
            Some(stored) if stored.will_wake(waker) => {}
            _ => *stored = Some(waker.clone()),
        }
    }

    /// Queued waiters, front to back.
    fn iter(&self) -> impl Iterator<Item = WaiterKey> + '_ {
        std::iter::successors(self.head.index(), move |&index| {
            self.nodes[index].next.index()
        })
        .map(WaiterKey)
    }
}

/// Shows the queued waiters' slots, front to back (the slab's layout and
/// the granted slots are implementation details).
impl<S: fmt::Debug> fmt::Debug for WaiterQueue<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|key| &self.nodes[key.0].slot))
            .finish()
    }
}

impl<S> Default for WaiterQueue<S> {
    fn default() -> Self {
        Self::new()
    }
}

/// Where a waiting future stands; every future of the crate that may wait
/// keeps one, and drives its polls and its drop through it.
///
/// `K` is what the future needs to find its slot again: the [`WaiterKey`],
/// or the key together with the atomic word's value it waits for (the
/// semaphore's ticket, the event's generation).
#[derive(Debug)]
pub(crate) enum WaitState<K = WaiterKey> {
    /// Not polled yet: the future owns nothing in the primitive.
    Idle,
    /// Queued, or granted and not polled since: the future owns the slot.
    Waiting(K),
    /// Returned `Ready`, or gave its slot up: it owns nothing any more.
    Done,
}

/// How the first poll of a waiting future went.
pub(crate) enum FirstPoll<T, K = WaiterKey> {
    /// It completed without waiting.
    Ready(T),
    /// It was queued under this key.
    Queued(K),
}

impl<K: Copy> WaitState<K> {
    /// Polls the future: `first` on the first poll (try the operation, or
    /// queue), `again` with the key on every later one (usually
    /// [`WaiterQueue::poll`] under the primitive's lock).
    ///
    /// # Panics
    ///
    /// If polled again after it returned `Ready`.
    #[inline]
    pub(crate) fn poll<T>(
        &mut self,
        first: impl FnOnce() -> FirstPoll<T, K>,
        again: impl FnOnce(K) -> Poll<T>,
    ) -> Poll<T> {
        // Each arm returns its own `Poll`, rather than joining on the output:
        // this runs on every poll of every waiting future, and the compiler
        // then moves no output through a common exit.
        match *self {
            WaitState::Idle => match first() {
                FirstPoll::Ready(output) => {
                    *self = WaitState::Done;
                    Poll::Ready(output)
                }
                FirstPoll::Queued(key) => {
                    *self = WaitState::Waiting(key);
                    Poll::Pending
                }
            },
            WaitState::Waiting(key) => {
                let poll = again(key);
                if poll.is_ready() {
                    *self = WaitState::Done;
                }
                poll
            }
            WaitState::Done => panic!("a weft-primitives future was polled after it completed"),
        }
    }

    /// The key of the slot a dropped future must give up with
    /// [`WaiterQueue::cancel`], if it still owns one (the state is `Done`
    /// afterwards). Inlined: every future is dropped, most of them with
    /// nothing to give up.
    #[inline]
    pub(crate) fn cancel(&mut self) -> Option<K> {
        let WaitState::Waiting(key) = *self else {
            return None;
        };
        *self = WaitState::Done;
        Some(key)
    }

    /// Whether the future owns a slot (for `Debug` output).
    pub(crate) fn is_waiting(&self) -> bool {
        matches!(self, WaitState::Waiting(_))
    }
}

#[cfg(test)]
mod tests;
