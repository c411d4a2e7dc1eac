//! Unit tests of the waiter queue and the wait state.

use super::*;
use futures::task::noop_waker_ref;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{RawWaker, RawWakerVTable};

fn keys<S>(queue: &WaiterQueue<S>) -> Vec<WaiterKey> {
    queue.iter().collect()
}

/// Counts the clones and wakes of the wakers made from it.
struct Probe {
    clones: AtomicUsize,
    wakes: AtomicUsize,
}

impl Probe {
    const fn new() -> Self {
        Self {
            clones: AtomicUsize::new(0),
            wakes: AtomicUsize::new(0),
        }
    }

    fn clones(&self) -> usize {
        self.clones.load(Ordering::SeqCst)
    }

    fn wakes(&self) -> usize {
        self.wakes.load(Ordering::SeqCst)
    }

    /// A waker over this probe. Its vtable is a `static`, one address for
    /// every clone, so `will_wake` reliably holds between clones (for
    /// std's own wakers that is only best effort, and fails under miri).
    fn waker(&'static self) -> Waker {
        static VTABLE: RawWakerVTable =
            RawWakerVTable::new(clone_probe, wake_probe, wake_probe, |_| {});
        fn probe(data: *const ()) -> &'static Probe {
            // SAFETY: every waker of this vtable was made by
            // `Probe::waker` from a `&'static Probe`.
            unsafe { &*data.cast::<Probe>() }
        }
        fn clone_probe(data: *const ()) -> RawWaker {
            probe(data).clones.fetch_add(1, Ordering::SeqCst);
            RawWaker::new(data, &VTABLE)
        }
        fn wake_probe(data: *const ()) {
            probe(data).wakes.fetch_add(1, Ordering::SeqCst);
        }
        let raw = RawWaker::new((self as *const Probe).cast(), &VTABLE);
        // SAFETY: the vtable's functions follow `RawWaker`'s contract:
        // the data is a `&'static Probe`, valid on any thread for ever,
        // and cloning, waking and dropping need no cleanup.
        unsafe { Waker::from_raw(raw) }
    }
}

#[test]
fn fifo_order_and_pop_front() {
    let waker = noop_waker_ref();
    let mut queue = WaiterQueue::new();
    assert!(queue.is_empty());
    assert_eq!(queue.pop_front(), None);
    let a = queue.push_back('a', waker);
    let b = queue.push_back('b', waker);
    let c = queue.push_back('c', waker);
    assert_eq!(queue.len(), 3);
    assert_eq!(keys(&queue), [a, b, c]);

    assert_eq!(queue.pop_front(), Some(a));
    // A popped waiter keeps its slot (readable) but is unlinked.
    assert_eq!(queue.poll(a, waker), Poll::Ready('a'));
    assert_eq!(keys(&queue), [b, c]);
    assert_eq!(queue.len(), 2);

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
    assert_eq!(keys(&queue)[0], k[1]);
    assert!(queue.unlink(k[4])); // back: a new waiter must link after k[3]
    let late = queue.push_back(5, waker);
    assert_eq!(keys(&queue), [k[1], k[3], late]);
    assert_eq!(queue.len(), 3);

    // Unlinking twice is harmless and reports that nothing happened.
    assert!(!queue.unlink(k[2]));
    assert_eq!(queue.len(), 3);

    // The only remaining waiter, cancelled, leaves an empty queue whose
    // next waiter becomes both head and tail.
    for key in [k[1], k[3], late] {
        queue.cancel(key);
    }
    for key in [k[0], k[2], k[4]] {
        queue.cancel(key);
    }
    assert!(queue.is_empty());
    let only = queue.push_back(9, waker);
    assert_eq!(keys(&queue), [only]);
    assert_eq!(queue.pop_front(), Some(only));
}

#[test]
fn a_head_left_with_a_stale_prev_unlinks_without_touching_it() {
    // `pop_front` leaves the new head's `prev` naming the popped node; once
    // that slot is freed and reused by a new waiter at the back, writing
    // through the stale link would cut the new waiter out of the FIFO.
    let waker = noop_waker_ref();
    let mut queue = WaiterQueue::new();
    let a = queue.push_back('a', waker);
    let b = queue.push_back('b', waker);
    assert_eq!(queue.grant_front_and_free(&mut WakeList::new()), Some('a'));
    let c = queue.push_back('c', waker);
    assert_eq!(c, a, "the freed slot is reused");
    let d = queue.push_back('d', waker);
    assert_eq!(queue.cancel(b), 'b'); // the head, its `prev` stale
    assert_eq!(keys(&queue), [c, d]);
    assert_eq!(format!("{queue:?}"), "['c', 'd']");

    // Every position again, after a pop: the head, the back, the middle.
    let e = queue.push_back('e', waker);
    assert_eq!(queue.pop_front(), Some(c));
    assert_eq!(queue.cancel(e), 'e'); // the back
    assert_eq!(keys(&queue), [d]);
    let f = queue.push_back('f', waker);
    let g = queue.push_back('g', waker);
    assert_eq!(queue.cancel(f), 'f'); // the middle
    assert_eq!(keys(&queue), [d, g]);
    assert_eq!(queue.cancel(d), 'd'); // the head again
    assert_eq!(keys(&queue), [g]);
    assert_eq!(queue.cancel(g), 'g');
    assert!(queue.is_empty());
    let h = queue.push_back('h', waker);
    assert_eq!(keys(&queue), [h]);
    assert_eq!(queue.len(), 1);
}

#[test]
fn debug_lists_linked_states_front_to_back() {
    let waker = noop_waker_ref();
    let mut queue = WaiterQueue::new();
    queue.push_back("first", waker);
    queue.push_back("second", waker);
    queue.push_back("third", waker);
    queue.grant_front(&mut WakeList::new());
    assert_eq!(format!("{queue:?}"), r#"["second", "third"]"#);
}

#[test]
fn cancel_returns_the_request_or_the_unconsumed_grant() {
    let waker = noop_waker_ref();
    let mut queue = WaiterQueue::new();
    let granted = queue.push_back(1, waker);
    let waiting = queue.push_back(2, waker);
    *queue.grant_front(&mut WakeList::new()).unwrap() += 10;
    // Still queued: the request comes back and the waiter leaves.
    assert_eq!(queue.cancel(waiting), 2);
    assert!(queue.is_empty());
    // Granted, never polled: the grant comes back to be handed on.
    assert_eq!(queue.cancel(granted), 11);
}

#[test]
fn front_mut_records_a_partial_grant_in_a_queued_slot() {
    let waker = noop_waker_ref();
    let mut queue = WaiterQueue::new();
    let head = queue.push_back(0, waker);
    *queue.front_mut().unwrap() += 3;
    assert_eq!(queue.poll(head, waker), Poll::Pending);
    assert_eq!(queue.cancel(head), 3);
    assert_eq!(queue.front_mut(), None);
}

#[test]
fn slots_are_reused_so_steady_state_does_not_grow() {
    let waker = noop_waker_ref();
    let mut queue = WaiterQueue::new();
    let first: Vec<_> = (0..4).map(|i| queue.push_back(i, waker)).collect();
    let capacity = queue.capacity();
    for key in first {
        queue.cancel(key);
    }
    for round in 0..100 {
        let keys: Vec<_> = (0..4).map(|i| queue.push_back(round + i, waker)).collect();
        for key in keys.into_iter().rev() {
            queue.cancel(key);
        }
    }
    assert_eq!(queue.capacity(), capacity);
}

#[test]
fn update_waker_keeps_latest_and_take_empties() {
    static FIRST: Probe = Probe::new();
    static LATEST: Probe = Probe::new();
    let mut queue = WaiterQueue::new();
    let key = queue.push_back((), &FIRST.waker());
    assert_eq!(queue.poll(key, &LATEST.waker()), Poll::Pending);
    let mut wakes = WakeList::new();
    assert!(queue.grant_front(&mut wakes).is_some());
    // The waker left the slot with the grant: the granted slot has none.
    assert!(queue.nodes[key.0].waker.is_none());
    wakes.wake_all();
    assert_eq!((FIRST.wakes(), LATEST.wakes()), (0, 1));
    assert_eq!(queue.poll(key, &LATEST.waker()), Poll::Ready(()));
}

#[test]
fn update_waker_does_not_replace_an_equivalent_waker() {
    static PROBE: Probe = Probe::new();
    let waker = PROBE.waker();
    let mut queue = WaiterQueue::new();
    let key = queue.push_back((), &waker);
    assert_eq!(PROBE.clones(), 1, "the queue keeps a clone");
    queue.update_waker(key, &waker.clone());
    assert_eq!(PROBE.clones(), 2, "only the clone made for the call");
    let stored = queue.nodes[key.0].waker.as_ref().unwrap();
    assert!(stored.will_wake(&waker));
}

#[test]
fn grant_front_and_free_leaves_no_slot_behind() {
    static PROBE: Probe = Probe::new();
    let mut queue = WaiterQueue::new();
    queue.push_back('a', &PROBE.waker());
    let mut wakes = WakeList::new();
    assert_eq!(queue.grant_front_and_free(&mut wakes), Some('a'));
    assert_eq!(queue.grant_front_and_free(&mut wakes), None);
    assert!(queue.nodes.is_empty());
    wakes.wake_all();
    assert_eq!(PROBE.wakes(), 1);
}

#[test]
fn wait_state_runs_first_then_later_polls_and_cancels_only_a_waiter() {
    let mut state = WaitState::<u8>::Idle;
    assert!(!state.is_waiting());
    assert_eq!(state.cancel(), None);

    let mut state = WaitState::Idle;
    let poll = state.poll(|| FirstPoll::Queued(7), |_| unreachable!());
    assert_eq!((poll, state.is_waiting()), (Poll::<u8>::Pending, true));
    let poll = state.poll(|| unreachable!(), |_| Poll::<u8>::Pending);
    assert_eq!(poll, Poll::Pending);
    assert_eq!(state.poll(|| unreachable!(), Poll::Ready), Poll::Ready(7));
    assert!(!state.is_waiting());
    assert_eq!(state.cancel(), None, "done: nothing left to give up");

    let mut state = WaitState::Idle;
    assert_eq!(
        state.poll(|| FirstPoll::Queued(3), |_| Poll::Ready(())),
        Poll::Pending
    );
    assert_eq!(state.cancel(), Some(3));
}

#[test]
#[should_panic(expected = "polled after it completed")]
fn wait_state_polled_after_completion_panics() {
    let mut state = WaitState::<WaiterKey>::Idle;
    assert_eq!(
        state.poll(|| FirstPoll::Ready(()), |_| Poll::Ready(())),
        Poll::Ready(())
    );
    let _ = state.poll(|| FirstPoll::Ready(()), |_| Poll::Ready(()));
}
