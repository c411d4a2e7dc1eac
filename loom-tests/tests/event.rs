//! loom models of `Event`: `set`, `clear` and `wait` (and a `wait` dropped
//! after its first poll) racing on two or three threads. Each checks that a
//! task queued before `set` is woken and completes, whatever `clear` does
//! afterwards.
#![cfg(loom)]

use std::pin::Pin;
use std::task::Poll;

use loom::sync::Arc;
use loom::thread;
use weft_primitives::Event;
use weft_tests::{poll_once, WakeCounter};

/// A waiter races `set`: either it sees the flag, or `set` wakes it.
#[test]
fn set_races_a_waiter() {
    loom::model(|| {
        let event = Arc::new(Event::new());
        let setter = {
            let event = event.clone();
            thread::spawn(move || event.set())
        };
        let counter = WakeCounter::new();
        let mut wait = event.wait();
        let first = poll_once(Pin::new(&mut wait), &counter);
        setter.join().unwrap();
        if first.is_pending() {
            assert_eq!(counter.count(), 1, "set must wake the queued waiter");
            assert_eq!(poll_once(Pin::new(&mut wait), &counter), Poll::Ready(()));
        }
    });
}

/// `set` then `clear` on one thread, a cancelled waiter on another: the
/// waiter queued beforehand completes even though the flag ends up cleared.
#[test]
fn set_then_clear_releases_the_queued_waiter_despite_a_cancelled_one() {
    loom::model(|| {
        let event = Arc::new(Event::new());
        let counter = WakeCounter::new();
        let mut queued = event.wait();
        assert!(poll_once(Pin::new(&mut queued), &counter).is_pending());
        let toggler = {
            let event = event.clone();
            thread::spawn(move || {
                event.set();
                event.clear();
            })
        };
        let canceller = {
            let event = event.clone();
            thread::spawn(move || {
                let mut wait = event.wait();
                let _ = poll_once(Pin::new(&mut wait), &WakeCounter::new());
            })
        };
        toggler.join().unwrap();
        canceller.join().unwrap();
        assert_eq!(counter.count(), 1);
        assert_eq!(poll_once(Pin::new(&mut queued), &counter), Poll::Ready(()));
        assert!(!event.is_set());
    });
}

/// Two tasks block in `wait` on their own threads; `set` must wake both (a
/// lost wake-up would leave a `block_on` parked forever, which loom reports).
#[test]
fn set_releases_two_blocked_threads() {
    loom::model(|| {
        let event = Arc::new(Event::new());
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let event = event.clone();
                thread::spawn(move || loom::future::block_on(event.wait()))
            })
            .collect();
        event.set();
        for waiter in waiters {
            waiter.join().unwrap();
        }
    });
}
