//! Unit tests of the barrier: its phases, what `reset` and `abort` do in
//! each, and who is woken when a cycle has left.

use super::*;
use crate::test_support::{counting_waker, poll, poll_with};
use futures::task::noop_waker;

#[test]
fn indices_follow_arrival_order_of_the_parties_still_waiting() {
    let barrier = Barrier::new(3);
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    let mut first = barrier.wait();
    let mut gone = barrier.wait();
    let mut second = barrier.wait();
    assert!(Pin::new(&mut first).poll(&mut cx).is_pending());
    assert!(Pin::new(&mut gone).poll(&mut cx).is_pending());
    // One of the two leaves: it neither counts nor keeps an index.
    drop(gone);
    assert!(Pin::new(&mut second).poll(&mut cx).is_pending());
    assert_eq!(barrier.n_waiting(), 2);
    // Polled, not blocked on: a barrier that failed to fill fails the test
    // instead of hanging it.
    let Poll::Ready(Ok(leader)) = poll(&mut barrier.wait()) else {
        panic!("the third arrival fills the barrier");
    };
    assert_eq!((leader.index(), leader.is_leader()), (2, true));
    let first = Pin::new(&mut first).poll(&mut cx);
    let second = Pin::new(&mut second).poll(&mut cx);
    assert_eq!(
        (first, second),
        (
            Poll::Ready(Ok(BarrierWaitResult {
                index: 0,
                leader: false
            })),
            Poll::Ready(Ok(BarrierWaitResult {
                index: 1,
                leader: false
            }))
        )
    );
    assert_eq!(barrier.n_waiting(), 0);
}

fn passed(index: usize, leader: bool) -> Poll<Result<BarrierWaitResult, BrokenBarrierError>> {
    Poll::Ready(Ok(BarrierWaitResult { index, leader }))
}

const BROKEN: Poll<Result<BarrierWaitResult, BrokenBarrierError>> =
    Poll::Ready(Err(BrokenBarrierError));

/// Two parties waiting in `barrier`'s filling cycle, in arrival order.
fn two_waiting(barrier: &Barrier) -> [BarrierWait<'_>; 2] {
    [(); 2].map(|()| {
        let mut wait = barrier.wait();
        assert!(poll(&mut wait).is_pending());
        wait
    })
}

#[test]
fn parties_and_broken_report_the_barrier_state() {
    let barrier = Barrier::new(3);
    assert_eq!(barrier.parties(), 3);
    assert!(!barrier.broken());
    barrier.abort();
    assert!(barrier.broken());
    assert_eq!(poll(&mut barrier.wait()), BROKEN);
    barrier.reset();
    assert!(!barrier.broken());
}

#[test]
fn abort_fails_the_waiting_parties() {
    let barrier = Barrier::new(3);
    let [mut first, mut second] = two_waiting(&barrier);
    barrier.abort();
    assert_eq!((poll(&mut first), poll(&mut second)), (BROKEN, BROKEN));
}

#[test]
fn a_barrier_for_one_party_passes_every_wait_at_once() {
    let barrier = Barrier::new(1);
    for _ in 0..3 {
        assert_eq!(poll(&mut barrier.wait()), passed(0, true));
    }
    assert_eq!(barrier.n_waiting(), 0);
}

#[test]
fn reset_with_nobody_waiting_leaves_the_barrier_filling() {
    let barrier = Barrier::new(2);
    barrier.reset();
    let mut first = barrier.wait();
    assert!(poll(&mut first).is_pending());
    assert_eq!(barrier.n_waiting(), 1, "the arrival joined the cycle");
    assert_eq!(poll(&mut barrier.wait()), passed(1, true));
    assert_eq!(poll(&mut first), passed(0, false));
}

#[test]
fn reset_fails_the_filling_cycle_and_holds_arrivals_until_it_has_left() {
    let barrier = Barrier::new(3);
    let [mut first, mut second] = two_waiting(&barrier);
    barrier.reset();
    assert!(!barrier.broken());

    // The failed parties have not resumed: a new arrival waits for them.
    let (woken, waker) = counting_waker();
    let mut next = barrier.wait();
    assert!(poll_with(&mut next, &waker).is_pending());
    assert_eq!(barrier.n_waiting(), 0, "blocked, not in the barrier yet");

    assert_eq!(poll(&mut first), BROKEN);
    assert_eq!(woken.get(), 0, "one failed party has not resumed yet");
    assert_eq!(poll(&mut second), BROKEN);
    assert_eq!(woken.get(), 1, "the last to leave wakes the blocked task");
    assert!(poll_with(&mut next, &waker).is_pending());
    assert_eq!(barrier.n_waiting(), 1, "it arrived in the new cycle");
}

#[test]
fn the_last_released_party_to_resume_lets_the_next_cycle_in() {
    let barrier = Barrier::new(2);
    let mut first = barrier.wait();
    assert!(poll(&mut first).is_pending());
    let leader = poll(&mut barrier.wait());
    assert_eq!(leader, passed(1, true));

    // Draining: `first` has not resumed, so the next cycle waits.
    let (woken, waker) = counting_waker();
    let mut next = barrier.wait();
    assert!(poll_with(&mut next, &waker).is_pending());
    assert_eq!(barrier.n_waiting(), 0);

    let Poll::Ready(Ok(result)) = poll(&mut first) else {
        panic!("the released party passes");
    };
    assert_eq!((result.index(), result.is_leader()), (0, false));
    assert_eq!(woken.get(), 1);
    assert!(poll_with(&mut next, &waker).is_pending());
    assert_eq!(barrier.n_waiting(), 1);
    assert_eq!(poll(&mut barrier.wait()), passed(1, true));
    assert_eq!(poll(&mut next), passed(0, false));
}

#[test]
fn abort_while_draining_fails_the_unresumed_parties_and_the_blocked_tasks() {
    // CPython's test_abort_barrier_when_tasks_half_draining_half_blocking.
    let barrier = Barrier::new(3);
    let [mut first, mut second] = two_waiting(&barrier);
    assert_eq!(poll(&mut barrier.wait()), passed(2, true));
    assert_eq!(poll(&mut first), passed(0, false));

    let (woken, waker) = counting_waker();
    let mut blocked = barrier.wait();
    assert!(poll_with(&mut blocked, &waker).is_pending());
    barrier.abort();
    assert_eq!(
        woken.get(),
        1,
        "the blocked task is woken to find it broken"
    );
    assert_eq!(poll(&mut second), BROKEN, "released, but had not resumed");
    assert_eq!(poll_with(&mut blocked, &waker), BROKEN);
}

#[test]
fn debug_and_display_describe_the_barrier() {
    let barrier = Barrier::new(2);
    let mut wait = barrier.wait();
    assert_eq!(
        format!("{wait:?}"),
        "BarrierWait { parties: 2, queued: false }"
    );
    assert!(poll(&mut wait).is_pending());
    assert_eq!(
        format!("{wait:?}"),
        "BarrierWait { parties: 2, queued: true }"
    );
    assert_eq!(
        format!("{barrier:?}"),
        "Barrier { parties: 2, phase: Filling, queued: 1 }"
    );
    assert_eq!(
        BrokenBarrierError.to_string(),
        "barrier is broken or was reset while waiting"
    );
}
