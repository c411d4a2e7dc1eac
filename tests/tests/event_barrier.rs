//! `Event` and `Barrier` against asyncio's semantics, cancellation at every
//! await point, and use from plain threads and from tokio's multi-thread
//! runtime.

mod alloc_count;

use std::cell::Cell;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;

use weft_primitives::{Barrier, BarrierWaitResult, BrokenBarrierError, Event};
use weft_runtime::spawn;
use weft_tests::{poll_once, run_bounded, WakeCounter};

#[global_allocator]
static ALLOC: alloc_count::CountingAlloc = alloc_count::CountingAlloc;

/// Polls an `Unpin` future once with `counter`'s waker.
fn poll<F: std::future::Future + Unpin>(fut: &mut F, counter: &WakeCounter) -> Poll<F::Output> {
    poll_once(Pin::new(fut), counter)
}

// ---------------------------------------------------------------- Event --

#[test]
fn event_starts_cleared_and_wait_on_a_set_event_is_immediate() {
    let event = Event::new();
    assert!(!event.is_set());
    event.set();
    assert!(event.is_set());
    let counter = WakeCounter::new();
    assert_eq!(poll(&mut event.wait(), &counter), Poll::Ready(()));
    assert_eq!(counter.count(), 0);
}

#[test]
fn set_releases_every_waiter_once() {
    let event = Event::new();
    let counters: Vec<_> = (0..3).map(|_| WakeCounter::new()).collect();
    let mut waits: Vec<_> = (0..3).map(|_| event.wait()).collect();
    for (wait, counter) in waits.iter_mut().zip(&counters) {
        assert!(poll(wait, counter).is_pending());
    }
    assert!(counters.iter().all(|c| c.count() == 0));
    event.set();
    assert!(counters.iter().all(|c| c.count() == 1));
    event.set(); // already set: wakes nobody again
    assert!(counters.iter().all(|c| c.count() == 1));
    for (wait, counter) in waits.iter_mut().zip(&counters) {
        assert_eq!(poll(wait, counter), Poll::Ready(()));
    }
}

#[test]
fn set_then_clear_still_releases_the_tasks_that_were_waiting() {
    let event = Event::new();
    let counter = WakeCounter::new();
    let mut early = event.wait();
    assert!(poll(&mut early, &counter).is_pending());
    event.set();
    event.clear();
    // The early waiter was granted at set time.
    assert_eq!(poll(&mut early, &counter), Poll::Ready(()));
    // A task arriving after the clear waits for the next set.
    let late_counter = WakeCounter::new();
    let mut late = event.wait();
    assert!(poll(&mut late, &late_counter).is_pending());
    assert!(poll(&mut late, &late_counter).is_pending());
    event.set();
    assert_eq!(late_counter.count(), 1);
    assert_eq!(poll(&mut late, &late_counter), Poll::Ready(()));
}

#[test]
fn dropped_event_waiters_do_not_disturb_the_others() {
    let event = Event::new();
    let counter = WakeCounter::new();
    // Dropped after its first poll, while waiting.
    let mut gone = event.wait();
    assert!(poll(&mut gone, &WakeCounter::new()).is_pending());
    let mut stays = event.wait();
    assert!(poll(&mut stays, &counter).is_pending());
    drop(gone);
    // Dropped after being released, before its next poll.
    let released_counter = WakeCounter::new();
    let mut released = event.wait();
    assert!(poll(&mut released, &released_counter).is_pending());
    event.set();
    assert_eq!(released_counter.count(), 1);
    drop(released);
    assert_eq!(counter.count(), 1);
    assert_eq!(poll(&mut stays, &counter), Poll::Ready(()));
}

#[test]
fn a_waiter_polled_again_keeps_its_place_and_uses_the_latest_waker() {
    let event = Event::new();
    let (first, second) = (WakeCounter::new(), WakeCounter::new());
    let mut wait = event.wait();
    assert!(poll(&mut wait, &first).is_pending());
    assert!(poll(&mut wait, &second).is_pending());
    event.set();
    assert_eq!((first.count(), second.count()), (0, 1));
}

#[test]
fn event_releases_threads_blocked_in_block_on() {
    let event = Arc::new(Event::new());
    let arrived = Arc::new(Barrier::new(9));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (event, arrived) = (event.clone(), arrived.clone());
            std::thread::spawn(move || {
                futures::executor::block_on(async {
                    arrived.wait().await.unwrap();
                    event.wait().await;
                })
            })
        })
        .collect();
    futures::executor::block_on(arrived.wait()).unwrap();
    event.set();
    for thread in threads {
        thread.join().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn event_under_tokio_multi_thread_releases_every_task() {
    let event = Arc::new(Event::new());
    let released = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let (event, released) = (event.clone(), released.clone());
            tokio::spawn(async move {
                event.wait().await;
                released.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    tokio::task::yield_now().await;
    event.set();
    event.clear(); // whoever was waiting is released; the rest wait again...
    event.set(); // ...until this set
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(released.load(Ordering::SeqCst), 32);
}

#[test]
fn event_waiting_in_steady_state_allocates_nothing() {
    let event = Event::new();
    let counters: Vec<_> = (0..4).map(|_| WakeCounter::new()).collect();
    let round = || {
        let mut waits: Vec<_> = (0..4).map(|_| event.wait()).collect();
        let before = alloc_count::allocations();
        for (wait, counter) in waits.iter_mut().zip(&counters) {
            assert!(poll(wait, counter).is_pending());
        }
        event.set();
        for (wait, counter) in waits.iter_mut().zip(&counters) {
            assert_eq!(poll(wait, counter), Poll::Ready(()));
        }
        event.clear();
        alloc_count::allocations() - before
    };
    round(); // grows the waiter slots once
    for _ in 0..100 {
        assert_eq!(round(), 0);
    }
}

// -------------------------------------------------------------- Barrier --

/// A passed party's `(index, is_leader)`.
fn outcome(result: Result<BarrierWaitResult, BrokenBarrierError>) -> (usize, bool) {
    let passed = result.expect("the barrier is not broken");
    (passed.index(), passed.is_leader())
}

#[test]
#[should_panic(expected = "parties must be at least 1")]
fn barrier_for_zero_parties_is_refused() {
    let _ = Barrier::new(0);
}

#[test]
fn barrier_of_one_passes_every_wait_as_leader() {
    let barrier = Barrier::new(1);
    for _ in 0..3 {
        let result = futures::executor::block_on(barrier.wait());
        assert_eq!(outcome(result), (0, true));
    }
}

#[test]
fn indices_follow_arrival_and_the_filling_party_leads_every_cycle() {
    let barrier = Barrier::new(3);
    assert_eq!(barrier.parties(), 3);
    for _cycle in 0..3 {
        let counters: Vec<_> = (0..2).map(|_| WakeCounter::new()).collect();
        let mut waits: Vec<_> = (0..2).map(|_| barrier.wait()).collect();
        for (n, (wait, counter)) in waits.iter_mut().zip(&counters).enumerate() {
            assert!(poll(wait, counter).is_pending());
            assert_eq!(barrier.n_waiting(), n + 1);
        }
        let last = poll(&mut barrier.wait(), &WakeCounter::new());
        assert_eq!(last.map(outcome), Poll::Ready((2, true)));
        assert_eq!(barrier.n_waiting(), 0);
        assert!(counters.iter().all(|c| c.count() == 1));
        for (index, (wait, counter)) in waits.iter_mut().zip(&counters).enumerate() {
            assert_eq!(
                poll(wait, counter).map(outcome),
                Poll::Ready((index, false))
            );
        }
    }
}

#[test]
fn reset_fails_current_waiters_and_empties_the_barrier() {
    let barrier = Barrier::new(2);
    let counter = WakeCounter::new();
    let mut wait = barrier.wait();
    assert!(poll(&mut wait, &counter).is_pending());
    barrier.reset();
    assert_eq!(counter.count(), 1);
    assert_eq!(
        poll(&mut wait, &counter),
        Poll::Ready(Err(BrokenBarrierError))
    );
    assert_eq!(barrier.n_waiting(), 0);
    assert!(!barrier.broken());
    // A full new cycle works.
    let mut first = barrier.wait();
    assert!(poll(&mut first, &counter).is_pending());
    let second = poll(&mut barrier.wait(), &counter);
    assert_eq!(second.map(outcome), Poll::Ready((1, true)));
    assert_eq!(
        poll(&mut first, &counter).map(outcome),
        Poll::Ready((0, false))
    );
}

#[test]
fn abort_breaks_the_barrier_until_reset() {
    let barrier = Barrier::new(2);
    let counter = WakeCounter::new();
    let mut wait = barrier.wait();
    assert!(poll(&mut wait, &counter).is_pending());
    barrier.abort();
    assert!(barrier.broken());
    assert_eq!(counter.count(), 1);
    assert_eq!(
        poll(&mut wait, &counter),
        Poll::Ready(Err(BrokenBarrierError))
    );
    for _ in 0..2 {
        assert_eq!(
            poll(&mut barrier.wait(), &counter),
            Poll::Ready(Err(BrokenBarrierError))
        );
    }
    barrier.reset();
    assert!(!barrier.broken());
    let mut first = barrier.wait();
    assert!(poll(&mut first, &counter).is_pending());
    assert!(poll(&mut barrier.wait(), &counter).is_ready());
    assert_eq!(
        poll(&mut first, &counter).map(outcome),
        Poll::Ready((0, false))
    );
}

#[test]
fn a_party_dropped_before_the_barrier_fills_is_no_longer_counted() {
    let barrier = Barrier::new(2);
    let counter = WakeCounter::new();
    let mut leaving = barrier.wait();
    assert!(poll(&mut leaving, &counter).is_pending());
    assert_eq!(barrier.n_waiting(), 1);
    drop(leaving);
    assert_eq!(barrier.n_waiting(), 0);
    // The next arrival waits: it is alone, not the second party.
    let mut first = barrier.wait();
    assert!(poll(&mut first, &counter).is_pending());
    let second = poll(&mut barrier.wait(), &counter);
    assert_eq!(second.map(outcome), Poll::Ready((1, true)));
    assert_eq!(
        poll(&mut first, &counter).map(outcome),
        Poll::Ready((0, false))
    );
}

#[test]
fn a_released_party_dropped_before_it_runs_disturbs_nobody() {
    let barrier = Barrier::new(3);
    let (a_counter, b_counter) = (WakeCounter::new(), WakeCounter::new());
    let mut a = barrier.wait();
    let mut b = barrier.wait();
    assert!(poll(&mut a, &a_counter).is_pending());
    assert!(poll(&mut b, &b_counter).is_pending());
    let leader = poll(&mut barrier.wait(), &WakeCounter::new());
    assert_eq!(leader.map(outcome), Poll::Ready((2, true)));
    drop(a); // released, never ran
    assert_eq!(b_counter.count(), 1);
    assert_eq!(
        poll(&mut b, &b_counter).map(outcome),
        Poll::Ready((1, false))
    );
    // The next cycle starts empty and fills with three fresh parties.
    assert_eq!(barrier.n_waiting(), 0);
    let mut c = barrier.wait();
    let mut d = barrier.wait();
    assert!(poll(&mut c, &a_counter).is_pending());
    assert!(poll(&mut d, &a_counter).is_pending());
    assert!(poll(&mut barrier.wait(), &a_counter).is_ready());
}

// ------------------------------- Barrier: draining, as CPython 3.13 tests it
//
// These are CPython's `test_locks.BarrierTests` cases of the same names,
// run on weft's runtime, whose FIFO run queue schedules like asyncio's
// loop. asyncio's `barrier._count` (tasks inside the barrier) is counted
// here from the outside: the parties that have left with a result.

const PARTIES: usize = 5;

/// Spawns `n` tasks running `party(barrier)` and waits for all of them.
async fn gather_parties<F, Fut>(barrier: &Rc<Barrier>, n: usize, party: F)
where
    F: Fn(Rc<Barrier>) -> Fut,
    Fut: std::future::Future<Output = ()> + 'static,
{
    let tasks: Vec<_> = (0..n).map(|_| spawn(party(barrier.clone()))).collect();
    for task in tasks {
        task.await.expect("a party task failed");
    }
}

/// A shared counter for the tasks of one test.
fn tally() -> Rc<Cell<usize>> {
    Rc::new(Cell::new(0))
}

fn bump(counter: &Cell<usize>) -> usize {
    counter.set(counter.get() + 1);
    counter.get()
}

#[test]
fn test_reset_barrier_when_tasks_half_draining() {
    run_bounded(async {
        let barrier = Rc::new(Barrier::new(PARTIES));
        let rest_of_tasks = PARTIES / 2;
        let (broken, left) = (tally(), tally());
        gather_parties(&barrier, PARTIES, |barrier| {
            let (broken, left) = (broken.clone(), left.clone());
            async move {
                match barrier.wait().await {
                    // Released, but the barrier was reset before it resumed.
                    Err(BrokenBarrierError) => drop(bump(&broken)),
                    // Drained: when only `rest_of_tasks` are still inside,
                    // reset; they must fail.
                    Ok(_) => {
                        if PARTIES - bump(&left) == rest_of_tasks {
                            barrier.reset();
                        }
                    }
                }
            }
        })
        .await;
        assert_eq!(broken.get(), rest_of_tasks);
        assert_eq!(barrier.n_waiting(), 0);
        assert!(!barrier.broken());
    });
}

#[test]
fn test_reset_barrier_while_tasks_draining() {
    run_bounded(async {
        let barrier = Rc::new(Barrier::new(PARTIES));
        let (passed_again, broken_again, passed_last, left) = (tally(), tally(), tally(), tally());
        gather_parties(&barrier, PARTIES, |barrier| {
            let (passed_again, broken_again) = (passed_again.clone(), broken_again.clone());
            let (passed_last, left) = (passed_last.clone(), left.clone());
            async move {
                barrier.wait().await.expect("the first cycle passes");
                if bump(&left) == PARTIES {
                    // The last party to leave the first cycle resets: the
                    // others already wait for the next one, yet none fails.
                    barrier.reset();
                    barrier.wait().await.expect("the second cycle passes");
                } else {
                    match barrier.wait().await {
                        Ok(_) => drop(bump(&passed_again)),
                        Err(BrokenBarrierError) => drop(bump(&broken_again)),
                    }
                }
                barrier.wait().await.expect("the third cycle passes");
                bump(&passed_last);
            }
        })
        .await;
        assert!(!barrier.broken());
        assert_eq!(passed_again.get(), PARTIES - 1);
        assert_eq!(broken_again.get(), 0);
        assert_eq!(passed_last.get(), PARTIES);
        assert_eq!(barrier.n_waiting(), 0);
    });
}

#[test]
fn test_abort_barrier_when_tasks_half_draining_half_blocking() {
    run_bounded(async {
        let barrier = Rc::new(Barrier::new(PARTIES));
        let blocking_tasks = PARTIES / 2;
        let (broken_draining, broken_blocked, left) = (tally(), tally(), tally());
        gather_parties(&barrier, PARTIES, |barrier| {
            let (broken_draining, broken_blocked) =
                (broken_draining.clone(), broken_blocked.clone());
            let left = left.clone();
            async move {
                match barrier.wait().await {
                    // Released, but aborted before it resumed.
                    Err(BrokenBarrierError) => drop(bump(&broken_draining)),
                    Ok(_) if bump(&left) > blocking_tasks => barrier.abort(),
                    // Drained early: waits for the next cycle, blocked
                    // until the abort breaks it.
                    Ok(_) => {
                        if barrier.wait().await.is_err() {
                            bump(&broken_blocked);
                        }
                    }
                }
            }
        })
        .await;
        assert!(barrier.broken());
        assert_eq!(broken_draining.get(), blocking_tasks);
        assert_eq!(broken_blocked.get(), PARTIES - blocking_tasks - 1);
        assert_eq!(barrier.n_waiting(), 0);
    });
}

#[test]
fn an_arrival_while_draining_waits_until_the_cycle_has_left() {
    let barrier = Barrier::new(2);
    let [first_wake, next_wake] = [WakeCounter::new(), WakeCounter::new()];
    let mut first = barrier.wait();
    assert!(poll(&mut first, &first_wake).is_pending());
    let leader = poll(&mut barrier.wait(), &WakeCounter::new());
    assert_eq!(leader.map(outcome), Poll::Ready((1, true)));
    // `first` was released but has not resumed: the cycle is draining, and
    // two arrivals for the next cycle do not fill the barrier.
    let mut next = barrier.wait();
    assert!(poll(&mut next, &next_wake).is_pending());
    assert!(poll(&mut barrier.wait(), &WakeCounter::new()).is_pending());
    assert_eq!(
        barrier.n_waiting(),
        0,
        "blocked tasks are not in the barrier yet"
    );
    assert_eq!(
        poll(&mut first, &first_wake).map(outcome),
        Poll::Ready((0, false))
    );
    // The cycle left: the blocked task is woken and arrives afresh.
    assert_eq!(next_wake.count(), 1);
    assert!(poll(&mut next, &next_wake).is_pending());
    assert_eq!(barrier.n_waiting(), 1);
    let last = poll(&mut barrier.wait(), &WakeCounter::new());
    assert_eq!(last.map(outcome), Poll::Ready((1, true)));
    assert_eq!(
        poll(&mut next, &next_wake).map(outcome),
        Poll::Ready((0, false))
    );
}

#[test]
fn a_released_party_dropped_while_draining_lets_the_blocked_tasks_in() {
    let barrier = Barrier::new(2);
    let wake = WakeCounter::new();
    let mut released = barrier.wait();
    assert!(poll(&mut released, &WakeCounter::new()).is_pending());
    assert!(poll(&mut barrier.wait(), &WakeCounter::new()).is_ready());
    let mut blocked = barrier.wait();
    assert!(poll(&mut blocked, &wake).is_pending());
    drop(released); // never resumed: it has left all the same
    assert_eq!(wake.count(), 1);
    // A blocked task dropped after it was admitted leaves nothing behind.
    drop(blocked);
    let mut first = barrier.wait();
    assert!(poll(&mut first, &wake).is_pending());
    assert_eq!(barrier.n_waiting(), 1);
    assert!(poll(&mut barrier.wait(), &wake).is_ready());
    assert!(poll(&mut first, &wake).is_ready());
}

#[test]
fn reset_while_draining_fails_the_unresumed_and_then_fills_again() {
    let barrier = Barrier::new(3);
    let mut released: Vec<_> = (0..2).map(|_| barrier.wait()).collect();
    for wait in &mut released {
        assert!(poll(wait, &WakeCounter::new()).is_pending());
    }
    assert!(poll(&mut barrier.wait(), &WakeCounter::new()).is_ready());
    assert_eq!(
        poll(&mut released[0], &WakeCounter::new()).map(outcome),
        Poll::Ready((0, false))
    );
    barrier.reset();
    assert!(!barrier.broken());
    // An arrival while the reset cycle still drains waits for it.
    let wake = WakeCounter::new();
    let mut next = barrier.wait();
    assert!(poll(&mut next, &wake).is_pending());
    assert_eq!(
        poll(&mut released[1], &WakeCounter::new()),
        Poll::Ready(Err(BrokenBarrierError))
    );
    assert_eq!(wake.count(), 1);
    assert!(poll(&mut next, &wake).is_pending());
    assert_eq!(barrier.n_waiting(), 1);
}

/// `threads` parties pass the barrier `cycles` times; every cycle must have
/// exactly one leader and the indices `0..threads`.
fn barrier_cycles_on_threads(threads: usize, cycles: usize) {
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                futures::executor::block_on(async {
                    let mut seen = Vec::new();
                    for _ in 0..cycles {
                        seen.push(outcome(barrier.wait().await));
                    }
                    seen
                })
            })
        })
        .collect();
    let seen: Vec<Vec<_>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    for cycle in 0..cycles {
        let mut indices: Vec<_> = seen.iter().map(|s| s[cycle].0).collect();
        indices.sort_unstable();
        assert_eq!(indices, (0..threads).collect::<Vec<_>>());
        let leaders = seen.iter().filter(|s| s[cycle].1).count();
        assert_eq!(leaders, 1);
    }
}

#[test]
fn barrier_cycles_across_threads_with_block_on() {
    barrier_cycles_on_threads(4, 500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn barrier_cycles_under_tokio_multi_thread() {
    let (parties, cycles) = (8, 200);
    let barrier = Arc::new(Barrier::new(parties));
    let leaders = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..parties)
        .map(|_| {
            let (barrier, leaders) = (barrier.clone(), leaders.clone());
            tokio::spawn(async move {
                for _ in 0..cycles {
                    if barrier.wait().await.unwrap().is_leader() {
                        leaders.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(leaders.load(Ordering::SeqCst), cycles);
}

#[test]
fn barrier_cycles_in_steady_state_allocate_nothing() {
    let barrier = Barrier::new(4);
    let counter = WakeCounter::new();
    let round = || {
        let mut waits: Vec<_> = (0..3).map(|_| barrier.wait()).collect();
        let before = alloc_count::allocations();
        for wait in &mut waits {
            assert!(poll(wait, &counter).is_pending());
        }
        assert!(poll(&mut barrier.wait(), &counter).is_ready());
        for wait in &mut waits {
            assert!(poll(wait, &counter).is_ready());
        }
        alloc_count::allocations() - before
    };
    round();
    for _ in 0..100 {
        assert_eq!(round(), 0);
    }
}
