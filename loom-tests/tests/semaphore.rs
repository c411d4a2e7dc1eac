//! loom models of `Semaphore` and `BoundedSemaphore`: acquire, release
//! and cancellation (a future polled once, then dropped), on two or three
//! threads.
//!
//! loom runs every interleaving (up to the preemption bound) and fails a
//! model on a broken assertion or on a deadlock, which is how a lost
//! wake-up shows: a thread blocked in `block_on` that nobody will ever wake.
//! The models check mutual exclusion (never more permits in use than
//! exist) and conservation (once every thread is done, the available
//! permits are the initial count again).
//!
//! ```text
//! RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 \
//!     cargo test -p weft-loom-tests --profile loom --test semaphore
//! ```
#![cfg(loom)]

use loom::future::block_on;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;
use weft_loom_tests::{poll_once_then_drop, InUse};
use weft_primitives::{BoundedSemaphore, Semaphore};

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
