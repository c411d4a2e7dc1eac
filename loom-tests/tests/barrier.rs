//! loom models of `Barrier`: parties arriving, leaving (a `wait` dropped
//! after its first poll) and the barrier being aborted or reset, also while
//! a cycle drains, on two or three threads. They check that every cycle
//! hands out each index once and one leader, that a party that left is not
//! counted, that a reset during draining fails the parties not yet resumed,
//! and that no party is left asleep once the barrier is full, broken or
//! drained.
#![cfg(loom)]

use std::pin::Pin;
use std::task::Poll;

use loom::sync::Arc;
use loom::thread;
use weft_primitives::{Barrier, BarrierWait, BarrierWaitResult, BrokenBarrierError};
use weft_tests::{poll_once, WakeCounter};

/// Passes `barrier` twice in a row, blocking the thread while it waits.
fn pass_twice(barrier: &Barrier) -> [BarrierWaitResult; 2] {
    loom::future::block_on(async {
        let first = barrier.wait().await.unwrap();
        let second = barrier.wait().await.unwrap();
        [first, second]
    })
}

/// A wait on `barrier` polled once, by the first party to arrive: queued.
fn queued_wait<'a>(barrier: &'a Barrier, counter: &WakeCounter) -> BarrierWait<'a> {
    let mut wait = barrier.wait();
    assert!(poll_once(Pin::new(&mut wait), counter).is_pending());
    wait
}

/// Checks what the parties of one cycle learnt: each index in
/// `0..parties` once, and exactly one leader.
fn assert_one_cycle(results: &[BarrierWaitResult]) {
    let mut indices: Vec<usize> = results.iter().map(BarrierWaitResult::index).collect();
    indices.sort_unstable();
    assert_eq!(indices, (0..results.len()).collect::<Vec<_>>());
    let leaders = results.iter().filter(|result| result.is_leader()).count();
    assert_eq!(leaders, 1, "exactly one leader");
}

/// Two parties pass a barrier of two twice. A party may start the second
/// cycle before the other has even run after the first; each cycle must still
/// yield indices {0, 1} and exactly one leader.
#[test]
fn two_parties_two_cycles() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2));
        let other = {
            let barrier = barrier.clone();
            thread::spawn(move || pass_twice(&barrier))
        };
        let mine = pass_twice(&barrier);
        let other = other.join().unwrap();
        for (a, b) in mine.into_iter().zip(other) {
            assert_one_cycle(&[a, b]);
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

/// `reset` races a party arriving on another thread; then the main thread
/// arrives. A party waiting when the reset came fails and the main thread
/// waits alone; a party arriving after it meets the main thread and both
/// pass, with indices 0 and 1 and one leader. The barrier is never left
/// broken (that is `abort`), and a failed party is woken (else the model
/// deadlocks).
#[test]
fn reset_races_a_waiting_party() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2));
        let party = {
            let barrier = barrier.clone();
            thread::spawn(move || loom::future::block_on(barrier.wait()))
        };
        barrier.reset();
        let counter = WakeCounter::new();
        let mut mine = barrier.wait();
        let first = poll_once(Pin::new(&mut mine), &counter);
        let theirs = party.join().unwrap();
        assert!(!barrier.broken());
        let mine = match (&theirs, first) {
            (Err(BrokenBarrierError), Poll::Pending) => {
                // Reset while it waited: we are the only one waiting now. If
                // we arrived before its failed party had left, we waited for
                // it to leave, were woken, and arrive afresh.
                if counter.woken() {
                    assert!(poll_once(Pin::new(&mut mine), &counter).is_pending());
                }
                assert_eq!(barrier.n_waiting(), 1);
                return;
            }
            (Ok(_), Poll::Ready(mine)) => mine,
            (Ok(_), Poll::Pending) => {
                assert!(counter.woken(), "the filling party wakes us");
                match poll_once(Pin::new(&mut mine), &counter) {
                    Poll::Ready(mine) => mine,
                    Poll::Pending => panic!("woken but not released"),
                }
            }
            (Err(_), Poll::Ready(mine)) => panic!("a reset party failed, yet we passed: {mine:?}"),
        };
        assert_one_cycle(&[mine.unwrap(), theirs.unwrap()]);
        assert_eq!(barrier.n_waiting(), 0);
    });
}

/// A barrier of three: two parties queue on the main thread, and a third,
/// on another thread, fills the barrier (releasing both at once, with
/// indices 0 and 1) and at once waits again for the next cycle, perhaps
/// before the released parties have resumed. The main thread then brings
/// two more arrivals for that cycle. Each cycle must hand out indices
/// {0, 1, 2} and exactly one leader, and nobody is left asleep.
#[test]
fn three_parties_and_the_next_cycle_filling_early() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(3));
        let counters = [WakeCounter::new(), WakeCounter::new()];
        let mut first_cycle: Vec<_> = counters
            .iter()
            .map(|counter| {
                let mut wait = barrier.wait();
                assert!(poll_once(Pin::new(&mut wait), counter).is_pending());
                wait
            })
            .collect();
        let third = {
            let barrier = barrier.clone();
            thread::spawn(move || pass_twice(&barrier))
        };
        let mut first: Vec<_> = first_cycle
            .iter_mut()
            .map(|wait| loom::future::block_on(wait).unwrap())
            .collect();
        // Two arrivals from one thread: the first cannot fill the barrier
        // (at most the third party waits), so it queues; the second waits
        // until the barrier is full, and then the first is released too.
        let (mut early, mut late) = (barrier.wait(), barrier.wait());
        assert!(poll_once(Pin::new(&mut early), &counters[0]).is_pending());
        let late = loom::future::block_on(&mut late).unwrap();
        let early = loom::future::block_on(&mut early).unwrap();
        let mut second = vec![early, late];
        let [third_first, third_second] = third.join().unwrap();
        assert_eq!(
            first
                .iter()
                .map(BarrierWaitResult::index)
                .collect::<Vec<_>>(),
            [0, 1],
            "released in arrival order"
        );
        first.push(third_first);
        second.push(third_second);
        assert_one_cycle(&first);
        assert_one_cycle(&second);
        assert_eq!(barrier.n_waiting(), 0);
    });
}

/// A released party is dropped before it resumes, racing the leader of its
/// cycle, which at once waits for the next cycle (blocked while the cycle
/// drains, if it comes before the drop). The dropped party counts as having
/// left: the leader is let in and pairs with the main thread's next
/// arrival, whatever the order, and nobody is left asleep.
///
/// Broken variant that fails it: `BarrierWait::drop` of a released party
/// decrementing `unresumed` without admitting the blocked tasks (the leader
/// then sleeps forever: loom reports a deadlock).
#[test]
fn released_party_dropped_while_the_next_cycle_waits() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2));
        let counter = WakeCounter::new();
        let mut released = queued_wait(&barrier, &counter);
        let leader = {
            let barrier = barrier.clone();
            thread::spawn(move || {
                loom::future::block_on(async {
                    let first = barrier.wait().await.unwrap();
                    assert!(first.is_leader());
                    barrier.wait().await.unwrap()
                })
            })
        };
        // Once the leader filled the barrier, `released` is released; it is
        // dropped without resuming, racing the leader's next arrival.
        while !counter.woken() {
            thread::yield_now();
        }
        drop(released);
        let mine = loom::future::block_on(barrier.wait()).unwrap();
        let theirs = leader.join().unwrap();
        assert_one_cycle(&[mine, theirs]);
        assert_eq!(barrier.n_waiting(), 0);
        assert!(!barrier.broken());
    });
}

/// The leader of a cycle resets the barrier at once, racing a released
/// party's resumption. A party that had not resumed before the reset fails
/// (asyncio 3.13's draining rule); one that resumed between the release
/// and the reset passed. Either way the barrier is whole afterwards and
/// fills again.
///
/// Broken variant that fails it: a released party passing whatever the
/// phase (`Party::Released(result) => Ok(result)` in `Barrier::resume`, the
/// rule before draining existed): a party polled before the release then
/// passes after the reset.
#[test]
fn reset_by_the_leader_races_a_released_party() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2));
        let counter = WakeCounter::new();
        let mut released = queued_wait(&barrier, &counter);
        let leader = {
            let barrier = barrier.clone();
            thread::spawn(move || {
                let leader = loom::future::block_on(barrier.wait()).unwrap();
                barrier.reset();
                leader
            })
        };
        let raced = poll_once(Pin::new(&mut released), &counter);
        let leader = leader.join().unwrap();
        assert!(leader.is_leader());
        match raced {
            // Resumed between the release and the reset.
            Poll::Ready(Ok(passed)) => assert_eq!(passed.index(), 0),
            // Polled only after the reset.
            Poll::Ready(Err(BrokenBarrierError)) => {}
            // Still draining when the reset came: it fails.
            Poll::Pending => {
                assert!(counter.woken());
                assert_eq!(
                    poll_once(Pin::new(&mut released), &counter),
                    Poll::Ready(Err(BrokenBarrierError))
                );
            }
        }
        assert!(!barrier.broken());
        let mut first = barrier.wait();
        assert!(poll_once(Pin::new(&mut first), &counter).is_pending());
        assert_eq!(barrier.n_waiting(), 1);
        assert!(loom::future::block_on(barrier.wait()).unwrap().is_leader());
    });
}
