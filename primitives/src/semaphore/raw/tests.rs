//! Unit tests of the semaphore algorithm.

use super::*;
use crate::Semaphore;
use futures::task::noop_waker_ref;
use std::future::Future;
use std::pin::Pin;

fn poll<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(noop_waker_ref()))
}

fn queued(semaphore: &Semaphore) -> usize {
    semaphore.raw.waiters.lock().queue.len()
}

/// Permits gathered so far by the waiter at the head of the queue.
fn head_granted(semaphore: &Semaphore) -> usize {
    let mut waiters = semaphore.raw.waiters.lock();
    waiters
        .queue
        .front_mut()
        .expect("a waiter is queued")
        .granted
}

#[test]
fn fast_path_does_not_touch_the_queue() {
    let semaphore = Semaphore::new(2);
    let permit = semaphore.try_acquire_many(2).unwrap();
    assert_eq!(semaphore.available_permits(), 0);
    drop(permit);
    assert_eq!(semaphore.available_permits(), 2);
    assert_eq!(semaphore.raw.waiters.lock().queue.capacity(), 0);
}

#[test]
fn head_waiter_accumulates_partial_grants() {
    let semaphore = Semaphore::new(1);
    let mut big = semaphore.acquire_many(3);
    assert!(poll(&mut big).is_pending());
    // It took the one free permit as a partial grant.
    assert_eq!(semaphore.available_permits(), 0);
    assert_eq!(head_granted(&semaphore), 1);

    semaphore.release(1);
    assert_eq!(head_granted(&semaphore), 2);
    assert!(poll(&mut big).is_pending());

    semaphore.release(2); // one completes it, one goes back to the count
    let permit = match poll(&mut big) {
        Poll::Ready(Ok(permit)) => permit,
        other => panic!("expected the permits, got {other:?}"),
    };
    assert_eq!(permit.num_permits(), 3);
    assert_eq!(semaphore.available_permits(), 1);
    assert!(!semaphore.locked());
}

#[test]
fn small_request_behind_a_big_head_does_not_overtake_it() {
    let semaphore = Semaphore::new(0);
    let mut big = semaphore.acquire_many(2);
    let mut small = semaphore.acquire();
    assert!(poll(&mut big).is_pending());
    assert!(poll(&mut small).is_pending());

    semaphore.release(1);
    assert!(poll(&mut small).is_pending(), "the head got the permit");
    assert_eq!(
        semaphore.try_acquire().unwrap_err(),
        TryAcquireError::NoPermits
    );

    semaphore.release(2);
    assert!(matches!(poll(&mut big), Poll::Ready(Ok(_))));
    assert!(matches!(poll(&mut small), Poll::Ready(Ok(_))));
}

#[test]
fn cancelled_partial_head_hands_its_grant_to_the_next_waiter() {
    let semaphore = Semaphore::new(1);
    let mut big = semaphore.acquire_many(2);
    let mut next = semaphore.acquire();
    assert!(poll(&mut big).is_pending());
    assert!(poll(&mut next).is_pending());
    drop(big);
    assert_eq!(queued(&semaphore), 0);
    assert!(matches!(poll(&mut next), Poll::Ready(Ok(_))));
}

#[test]
fn cancelling_the_last_waiter_clears_the_queued_flag() {
    let semaphore = Semaphore::new(0);
    let mut waiter = semaphore.acquire();
    assert!(poll(&mut waiter).is_pending());
    assert!(semaphore.raw.state.load(Ordering::Acquire) & QUEUED != 0);
    drop(waiter);
    assert_eq!(semaphore.raw.state.load(Ordering::Acquire), 0);
    semaphore.release(1);
    assert!(semaphore.try_acquire().is_ok(), "fast path usable again");
}

#[test]
fn close_returns_partial_grants_and_fails_waiters() {
    let semaphore = Semaphore::new(1);
    let mut big = semaphore.acquire_many(2);
    assert!(poll(&mut big).is_pending());
    assert!(!semaphore.is_closed());
    semaphore.close();
    assert!(semaphore.is_closed());
    assert!(matches!(poll(&mut big), Poll::Ready(Err(AcquireError(())))));
    assert_eq!(semaphore.available_permits(), 1);
    assert_eq!(
        semaphore.try_acquire().unwrap_err(),
        TryAcquireError::Closed
    );
    assert!(semaphore.locked());
}

#[test]
fn zero_permits_are_granted_at_once_even_behind_waiters() {
    let semaphore = Semaphore::new(0);
    let mut waiter = semaphore.acquire();
    assert!(poll(&mut waiter).is_pending());
    assert_eq!(semaphore.try_acquire_many(0).unwrap().num_permits(), 0);
    assert_eq!(queued(&semaphore), 1);
}

#[test]
fn waiter_slots_are_reused() {
    let semaphore = Semaphore::new(0);
    let mut capacity = None;
    for _ in 0..50 {
        let mut waiters: Vec<_> = (0..3).map(|_| semaphore.acquire()).collect();
        for waiter in &mut waiters {
            assert!(poll(waiter).is_pending());
        }
        semaphore.release(1);
        drop(waiters); // one granted, two still queued: all cancelled
        let now = semaphore.raw.waiters.lock().queue.capacity();
        assert_eq!(*capacity.get_or_insert(now), now);
        // The grant travelled down the cancelled queue back to the count.
        semaphore.try_acquire().unwrap().forget();
    }
}

#[test]
#[should_panic(expected = "would exceed Semaphore::MAX_PERMITS")]
fn overflowing_the_count_panics() {
    let semaphore = Semaphore::new(Semaphore::MAX_PERMITS);
    semaphore.add_permits(1);
}

#[test]
fn a_served_waiter_keeps_the_fast_path_shut_until_it_runs() {
    let semaphore = Semaphore::new(0);
    let mut waiter = semaphore.acquire();
    assert!(poll(&mut waiter).is_pending());
    semaphore.release(1);
    assert!(semaphore.raw.handing_over());
    assert!(semaphore.locked());
    assert_eq!(queued(&semaphore), 0);
    let Poll::Ready(Ok(permit)) = poll(&mut waiter) else {
        panic!("the waiter was served")
    };
    // It ran: nobody is queued or served any more, `QUEUED` is clear while
    // it still holds the permit.
    assert!(!semaphore.raw.handing_over());
    assert_eq!(semaphore.raw.state.load(Ordering::Acquire), 0);
    drop(permit);
    assert!(!semaphore.locked());
}

#[test]
fn permits_released_behind_a_served_waiter_are_parked_then_handed_on() {
    let semaphore = Semaphore::new(0);
    let mut first = semaphore.acquire();
    assert!(poll(&mut first).is_pending());
    semaphore.release(3); // one to `first`, two parked
    assert_eq!(semaphore.available_permits(), 2);
    assert_eq!(
        semaphore.try_acquire().unwrap_err(),
        TryAcquireError::NoPermits
    );
    let mut second = semaphore.acquire_many(2);
    assert!(poll(&mut second).is_pending());
    assert_eq!(head_granted(&semaphore), 0, "it waits for `first` to run");
    let first = match poll(&mut first) {
        Poll::Ready(Ok(permit)) => permit,
        other => panic!("expected the permit, got {other:?}"),
    };
    // Running, `first` handed the parked permits to `second`.
    assert_eq!(semaphore.available_permits(), 0);
    assert_eq!(queued(&semaphore), 0);
    let second = match poll(&mut second) {
        Poll::Ready(Ok(permit)) => permit,
        other => panic!("expected the permits, got {other:?}"),
    };
    assert_eq!(second.num_permits(), 2);
    assert!(!semaphore.raw.handing_over());
    drop((first, second));
    assert_eq!(semaphore.available_permits(), 3);
    assert!(!semaphore.locked());
}

#[test]
fn a_served_waiter_that_is_not_the_last_to_run_hands_parked_permits_on() {
    let semaphore = Semaphore::new(0);
    let mut a = semaphore.acquire();
    let mut b = semaphore.acquire();
    assert!(poll(&mut a).is_pending());
    assert!(poll(&mut b).is_pending());
    semaphore.release(3); // a and b served, one parked
    let mut c = semaphore.acquire();
    assert!(poll(&mut c).is_pending());
    // `a` runs while `b` has not: the parked permit goes to `c` now.
    let Poll::Ready(Ok(a)) = poll(&mut a) else {
        panic!("`a` was served")
    };
    assert_eq!(semaphore.available_permits(), 0);
    assert!(semaphore.raw.handing_over());
    let Poll::Ready(Ok(c)) = poll(&mut c) else {
        panic!("`c` was served")
    };
    let Poll::Ready(Ok(b)) = poll(&mut b) else {
        panic!("`b` was served")
    };
    assert!(!semaphore.raw.handing_over());
    drop((a, b, c));
    assert_eq!(semaphore.available_permits(), 3);
}

#[test]
fn a_served_waiter_dropped_unrun_gives_its_permits_and_its_claim_back() {
    let semaphore = Semaphore::new(0);
    let mut waiter = semaphore.acquire_many(2);
    assert!(poll(&mut waiter).is_pending());
    semaphore.release(2);
    assert!(semaphore.raw.handing_over());
    drop(waiter);
    assert!(!semaphore.raw.handing_over());
    assert_eq!(
        semaphore.raw.state.load(Ordering::Acquire),
        2 << PERMIT_SHIFT
    );
}

#[test]
fn a_huge_count_is_not_locked() {
    // The count sits above the flag bits: only a shift the right way reads
    // it back for every count up to `MAX_PERMITS`.
    let semaphore = Semaphore::new(1 << 60);
    assert!(!semaphore.locked());
    assert_eq!(semaphore.available_permits(), 1 << 60);
}

#[test]
fn serving_the_first_waiter_does_not_serve_the_second() {
    let semaphore = Semaphore::new(0);
    let mut first = semaphore.acquire();
    let mut second = semaphore.acquire();
    assert!(poll(&mut first).is_pending());
    assert!(poll(&mut second).is_pending());
    semaphore.release(1);
    assert!(poll(&mut second).is_pending(), "its ticket is not served");
    assert!(matches!(poll(&mut first), Poll::Ready(Ok(_))));
}

#[test]
fn the_slow_path_takes_free_permits_when_nobody_waits() {
    // A release can land between a failed fast path and the lock; the slow
    // path must then take the permits like the fast path would.
    let semaphore = Semaphore::new(2);
    let taken = semaphore.raw.take_or_enqueue(1, noop_waker_ref());
    assert!(matches!(taken, FirstPoll::Ready(Ok(()))));
    assert_eq!(semaphore.available_permits(), 1);
    assert_eq!(queued(&semaphore), 0);
}

#[test]
fn debug_shows_the_count_and_both_flags() {
    let semaphore = Semaphore::new(3);
    assert_eq!(
        format!("{:?}", semaphore.raw),
        "Semaphore { available_permits: 3, waiters_queued: false, closed: false }"
    );
    let empty = Semaphore::new(0);
    let mut waiter = empty.acquire();
    assert!(poll(&mut waiter).is_pending());
    assert_eq!(
        format!("{:?}", empty.raw),
        "Semaphore { available_permits: 0, waiters_queued: true, closed: false }"
    );
    empty.close();
    drop(waiter);
    assert_eq!(
        format!("{:?}", empty.raw),
        "Semaphore { available_permits: 0, waiters_queued: false, closed: true }"
    );
}
