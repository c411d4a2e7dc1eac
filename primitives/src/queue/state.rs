//! The state behind a queue's lock, and every rule about who gets what.
//!
//! The [module docs of `queue`](super) explain the algorithm; this file is its
//! implementation. Each method runs inside the queue's one critical section
//! and collects the wakers it must call into a [`WakeList`] that the caller
//! wakes after unlocking. Items that have to be dropped are returned to the
//! caller as well, so that an item's destructor never runs under the lock
//! (it might use the queue itself, as a pooled object returning home does).
//!
//! Invariants, true whenever the lock is free:
//!
//! 1. Getters wait only while the storage is empty: an item put while a getter
//!    waits is handed to that getter instead of being stored.
//! 2. Putters wait only while the queue is full: a slot freed while a putter
//!    waits is filled with that putter's item at once.
//! 3. `handed` counts the items sitting in the slots of getters that were
//!    woken but have not run yet. They still count in `qsize` (they are in
//!    asyncio's deque until the getter runs), but no other getter can take
//!    them.

use std::mem;
use std::task::{Poll, Waker};

use super::error::{GetError, PutError, QueueShutDown, TaskDoneError};
use super::storage::QueueStorage;
use crate::waiter_queue::{FirstPoll, WaiterKey, WaiterQueue};
use crate::wake_list::WakeList;

/// Where a queue is in asyncio's shutdown sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lifecycle {
    Open,
    /// `shutdown(false)`: no more puts; gets drain what is left.
    ShutDown,
    /// `shutdown(true)`: no more puts, and every queued item was dropped.
    ShutDownImmediate,
}

/// What a getter that queued itself finds in its slot when it looks again.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Claim<T> {
    /// Nothing yet: keep waiting.
    Waiting,
    /// An item was handed to this getter.
    Item(T),
    /// The queue was shut down before an item came. `revoked` is an item that
    /// had been handed to the getter and was taken back by an immediate
    /// shutdown; the caller drops it after unlocking.
    ShutDown { revoked: Option<T> },
}

/// Everything a queue's lock protects.
pub(super) struct State<T, S> {
    storage: S,
    /// 0 means unbounded.
    maxsize: usize,
    /// Items handed to woken getters that have not run yet (invariant 3).
    handed: usize,
    /// Puts not yet matched by a `task_done` (asyncio's `_unfinished_tasks`).
    unfinished: usize,
    lifecycle: Lifecycle,
    /// A linked slot is waiting; an unlinked one holds the handed item, or
    /// nothing if shutdown released it.
    getters: WaiterQueue<Option<T>>,
    /// A slot holds the putter's item until it is stored (then `None`); an
    /// unlinked slot that still holds it was refused by shutdown.
    putters: WaiterQueue<Option<T>>,
    /// Tasks in `join`; unlinked means released.
    joiners: WaiterQueue<()>,
}

impl<T, S: QueueStorage<T>> State<T, S> {
    pub(super) fn new(maxsize: usize) -> Self {
        Self {
            storage: S::default(),
            maxsize,
            handed: 0,
            unfinished: 0,
            lifecycle: Lifecycle::Open,
            getters: WaiterQueue::new(),
            putters: WaiterQueue::new(),
            joiners: WaiterQueue::new(),
        }
    }

    pub(super) fn maxsize(&self) -> usize {
        self.maxsize
    }

    pub(super) fn qsize(&self) -> usize {
        self.storage.len() + self.handed
    }

    pub(super) fn is_full(&self) -> bool {
        self.maxsize != 0 && self.qsize() >= self.maxsize
    }

    pub(super) fn unfinished(&self) -> usize {
        self.unfinished
    }

    pub(super) fn lifecycle(&self) -> Lifecycle {
        self.lifecycle
    }

    pub(super) fn waiting_getters(&self) -> usize {
        self.getters.len()
    }

    pub(super) fn waiting_putters(&self) -> usize {
        self.putters.len()
    }

    /// A put that has not queued: stores `item` unless the queue is shut
    /// down, full, or has putters waiting (a new put never overtakes them).
    pub(super) fn try_put(&mut self, item: T, wakes: &mut WakeList) -> Result<(), PutError<T>> {
        if self.lifecycle != Lifecycle::Open {
            return Err(PutError::ShutDown(item));
        }
        if self.is_full() || !self.putters.is_empty() {
            return Err(PutError::Full(item));
        }
        self.enqueue(item, wakes);
        Ok(())
    }

    /// A get that has not queued: takes a stored item. Items handed to woken
    /// getters are not in the storage, so a new get cannot overtake them.
    pub(super) fn try_get(&mut self, wakes: &mut WakeList) -> Result<T, GetError> {
        debug_assert!(self.getters.is_empty() || self.storage.is_empty());
        match self.storage.pop() {
            Some(item) => {
                self.admit_putter(wakes);
                Ok(item)
            }
            None if self.lifecycle == Lifecycle::Open => Err(GetError::Empty),
            None => Err(GetError::ShutDown),
        }
    }

    /// Queues a getter that found nothing; see [`State::claim`].
    pub(super) fn push_getter(&mut self, waker: &Waker) -> WaiterKey {
        self.getters.push_back(None, waker)
    }

    /// A queued getter looks at its slot again.
    pub(super) fn claim(
        &mut self,
        key: WaiterKey,
        waker: &Waker,
        wakes: &mut WakeList,
    ) -> Claim<T> {
        let Poll::Ready(slot) = self.getters.poll(key, waker) else {
            return Claim::Waiting;
        };
        match slot {
            Some(item) if self.lifecycle != Lifecycle::ShutDownImmediate => {
                self.handed -= 1;
                self.admit_putter(wakes);
                Claim::Item(item)
            }
            // Shutdown released us empty-handed, or an immediate shutdown took
            // back (and already accounted for) the item we had been handed.
            revoked => Claim::ShutDown { revoked },
        }
    }

    /// A queued getter was dropped. A handed item it never took goes to the
    /// next waiting getter, or back into the storage as its oldest item.
    /// Returns an item to drop after unlocking (one revoked by an immediate
    /// shutdown).
    pub(super) fn abandon_getter(&mut self, key: WaiterKey, wakes: &mut WakeList) -> Option<T> {
        match self.getters.cancel(key) {
            Some(item) if self.lifecycle != Lifecycle::ShutDownImmediate => {
                self.handed -= 1;
                if let Err(item) = self.hand_to_waiting_getter(item, wakes) {
                    self.storage.restore(item);
                }
                None
            }
            revoked => revoked,
        }
    }

    /// Queues a putter that found no room; it parks its item in its slot.
    pub(super) fn push_putter(&mut self, item: T, waker: &Waker) -> WaiterKey {
        self.putters.push_back(Some(item), waker)
    }

    /// A queued putter looks at its slot again: its item was stored (`Ok`),
    /// or shutdown refused it and hands it back.
    pub(super) fn poll_putter(
        &mut self,
        key: WaiterKey,
        waker: &Waker,
    ) -> Poll<Result<(), QueueShutDown<T>>> {
        self.putters.poll(key, waker).map(|slot| match slot {
            None => Ok(()),
            Some(item) => Err(QueueShutDown(item)),
        })
    }

    /// A queued putter was dropped. Its item, if not stored yet, is returned
    /// to be dropped after unlocking. There is no grant to hand on: a putter
    /// is granted by storing its item for it.
    pub(super) fn abandon_putter(&mut self, key: WaiterKey) -> Option<T> {
        self.putters.cancel(key)
    }

    /// A `join` that has not queued: done if every put was `task_done`,
    /// queued otherwise.
    pub(super) fn start_join(&mut self, waker: &Waker) -> FirstPoll<()> {
        match self.unfinished {
            0 => FirstPoll::Ready(()),
            _ => FirstPoll::Queued(self.joiners.push_back((), waker)),
        }
    }

    pub(super) fn poll_joiner(&mut self, key: WaiterKey, waker: &Waker) -> Poll<()> {
        self.joiners.poll(key, waker)
    }

    pub(super) fn abandon_joiner(&mut self, key: WaiterKey) {
        self.joiners.cancel(key);
    }

    pub(super) fn task_done(&mut self, wakes: &mut WakeList) -> Result<(), TaskDoneError> {
        self.unfinished = self.unfinished.checked_sub(1).ok_or(TaskDoneError)?;
        self.release_joiners_if_done(wakes);
        Ok(())
    }

    /// Shuts the queue down as asyncio 3.13 does. Returns the storage's
    /// former contents (dropped by an immediate shutdown) for the caller to
    /// drop after unlocking.
    pub(super) fn shutdown(&mut self, immediate: bool, wakes: &mut WakeList) -> S {
        let mut dropped = S::default();
        if immediate && self.lifecycle != Lifecycle::ShutDownImmediate {
            dropped = mem::take(&mut self.storage);
            // Items handed to getters that have not run are taken back too;
            // those getters see the revocation when they next look.
            let removed = dropped.len() + mem::take(&mut self.handed);
            // Saturating, as asyncio: `task_done` may run ahead of `get`.
            self.unfinished = self.unfinished.saturating_sub(removed);
            self.release_joiners_if_done(wakes);
            self.lifecycle = Lifecycle::ShutDownImmediate;
        } else if self.lifecycle == Lifecycle::Open {
            self.lifecycle = Lifecycle::ShutDown;
        }
        // Getters wait only on an empty storage (invariant 1), so each one
        // fails now, granted an empty slot; putters fail with their item
        // still in their slot.
        self.getters.grant_all(wakes);
        self.putters.grant_all(wakes);
        dropped
    }

    /// Counts a put and delivers its item (invariant 1).
    fn enqueue(&mut self, item: T, wakes: &mut WakeList) {
        self.unfinished += 1;
        if let Err(item) = self.hand_to_waiting_getter(item, wakes) {
            self.storage.push(item);
        }
    }

    /// Gives `item` to the getter that has waited longest, or returns it if
    /// no getter waits.
    fn hand_to_waiting_getter(&mut self, item: T, wakes: &mut WakeList) -> Result<(), T> {
        // Checked apart from the grant, which stays out of line: most puts
        // find no getter waiting, and this keeps their path short.
        if self.getters.is_empty() {
            return Err(item);
        }
        self.hand_to_front_getter(item, wakes);
        Ok(())
    }

    /// Gives `item` to the front getter; one is waiting.
    fn hand_to_front_getter(&mut self, item: T, wakes: &mut WakeList) {
        let slot = self.getters.grant_front(wakes).expect("a getter waits");
        *slot = Some(item);
        self.handed += 1;
    }

    /// Called after an item left the queue: fills the freed slot with the item
    /// of the putter that has waited longest (invariant 2).
    #[inline]
    fn admit_putter(&mut self, wakes: &mut WakeList) {
        if !self.putters.is_empty() && !self.is_full() {
            self.admit_front_putter(wakes);
        }
    }

    /// [`admit_putter`](Self::admit_putter) once there is room and a putter
    /// waits: out of line, as most gets find nobody waiting to put.
    fn admit_front_putter(&mut self, wakes: &mut WakeList) {
        let slot = self.putters.front_mut().expect("a putter waits");
        let item = slot.take().expect("a waiting putter holds its item");
        self.enqueue(item, wakes);
        // Its item is in the queue: the putter's grant is its emptied slot.
        self.putters.grant_front(wakes);
    }

    fn release_joiners_if_done(&mut self, wakes: &mut WakeList) {
        if self.unfinished != 0 {
            return;
        }
        self.joiners.grant_all(wakes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::storage::FifoStorage;
    use crate::test_support::counting_waker;

    type Fifo = State<u32, FifoStorage<u32>>;

    /// Runs `f` with a fresh wake list and wakes it afterwards, like the queue.
    fn locked<R>(state: &mut Fifo, f: impl FnOnce(&mut Fifo, &mut WakeList) -> R) -> R {
        let mut wakes = WakeList::new();
        let result = f(state, &mut wakes);
        wakes.wake_all();
        result
    }

    #[test]
    fn item_handed_to_a_waiting_getter_is_reserved_for_it() {
        let mut state = Fifo::new(0);
        let (count, waker) = counting_waker();
        let getter = state.push_getter(&waker);
        locked(&mut state, |s, w| s.try_put(7, w)).unwrap();
        assert_eq!(count.get(), 1);
        // Counted in the size, invisible to a new getter.
        assert_eq!(state.qsize(), 1);
        assert_eq!(
            locked(&mut state, |s, w| s.try_get(w)),
            Err(GetError::Empty)
        );
        assert_eq!(
            locked(&mut state, |s, w| s.claim(getter, &waker, w)),
            Claim::Item(7)
        );
        assert_eq!(state.qsize(), 0);
        assert_eq!(state.unfinished(), 1);
    }

    #[test]
    fn abandoned_grant_goes_to_the_next_getter() {
        let mut state = Fifo::new(0);
        let (first_count, first_waker) = counting_waker();
        let (second_count, second_waker) = counting_waker();
        let first = state.push_getter(&first_waker);
        let second = state.push_getter(&second_waker);
        locked(&mut state, |s, w| s.try_put(1, w)).unwrap();
        assert_eq!((first_count.get(), second_count.get()), (1, 0));
        assert_eq!(locked(&mut state, |s, w| s.abandon_getter(first, w)), None);
        assert_eq!(second_count.get(), 1);
        assert_eq!(state.qsize(), 1);
        assert_eq!(
            locked(&mut state, |s, w| s.claim(second, &second_waker, w)),
            Claim::Item(1)
        );
    }

    #[test]
    fn abandoned_grant_without_a_next_getter_is_restored_as_the_oldest_item() {
        let mut state = Fifo::new(0);
        let (_, waker) = counting_waker();
        let getter = state.push_getter(&waker);
        for item in [1, 2, 3] {
            locked(&mut state, |s, w| s.try_put(item, w)).unwrap();
        }
        assert_eq!(locked(&mut state, |s, w| s.abandon_getter(getter, w)), None);
        let order: Vec<_> = (0..3)
            .map(|_| locked(&mut state, |s, w| s.try_get(w)).unwrap())
            .collect();
        assert_eq!(order, [1, 2, 3]);
    }

    #[test]
    fn freed_slot_goes_to_the_waiting_putter_and_a_new_put_cannot_take_it() {
        let mut state = Fifo::new(1);
        let (count, waker) = counting_waker();
        locked(&mut state, |s, w| s.try_put(1, w)).unwrap();
        let putter = state.push_putter(2, &waker);
        assert_eq!(locked(&mut state, |s, w| s.try_get(w)), Ok(1));
        // The putter's item was stored for it when the slot freed up.
        assert_eq!(count.get(), 1);
        assert!(state.is_full());
        assert!(matches!(
            locked(&mut state, |s, w| s.try_put(3, w)),
            Err(PutError::Full(3))
        ));
        assert_eq!(state.poll_putter(putter, &waker), Poll::Ready(Ok(())));
        assert_eq!(state.unfinished(), 2);
    }

    #[test]
    fn claiming_a_handed_item_frees_a_slot_for_a_putter_whose_item_goes_to_the_next_getter() {
        let mut state = Fifo::new(1);
        let (_, waker) = counting_waker();
        let first = state.push_getter(&waker);
        let second = state.push_getter(&waker);
        locked(&mut state, |s, w| s.try_put(1, w)).unwrap();
        assert!(state.is_full());
        let putter = state.push_putter(2, &waker);
        assert_eq!(
            locked(&mut state, |s, w| s.claim(first, &waker, w)),
            Claim::Item(1)
        );
        assert_eq!(state.poll_putter(putter, &waker), Poll::Ready(Ok(())));
        assert_eq!(
            locked(&mut state, |s, w| s.claim(second, &waker, w)),
            Claim::Item(2)
        );
    }

    #[test]
    fn immediate_shutdown_revokes_handed_items_and_counts_them_finished() {
        let mut state = Fifo::new(0);
        let (_, waker) = counting_waker();
        let (join_count, join_waker) = counting_waker();
        let granted = state.push_getter(&waker);
        for item in [1, 2] {
            locked(&mut state, |s, w| s.try_put(item, w)).unwrap();
        }
        let FirstPoll::Queued(joiner) = state.start_join(&join_waker) else {
            panic!("items are unfinished: the join must wait");
        };
        let dropped = locked(&mut state, |s, w| s.shutdown(true, w));
        assert_eq!(dropped.len(), 1);
        assert_eq!((state.qsize(), state.unfinished()), (0, 0));
        assert_eq!(join_count.get(), 1);
        assert_eq!(state.poll_joiner(joiner, &join_waker), Poll::Ready(()));
        assert_eq!(
            locked(&mut state, |s, w| s.claim(granted, &waker, w)),
            Claim::ShutDown { revoked: Some(1) }
        );
    }

    #[test]
    fn graceful_shutdown_lets_granted_getters_keep_their_items() {
        let mut state = Fifo::new(0);
        let (_, waker) = counting_waker();
        let granted = state.push_getter(&waker);
        locked(&mut state, |s, w| s.try_put(1, w)).unwrap();
        let refused = state.push_getter(&waker);
        assert_eq!(locked(&mut state, |s, w| s.shutdown(false, w)).len(), 0);
        assert_eq!(
            locked(&mut state, |s, w| s.claim(refused, &waker, w)),
            Claim::ShutDown { revoked: None }
        );
        assert_eq!(
            locked(&mut state, |s, w| s.claim(granted, &waker, w)),
            Claim::Item(1)
        );
    }
}
