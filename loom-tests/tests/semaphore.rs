//! loom models of `Semaphore` and `BoundedSemaphore`: acquire, release,
//! `add_permits`, `try_acquire`, `close`, the owned variants, and
//! cancellation (a future polled once, then dropped), on two or three
//! threads.
//!
//! loom runs every interleaving (up to the preemption bound) and fails a
//! model on a broken assertion or on a deadlock, which is how a lost
//! wake-up shows: a thread blocked in `block_on` that nobody will ever wake.
//! The models check mutual exclusion (never more permits in use than
//! exist), conservation (once every thread is done, the available permits
//! are the initial count again) and FIFO order (a newcomer never takes a
//! permit a queued waiter is owed).
//!
//! ```text
//! RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 \
//!     cargo test -p weft-loom-tests --profile loom --test semaphore
//! ```
#![cfg(loom)]

use std::pin::Pin;
use std::task::Poll;

use loom::future::block_on;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;
use weft_loom_tests::{poll_once_then_drop, InUse};
use weft_primitives::{BoundedSemaphore, Semaphore, TryAcquireError};
use weft_tests::{poll_once, WakeCounter};

/// The main thread holds the only permit while one thread waits for it and
/// another polls an acquire once and drops it — perhaps after the permit was
/// handed to it. Then the main thread releases. The waiting thread must get
/// the permit (a permit lost with the dropped future leaves it asleep, which
/// loom reports as a deadlock), at most one permit is ever in use, and it is
/// back at the end.
#[test]
fn semaphore_acquire_release_and_cancel() {
    loom::model(|| {
        let semaphore = Arc::new(Semaphore::new(1));
        let in_use = InUse::new(1);
        let held = semaphore.try_acquire().unwrap();
        let waiter = {
            let (semaphore, in_use) = (semaphore.clone(), in_use.clone());
            thread::spawn(move || {
                let permit = block_on(semaphore.acquire()).unwrap();
                in_use.occupy(1);
                drop(permit);
            })
        };
        let canceller = {
            let (semaphore, in_use) = (semaphore.clone(), in_use.clone());
            thread::spawn(move || {
                if let Some(permit) = poll_once_then_drop(semaphore.acquire()) {
                    in_use.occupy(1);
                    drop(permit.unwrap());
                }
            })
        };

        in_use.occupy(1);
        drop(held);

        waiter.join().unwrap();
        canceller.join().unwrap();
        assert_eq!(semaphore.available_permits(), 1);
    });
}

/// A waiter for two permits gathers them one at a time (partial grants) from
/// two releases, racing a second `acquire_many(2)` that is polled once and
/// dropped — perhaps at the head of the queue holding one permit, perhaps
/// with both. The waiter must still get both permits, and all come back.
#[test]
fn semaphore_partial_grant_cancelled() {
    loom::model(|| {
        let semaphore = Arc::new(Semaphore::new(0));
        let in_use = InUse::new(2);
        let waiter = {
            let (semaphore, in_use) = (semaphore.clone(), in_use.clone());
            thread::spawn(move || {
                let permits = block_on(semaphore.acquire_many(2)).unwrap();
                in_use.occupy(2);
                drop(permits);
            })
        };
        let canceller = {
            let (semaphore, in_use) = (semaphore.clone(), in_use.clone());
            thread::spawn(move || {
                if let Some(permits) = poll_once_then_drop(semaphore.acquire_many(2)) {
                    in_use.occupy(2);
                    drop(permits.unwrap());
                }
            })
        };

        semaphore.release(1);
        semaphore.release(1);

        waiter.join().unwrap();
        canceller.join().unwrap();
        assert_eq!(semaphore.available_permits(), 2);
    });
}

/// Two threads each forget a permit and release it by hand while the main
/// thread tries one release too many (which may take a forgotten permit's
/// credit before its owner does). Exactly two releases succeed, the count
/// never exceeds the bound, and it ends at the bound.
#[test]
fn bounded_semaphore_release_races() {
    loom::model(|| {
        let semaphore = Arc::new(BoundedSemaphore::new(2));
        let in_use = InUse::new(2);
        let released = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (semaphore, in_use, released) =
                    (semaphore.clone(), in_use.clone(), released.clone());
                thread::spawn(move || {
                    let permit = block_on(semaphore.acquire()).unwrap();
                    in_use.occupy(1);
                    permit.forget();
                    if semaphore.release(1).is_ok() {
                        released.fetch_add(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();

        if semaphore.release(1).is_ok() {
            released.fetch_add(1, Ordering::SeqCst);
        }
        assert!(semaphore.available_permits() <= 2);

        threads
            .into_iter()
            .for_each(|thread| thread.join().unwrap());
        // Each thread releases after its own forget, so however the extra
        // release interleaves, exactly the two forgotten permits come back.
        assert_eq!(released.load(Ordering::SeqCst), 2);
        assert_eq!(semaphore.available_permits(), 2);
        assert!(semaphore.release(1).is_err());
    });
}

/// A waiter for two permits queues with one of them (a partial grant) while
/// the main thread, holding the other, closes the semaphore and then drops
/// its permit. The waiter fails whether it queued before the close (which
/// must wake it) or arrived after; its partial grant goes back, so both
/// permits are available at the end.
#[test]
fn close_fails_a_waiter_and_returns_its_partial_grant() {
    loom::model(|| {
        let semaphore = Arc::new(Semaphore::new(2));
        let held = semaphore.try_acquire().unwrap();
        let waiter = {
            let semaphore = semaphore.clone();
            thread::spawn(move || block_on(semaphore.acquire_many(2)).is_err())
        };
        semaphore.close();
        drop(held);
        assert!(waiter.join().unwrap(), "a closed semaphore grants nothing");
        assert_eq!(semaphore.available_permits(), 2);
        assert_eq!(
            semaphore.try_acquire().unwrap_err(),
            TryAcquireError::Closed
        );
    });
}

/// A waiter for two permits polls once (queueing with a partial grant of
/// one, or failing if the close came first) and is dropped while the main
/// thread closes the semaphore. `close` frees the slot and takes back the
/// partial grant; the cancellation must then find nothing left to undo,
/// and both permits are available once the main thread drops its own.
#[test]
fn close_races_a_cancelled_waiter() {
    loom::model(|| {
        let semaphore = Arc::new(Semaphore::new(2));
        let held = semaphore.try_acquire().unwrap();
        let canceller = {
            let semaphore = semaphore.clone();
            thread::spawn(move || {
                let polled = poll_once_then_drop(semaphore.acquire_many(2));
                assert!(!matches!(polled, Some(Ok(_))), "only one permit is free");
            })
        };
        semaphore.close();
        canceller.join().unwrap();
        drop(held);
        assert_eq!(semaphore.available_permits(), 2);
    });
}

/// A bounded semaphore with its one permit forgotten: one thread releases
/// it by hand and then cancels an acquire after its first poll, another
/// blocks in `acquire`, and the main thread closes the semaphore. The
/// blocked acquire gets the permit (released before the close) or fails
/// (the close came first, and must wake it); either way the permit comes
/// back, and the bound still refuses a second release.
#[test]
fn bounded_close_races_a_release_and_waiters() {
    loom::model(|| {
        let semaphore = Arc::new(BoundedSemaphore::new(1));
        semaphore.try_acquire().unwrap().forget();
        let releaser = {
            let semaphore = semaphore.clone();
            thread::spawn(move || {
                semaphore.release(1).unwrap();
                drop(poll_once_then_drop(semaphore.acquire()));
            })
        };
        let waiter = {
            let semaphore = semaphore.clone();
            thread::spawn(move || drop(block_on(semaphore.acquire())))
        };
        semaphore.close();
        releaser.join().unwrap();
        waiter.join().unwrap();
        assert!(semaphore.is_closed());
        assert_eq!(semaphore.available_permits(), 1);
        assert!(semaphore.release(1).is_err(), "one permit, released once");
    });
}

/// Owned permits cross threads. The main thread takes one of two permits
/// with `try_acquire_owned` and hands it to a thread that first cancels an
/// `acquire_owned` after its first poll, then drops the handed permit;
/// another thread waits in `acquire_many_owned(2)`. The waiter gets both
/// permits once the handed one is dropped (else it deadlocks), never more
/// than two are in use, and the cancelled acquire keeps none of them.
#[test]
fn owned_permits_and_a_cancelled_owned_acquire_cross_threads() {
    loom::model(|| {
        // `acquire_owned` takes the semaphore in std's `Arc`.
        let semaphore = std::sync::Arc::new(Semaphore::new(2));
        let in_use = InUse::new(2);
        let handed = semaphore.clone().try_acquire_owned().unwrap();
        let waiter = {
            let (semaphore, in_use) = (semaphore.clone(), in_use.clone());
            thread::spawn(move || {
                let permits = block_on(semaphore.acquire_many_owned(2)).unwrap();
                in_use.occupy(2);
                drop(permits);
            })
        };
        let canceller = {
            let (semaphore, in_use) = (semaphore.clone(), in_use.clone());
            thread::spawn(move || {
                if let Some(permit) = poll_once_then_drop(semaphore.acquire_owned()) {
                    in_use.occupy(1);
                    drop(permit.unwrap());
                }
                drop(handed);
            })
        };
        waiter.join().unwrap();
        canceller.join().unwrap();
        assert_eq!(semaphore.available_permits(), 2);
    });
}

/// A waiter is queued for the only permit, which another thread releases
/// while the main thread calls `try_acquire`, and calls it again once the
/// release is done. Before the release there is no permit; after it, the
/// permit is the waiter's: `try_acquire` must fail both times, never
/// overtaking the queued waiter, which is woken with the permit.
///
/// The second call is not redundant: loom 0.7 does not always explore a
/// spawned thread running ahead of a concurrent atomic load (its DPOR
/// misses some load-then-write races, tokio-rs/loom#392), so the model
/// checks the "after the release" order explicitly.
#[test]
fn try_acquire_does_not_overtake_a_queued_waiter() {
    loom::model(|| {
        let semaphore = std::sync::Arc::new(Semaphore::new(1));
        let held = semaphore.clone().try_acquire_owned().unwrap();
        let counter = WakeCounter::new();
        let mut queued = semaphore.acquire();
        assert!(poll_once(Pin::new(&mut queued), &counter).is_pending());
        let releaser = thread::spawn(move || drop(held));
        let racing = semaphore.try_acquire().map(|permit| permit.num_permits());
        releaser.join().unwrap();
        let after = semaphore.try_acquire().map(|permit| permit.num_permits());
        for attempt in [racing, after] {
            assert_eq!(
                attempt,
                Err(TryAcquireError::NoPermits),
                "try_acquire overtook a queued waiter"
            );
        }
        assert!(counter.woken(), "the released permit goes to the waiter");
        let permit = match poll_once(Pin::new(&mut queued), &counter) {
            Poll::Ready(permit) => permit.unwrap(),
            Poll::Pending => panic!("a woken waiter holds its permit"),
        };
        drop(permit);
        assert_eq!(semaphore.available_permits(), 1);
    });
}

/// `add_permits` races a fast-path acquire and release (one compare-and-swap
/// each) on another thread while the main thread waits for two permits,
/// which it can only get once the added permit is in and the other thread
/// has let go. A permit lost between the fast path and the queueing shows
/// as a deadlock; in the end both permits are available.
#[test]
fn add_permits_races_the_fast_path() {
    loom::model(|| {
        let semaphore = Arc::new(Semaphore::new(1));
        let in_use = InUse::new(2);
        let fast = {
            let (semaphore, in_use) = (semaphore.clone(), in_use.clone());
            thread::spawn(move || {
                if let Ok(permit) = semaphore.try_acquire() {
                    in_use.occupy(1);
                    drop(permit);
                }
            })
        };
        let adder = {
            let semaphore = semaphore.clone();
            thread::spawn(move || semaphore.add_permits(1))
        };
        let permits = block_on(semaphore.acquire_many(2)).unwrap();
        in_use.occupy(2);
        drop(permits);
        fast.join().unwrap();
        adder.join().unwrap();
        assert_eq!(semaphore.available_permits(), 2);
    });
}

/// A served waiter that has not run yet keeps newcomers queued (asyncio
/// 3.13): the main thread's first acquire waits; another thread releases
/// twice, so the second permit may be parked while the first waiter has
/// not run; the main thread then runs the first waiter and acquires again.
/// The parked permit must reach that second acquire (a parked permit
/// nobody hands on leaves it asleep: a deadlock), and at the end both
/// permits are back and the fast path is open again.
///
/// Broken variant that fails it: `RawSemaphore::claim` only lowering
/// `unclaimed` (never handing parked permits on nor clearing `QUEUED`).
#[test]
fn parked_permits_reach_the_waiter_queued_behind_a_served_one() {
    loom::model(|| {
        let semaphore = Arc::new(Semaphore::new(0));
        let counter = WakeCounter::new();
        let mut first = semaphore.acquire();
        assert!(poll_once(Pin::new(&mut first), &counter).is_pending());
        let releaser = {
            let semaphore = semaphore.clone();
            thread::spawn(move || {
                semaphore.release(1);
                semaphore.release(1);
            })
        };
        let first = block_on(first).unwrap();
        let second = block_on(semaphore.acquire()).unwrap();
        releaser.join().unwrap();
        drop((first, second));
        assert_eq!(semaphore.available_permits(), 2);
        assert!(!semaphore.locked());
        semaphore.try_acquire().unwrap().forget();
    });
}
