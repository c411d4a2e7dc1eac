//! loom models of the lock family: `Semaphore`, `BoundedSemaphore`, `Mutex`
//! and `Condition`.
//!
//! Each model runs two or three threads that race acquire, release and
//! cancellation (a future polled once, then dropped). loom runs every
//! interleaving (up to the preemption bound) and fails the model on a broken
//! assertion, on a data race in the mutex's `UnsafeCell`, or on a deadlock —
//! which is how a lost wake-up shows: a thread blocked in `block_on` that
//! nobody will ever wake.
//!
//! ```text
//! RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 \
//!     cargo test -p weft-loom-tests --profile loom --test locks
//! ```
#![cfg(loom)]

use std::pin::pin;
use std::task::Poll;

use loom::future::block_on;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;
use weft_primitives::{BoundedSemaphore, Condition, Mutex, Semaphore};
use weft_tests::{poll_once, WakeCounter};

/// Counts permits in use and fails the model if they ever exceed `limit`.
struct InUse {
    count: AtomicUsize,
    limit: usize,
}

impl InUse {
    fn new(limit: usize) -> Arc<Self> {
        Arc::new(Self {
            count: AtomicUsize::new(0),
            limit,
        })
    }

    /// Counts `permits` as in use for a moment (other threads may run in
    /// between); call it while holding them.
    fn occupy(&self, permits: usize) {
        let now = self.count.fetch_add(permits, Ordering::SeqCst) + permits;
        assert!(
            now <= self.limit,
            "{now} permits in use, limit {}",
            self.limit
        );
        self.count.fetch_sub(permits, Ordering::SeqCst);
    }
}

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
                let mut cancelled = pin!(Some(semaphore.acquire()));
                let polled = cancelled.as_mut().as_pin_mut().unwrap();
                if let Poll::Ready(permit) = poll_once(polled, &WakeCounter::new()) {
                    in_use.occupy(1);
                    drop(permit.unwrap());
                }
                cancelled.set(None);
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
                let mut cancelled = pin!(Some(semaphore.acquire_many(2)));
                let polled = cancelled.as_mut().as_pin_mut().unwrap();
                if let Poll::Ready(permits) = poll_once(polled, &WakeCounter::new()) {
                    in_use.occupy(2);
                    drop(permits.unwrap());
                }
                cancelled.set(None);
            })
        };

        semaphore.release(1);
        semaphore.release(1);

        waiter.join().unwrap();
        canceller.join().unwrap();
        assert_eq!(semaphore.available_permits(), 2);
    });
}

/// The main thread holds the lock while one thread waits to increment the
/// counter and another polls a lock once and drops it (perhaps after the
/// lock was handed to it). loom checks every access to the mutex's
/// `UnsafeCell` for races, and no update may be lost.
#[test]
fn mutex_mutual_exclusion_with_cancellation() {
    loom::model(|| {
        let mutex = Arc::new(Mutex::new(0usize));
        let mut held = mutex.try_lock().unwrap();
        let incrementer = {
            let mutex = mutex.clone();
            thread::spawn(move || *block_on(mutex.lock()) += 1)
        };
        let canceller = {
            let mutex = mutex.clone();
            thread::spawn(move || {
                let mut cancelled = pin!(Some(mutex.lock()));
                let polled = cancelled.as_mut().as_pin_mut().unwrap();
                if let Poll::Ready(mut guard) = poll_once(polled, &WakeCounter::new()) {
                    *guard += 10;
                }
                cancelled.set(None);
            })
        };

        *held += 100;
        drop(held);

        incrementer.join().unwrap();
        canceller.join().unwrap();
        let total = mutex.try_lock().map(|guard| *guard);
        assert!(
            matches!(total, Ok(101 | 111)),
            "lost an update or the lock: {total:?}"
        );
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

/// Where the notifier calls `notify` relative to its critical section.
#[derive(Clone, Copy)]
enum Notify {
    /// asyncio's way: set the flag and notify, then release the lock.
    UnderLock,
    /// Set the flag, release the lock, then notify (allowed in weft).
    AfterUnlock,
}

/// A waiter waits for a flag; a notifier sets it and notifies once. The
/// main thread's own wait is polled twice and dropped: still queued,
/// notified, or notified and re-acquiring the lock (which the notifier may
/// still hold). The waiter must still wake: a lost notification leaves it
/// asleep, which loom reports as a deadlock.
fn condition_model(notify: Notify) {
    loom::model(move || {
        let condition = Arc::new(Condition::with_value(false));
        let waiter = {
            let condition = condition.clone();
            thread::spawn(move || {
                block_on(async {
                    let guard = condition.lock().await;
                    let guard = condition.wait_for(guard, |ready| *ready).await;
                    assert!(*guard);
                });
            })
        };
        let notifier = {
            let condition = condition.clone();
            thread::spawn(move || {
                let mut guard = block_on(condition.lock());
                *guard = true;
                match notify {
                    Notify::UnderLock => {
                        condition.notify(1);
                        drop(guard);
                    }
                    Notify::AfterUnlock => {
                        drop(guard);
                        condition.notify(1);
                    }
                }
            })
        };

        let guard = block_on(condition.lock());
        let mut wait = pin!(Some(condition.wait(guard)));
        let wake = WakeCounter::new();
        let polled = wait.as_mut().as_pin_mut().unwrap();
        assert!(poll_once(polled, &wake).is_pending(), "it just queued");
        // A second poll may find it notified and queue it for the lock, or
        // even hand it the lock.
        let polled = wait.as_mut().as_pin_mut().unwrap();
        if let Poll::Ready(guard) = poll_once(polled, &wake) {
            // It took the notification but leaves the flag to the waiter, so,
            // like any polite waiter, it passes it on.
            drop(guard);
            condition.notify(1);
        }
        wait.set(None);

        waiter.join().unwrap();
        notifier.join().unwrap();
        assert!(!condition.locked());
    });
}

#[test]
fn condition_notify_under_lock_is_not_lost() {
    condition_model(Notify::UnderLock);
}

#[test]
fn condition_notify_after_unlock_is_not_lost() {
    condition_model(Notify::AfterUnlock);
}
