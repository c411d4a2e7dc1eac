//! loom models of `Barrier`: parties arriving, leaving (a `wait` dropped
//! after its first poll) and the barrier being aborted, on two or three
//! threads. They check that every cycle hands out each index once and one
//! leader, that a party that left is not counted, and that no party is left
//! asleep once the barrier is full or broken.
#![cfg(loom)]

use std::pin::Pin;
use std::task::Poll;

use loom::sync::Arc;
use loom::thread;
use weft_primitives::{Barrier, BrokenBarrierError};
use weft_tests::{poll_once, WakeCounter};

/// Two parties pass a barrier of two twice. A party may start the second
/// cycle before the other has even run after the first; each cycle must still
/// yield indices {0, 1} and exactly one leader.
#[test]
fn two_parties_two_cycles() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2));
        let two_passes = |barrier: Arc<Barrier>| {
            loom::future::block_on(async {
                let first = barrier.wait().await.unwrap();
                let second = barrier.wait().await.unwrap();
                [first, second]
            })
        };
        let other = {
            let barrier = barrier.clone();
            thread::spawn(move || two_passes(barrier))
        };
        let mine = two_passes(barrier.clone());
        let other = other.join().unwrap();
        for (a, b) in mine.iter().zip(&other) {
            let mut indices = [a.index(), b.index()];
            indices.sort_unstable();
            assert_eq!(indices, [0, 1]);
            assert!(a.is_leader() != b.is_leader(), "exactly one leader");
        }
        assert_eq!(barrier.n_waiting(), 0);
    });
}

/// A party arrives and abandons its wait while another arrives: whatever
/// the order, the remaining party is either released or still counted alone,
/// and a further arrival then releases it.
#[test]
fn abandoned_wait_races_an_arrival() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2));
        let leaver = {
            let barrier = barrier.clone();
            thread::spawn(move || {
                let mut wait = barrier.wait();
                poll_once(Pin::new(&mut wait), &WakeCounter::new()).is_ready()
            })
        };
        let counter = WakeCounter::new();
        let mut stays = barrier.wait();
        let first = poll_once(Pin::new(&mut stays), &counter);
        let leaver_passed = leaver.join().unwrap();
        let passed = match first {
            Poll::Ready(result) => result.unwrap(),
            Poll::Pending if counter.woken() => {
                // The leaver filled the barrier, then left: we were released.
                assert!(leaver_passed);
                match poll_once(Pin::new(&mut stays), &counter) {
                    Poll::Ready(result) => result.unwrap(),
                    Poll::Pending => panic!("woken but not released"),
                }
            }
            Poll::Pending => {
                // The leaver left before we came: we wait alone.
                assert_eq!(barrier.n_waiting(), 1);
                let last = loom::future::block_on(barrier.wait()).unwrap();
                assert!(last.is_leader());
                assert_eq!(counter.count(), 1);
                match poll_once(Pin::new(&mut stays), &counter) {
                    Poll::Ready(result) => result.unwrap(),
                    Poll::Pending => panic!("woken but not released"),
                }
            }
        };
        assert!(passed.index() < 2);
        assert_eq!(barrier.n_waiting(), 0);
    });
}

/// `abort` races a blocked party: the party fails, whether it was waiting
/// when the barrier broke or arrived afterwards.
#[test]
fn abort_races_a_waiting_party() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2));
        let party = {
            let barrier = barrier.clone();
            thread::spawn(move || loom::future::block_on(barrier.wait()))
        };
        barrier.abort();
        assert_eq!(party.join().unwrap(), Err(BrokenBarrierError));
        assert!(barrier.broken());
        assert_eq!(barrier.n_waiting(), 0);
    });
}
