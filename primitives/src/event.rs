//! [`Event`]: a flag that tasks can wait for, as in asyncio.
//!
//! An event starts cleared. [`Event::wait`] completes at once while the flag
//! is set and otherwise waits until someone calls [`Event::set`]. `set`
//! releases every task waiting at that moment; [`Event::clear`] lowers the
//! flag again so that later `wait`s block.
//!
//! # Algorithm
//!
//! One atomic word holds the flag and a *generation*, the number of times
//! the event was set. `is_set`, and a `wait` on a set event, cost one atomic
//! load and never touch the lock. Waiters that must block queue themselves
//! by the crate's one waiting protocol (`waiter_queue.rs`), in a waiter
//! queue behind a mutex, and remember the generation they queued in:
//!
//! ```text
//!   state: generation 7 | flag clear     waiters (FIFO): [ A ] ⇄ [ B ] ⇄ [ C ]
//!
//!   set():  lock ─▶ state = generation 8 | flag set
//!           ─▶ take the whole queue out (a swap) ─▶ unlock
//!           ─▶ wake A, B, C, front to back ─▶ give the emptied slab back
//!
//!   A polled again: generation 8 ≠ 7 ─▶ Ready (one load, no lock)
//! ```
//!
//! The release happens at `set` time: a waiter whose generation has passed
//! is done, whatever the flag says when it next runs. So a `clear()` right
//! after `set()` does not strand the tasks that were already waiting:
//! asyncio behaves the same way (its `set` resolves each waiter's future,
//! and the waiter never looks at the flag again). Because `set` empties the
//! queue itself (the protocol's completion without the lock, with the
//! generation as the word that publishes it), a released waiter owns no
//! slot any more: waking up costs it one atomic load, not a trip through
//! the lock.
//!
//! Why no wake-up is lost: `set` raises the flag while holding the lock, and a
//! waiter checks the flag again under the same lock before it queues itself.
//! Either the waiter sees the flag raised, or it is queued before `set` takes
//! the lock and is released by it. The generation only changes under the
//! lock too, so a waiter that finds it unchanged under the lock is still
//! queued, and its slot is still its own.
//!
//! # Cancel safety
//!
//! Dropping a queued [`EventWait`] cancels its slot (only if its generation
//! is current: otherwise `set` freed it already). There is nothing to hand on:
//! `set` releases everybody, so one waiter going away takes nothing from
//! the others.

use std::fmt;
use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::facade::atomic::{AtomicU64, Ordering};
use crate::facade::Mutex;
use crate::waiter_queue::{FirstPoll, WaitState, WaiterKey, WaiterQueue};

/// An asyncio-style event: a flag that tasks can wait for.
///
/// Every task waiting when [`set`](Event::set) is called is released, even if
/// [`clear`](Event::clear) follows before it runs.
///
/// ```
/// use std::sync::Arc;
/// use weft_primitives::Event;
///
/// let ready = Arc::new(Event::new());
/// let waiter = {
///     let ready = ready.clone();
///     std::thread::spawn(move || futures::executor::block_on(ready.wait()))
/// };
/// ready.set();
/// waiter.join().unwrap();
/// assert!(ready.is_set());
/// ```
pub struct Event {
    /// The generation (times set) above the `SET` flag bit. The flag is
    /// raised and the generation moved only under the `waiters` lock (by
    /// `set`); `clear` lowers the flag alone. Read without the lock on the
    /// fast paths.
    state: AtomicU64,
    /// Tasks blocked in `wait` in the current generation; `set` empties it.
    waiters: Mutex<WaiterQueue<()>>,
}

/// The flag, in the low bit of `Event::state`.
const SET: u64 = 1;
/// One generation, in the bits above the flag.
const GENERATION: u64 = 2;

/// How many waiter slots an event keeps across a `set`. An event that
/// keeps being set and cleared by a few tasks reuses its slots and never
/// allocates; after a larger crowd (say a thousand tasks released by one
/// `set`), the slots are freed: keeping them would pin kilobytes per event
/// for a crowd that may never come back, and the next one regrows them in a
/// few doublings. (The `event_fanout` benchmark, a hundred events with a
/// thousand waiters each, ran twice as fast once the slabs stopped piling
/// up out of cache.)
const KEPT_WAITER_SLOTS: usize = 64;

/// The generation part of a state word.
fn generation(state: u64) -> u64 {
    state & !SET
}

impl Event {
    /// A cleared event with no waiters.
    ///
    /// ```
    /// let event = weft_primitives::Event::new();
    /// assert!(!event.is_set());
    /// ```
    pub fn new() -> Self {
        Self {
            state: AtomicU64::new(0),
            waiters: Mutex::new(WaiterQueue::new()),
        }
    }

    /// Whether the flag is set (one atomic load).
    ///
    /// ```
    /// let event = weft_primitives::Event::new();
    /// event.set();
    /// assert!(event.is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        self.state.load(Ordering::Acquire) & SET != 0
    }

    /// Sets the flag and releases every task waiting now.
    ///
    /// Tasks that call [`wait`](Event::wait) while the flag stays set complete
    /// at once. Setting a set event does nothing.
    ///
    /// ```
    /// use std::future::Future;
    /// use std::task::{Context, Poll, Waker};
    /// use weft_primitives::Event;
    ///
    /// let event = Event::new();
    /// let mut wait = std::pin::pin!(event.wait());
    /// let waker = futures::task::noop_waker();
    /// let mut cx = Context::from_waker(&waker);
    /// assert!(wait.as_mut().poll(&mut cx).is_pending());
    /// event.set();
    /// event.clear(); // too late to hold back a task that was already waiting
    /// assert_eq!(wait.as_mut().poll(&mut cx), Poll::Ready(()));
    /// ```
    pub fn set(&self) {
        // A set flag means no task is queued: `set` empties the queue under the
        // lock, and a task queues itself only after seeing the flag cleared
        // under that lock.
        if self.is_set() {
            return;
        }
        let mut released = {
            let mut waiters = self.waiters.lock();
            // Only `set` raises the flag, and only under this lock: if it is
            // still clear here, adding one generation and the flag is exact
            // even while a `clear` runs concurrently.
            if self.is_set() {
                return;
            }
            self.state.fetch_add(GENERATION | SET, Ordering::AcqRel);
            mem::take(&mut *waiters)
        };
        released.wake_all_and_clear();
        // Hand the emptied slab back for the next generation's waiters
        // (unless some already queued in a fresh one), but only if it is
        // small: a crowd that is gone should not pin its memory.
        if released.capacity() <= KEPT_WAITER_SLOTS {
            let mut waiters = self.waiters.lock();
            if waiters.is_empty() {
                *waiters = released;
            }
        }
    }

    /// Clears the flag: later calls to [`wait`](Event::wait) block until the
    /// next [`set`](Event::set). Tasks already released stay released.
    ///
    /// ```
    /// let event = weft_primitives::Event::new();
    /// event.set();
    /// event.clear();
    /// assert!(!event.is_set());
    /// ```
    pub fn clear(&self) {
        self.state.fetch_and(!SET, Ordering::AcqRel);
    }

    /// Waits until the flag is set; completes at once if it is set now.
    ///
    /// The future is cancel-safe: dropping it only gives up its own place.
    ///
    /// ```
    /// let event = weft_primitives::Event::new();
    /// event.set();
    /// futures::executor::block_on(event.wait());
    /// ```
    pub fn wait(&self) -> EventWait<'_> {
        EventWait {
            event: self,
            wait: WaitState::Idle,
        }
    }
}

impl Default for Event {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("is_set", &self.is_set())
            .finish_non_exhaustive()
    }
}

/// Future returned by [`Event::wait`]; completes once the event is set.
///
/// ```
/// use weft_primitives::{Event, EventWait};
///
/// let event = Event::new();
/// let wait: EventWait<'_> = event.wait();
/// event.set();
/// futures::executor::block_on(wait);
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct EventWait<'a> {
    event: &'a Event,
    wait: WaitState<Queued>,
}

/// A queued wait's slot and the generation it queued in.
#[derive(Debug, Clone, Copy)]
struct Queued {
    key: WaiterKey,
    generation: u64,
}

impl Event {
    /// First poll of a wait: done if the flag is set, else queued.
    fn start_wait(&self, waker: &Waker) -> FirstPoll<(), Queued> {
        if self.is_set() {
            return FirstPoll::Ready(());
        }
        let mut waiters = self.waiters.lock();
        // Checked again under the lock that `set` holds while raising the
        // flag: now we either see it or `set` will see us.
        let state = self.state.load(Ordering::Acquire);
        if state & SET != 0 {
            return FirstPoll::Ready(());
        }
        FirstPoll::Queued(Queued {
            key: waiters.push_back((), waker),
            generation: generation(state),
        })
    }

    /// Whether the event was set since `queued` queued: then `set` freed
    /// its slot, and the key must not be used.
    fn released(&self, queued: Queued) -> bool {
        generation(self.state.load(Ordering::Acquire)) != queued.generation
    }

    /// Later polls of a queued wait.
    fn poll_waiter(&self, queued: Queued, waker: &Waker) -> Poll<()> {
        if self.released(queued) {
            return Poll::Ready(());
        }
        let mut waiters = self.waiters.lock();
        // The generation moves only under this lock: unchanged here means
        // the slot is still ours, and still queued (only `set` grants).
        if self.released(queued) {
            return Poll::Ready(());
        }
        waiters.poll(queued.key, waker)
    }

    /// A queued wait is being dropped: it gives up its slot. There is
    /// nothing to hand on (see the module docs).
    fn cancel_waiter(&self, queued: Queued) {
        if self.released(queued) {
            return; // `set` freed our slot already
        }
        let mut waiters = self.waiters.lock();
        if !self.released(queued) {
            waiters.cancel(queued.key);
        }
    }
}

impl Future for EventWait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        // The common later poll: `set` released this waiter (one load).
        if let WaitState::Waiting(queued) = this.wait {
            if this.event.released(queued) {
                this.wait = WaitState::Done;
                return Poll::Ready(());
            }
        }
        this.poll_slow(cx.waker())
    }
}

impl EventWait<'_> {
    /// Every other poll, through the waiting protocol. Out of line, so that
    /// its register saves are not paid by the released waiter's poll above.
    #[inline(never)]
    fn poll_slow(&mut self, waker: &Waker) -> Poll<()> {
        let event = self.event;
        self.wait.poll(
            || event.start_wait(waker),
            |queued| event.poll_waiter(queued, waker),
        )
    }
}

impl Drop for EventWait<'_> {
    // Every wait is dropped, most of them done: that check is inlined.
    #[inline]
    fn drop(&mut self) {
        if let Some(queued) = self.wait.cancel() {
            self.event.cancel_waiter(queued);
        }
    }
}

impl fmt::Debug for EventWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventWait")
            .field("event", self.event)
            .field("queued", &self.wait.is_waiting())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{counting_waker, poll, poll_with};
    use futures::task::noop_waker;

    #[test]
    fn waiters_granted_by_set_leave_the_queue() {
        let event = Event::new();
        let waker = noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut a = event.wait();
        let mut b = event.wait();
        assert!(Pin::new(&mut a).poll(&mut cx).is_pending());
        assert!(Pin::new(&mut b).poll(&mut cx).is_pending());
        assert_eq!(event.waiters.lock().len(), 2);
        event.set();
        assert!(event.waiters.lock().is_empty());
        event.clear();
        assert_eq!(Pin::new(&mut a).poll(&mut cx), Poll::Ready(()));
        drop(b); // granted but never polled again: frees its slot, nothing else
        assert!(!event.is_set());
    }

    #[test]
    fn a_small_crowd_keeps_its_slots_a_large_one_frees_them() {
        let waker = noop_waker();
        let mut cx = Context::from_waker(&waker);
        for (crowd, kept) in [(4, true), (KEPT_WAITER_SLOTS + 1, false)] {
            let event = Event::new();
            let mut waits: Vec<_> = (0..crowd).map(|_| event.wait()).collect();
            for wait in &mut waits {
                assert!(Pin::new(wait).poll(&mut cx).is_pending());
            }
            event.set();
            for wait in &mut waits {
                assert_eq!(Pin::new(wait).poll(&mut cx), Poll::Ready(()));
            }
            let capacity = event.waiters.lock().capacity();
            assert_eq!(
                capacity >= crowd,
                kept,
                "{crowd} waiters left {capacity} slots"
            );
        }
    }

    #[test]
    fn is_set_follows_set_and_clear() {
        let event = Event::new();
        assert!(!event.is_set());
        event.set();
        assert!(event.is_set());
        event.clear();
        assert!(!event.is_set());
    }

    #[test]
    fn a_queued_wait_stays_pending_until_set() {
        let event = Event::new();
        let mut wait = event.wait();
        assert!(poll(&mut wait).is_pending());
        assert!(poll(&mut wait).is_pending(), "nothing released it yet");
        event.set();
        assert_eq!(poll(&mut wait), Poll::Ready(()));
    }

    #[test]
    fn a_dropped_wait_gives_up_its_place_and_is_not_woken() {
        let event = Event::new();
        let (dropped_woken, dropped_waker) = counting_waker();
        let (kept_woken, kept_waker) = counting_waker();
        let mut dropped = event.wait();
        let mut kept = event.wait();
        assert!(poll_with(&mut dropped, &dropped_waker).is_pending());
        assert!(poll_with(&mut kept, &kept_waker).is_pending());
        drop(dropped);
        assert_eq!(event.waiters.lock().len(), 1);
        event.set();
        assert_eq!((dropped_woken.get(), kept_woken.get()), (0, 1));
        assert_eq!(poll_with(&mut kept, &kept_waker), Poll::Ready(()));
    }

    #[test]
    fn debug_shows_the_flag_and_whether_the_wait_is_queued() {
        let event = Event::new();
        assert_eq!(format!("{event:?}"), "Event { is_set: false, .. }");
        let mut wait = event.wait();
        assert!(poll(&mut wait).is_pending());
        assert_eq!(
            format!("{wait:?}"),
            "EventWait { event: Event { is_set: false, .. }, queued: true }"
        );
        event.set();
        assert_eq!(format!("{event:?}"), "Event { is_set: true, .. }");
    }
}
