//! Behaviour of the lock family — `Semaphore`, `BoundedSemaphore`, `Mutex` /
//! `Lock` and `Condition` — against asyncio's documented semantics, with
//! cancellation (dropping a future) at every await point, and under real
//! contention from tokio's multi-thread runtime and from plain threads.
//!
//! The single-task tests drive futures by hand with `poll_once` and watch
//! wake-ups with `WakeCounter`, so they are deterministic: no sleeps, no
//! timing. The contention tests assert only outcomes that must hold in every
//! interleaving (exact counts, a permit high-water mark, conservation).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;

use futures::executor::block_on;
use weft_primitives::{
    AcquireError, BoundedSemaphore, Condition, ConditionWait, Lock, Mutex, MutexGuard, Semaphore,
    TryAcquireError,
};
use weft_runtime::{spawn, yield_now};
use weft_tests::{poll_once, run_bounded, WakeCounter};

/// Polls once and expects `Pending`.
#[track_caller]
fn assert_pending<F: Future + ?Sized>(future: Pin<&mut F>, counter: &WakeCounter) {
    assert!(poll_once(future, counter).is_pending(), "expected Pending");
}

/// Polls once and expects `Ready`, returning the output.
#[track_caller]
fn expect_ready<F: Future + ?Sized>(future: Pin<&mut F>, counter: &WakeCounter) -> F::Output {
    match poll_once(future, counter) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("expected Ready"),
    }
}

fn counters<const N: usize>() -> [WakeCounter; N] {
    std::array::from_fn(|_| WakeCounter::new())
}

// ---------------------------------------------------------------- Semaphore

#[test]
fn semaphore_serves_waiters_in_arrival_order() {
    let semaphore = Semaphore::new(0);
    let wakes = counters::<3>();
    let mut waiters: Vec<_> = (0..3).map(|_| Box::pin(semaphore.acquire())).collect();
    for (waiter, wake) in waiters.iter_mut().zip(&wakes) {
        assert_pending(waiter.as_mut(), wake);
    }
    for served in 0..3 {
        semaphore.release(1);
        for (index, wake) in wakes.iter().enumerate() {
            assert_eq!(
                wake.count(),
                usize::from(index <= served),
                "after {served} releases"
            );
        }
        let permit = expect_ready(waiters[served].as_mut(), &wakes[served]).unwrap();
        permit.forget();
    }
}

#[test]
fn fresh_acquire_does_not_overtake_queued_waiters() {
    let semaphore = Semaphore::new(1);
    let held = semaphore.try_acquire().unwrap();
    let wake = WakeCounter::new();
    let mut waiter = pin!(semaphore.acquire());
    assert_pending(waiter.as_mut(), &wake);

    drop(held);
    // The permit went straight to the waiter: a newcomer finds none, even
    // though the waiter has not run yet.
    assert!(wake.woken());
    assert_eq!(semaphore.available_permits(), 0);
    assert_eq!(
        semaphore.try_acquire().unwrap_err(),
        TryAcquireError::NoPermits
    );
    let mut fresh = pin!(semaphore.acquire());
    assert_pending(fresh.as_mut(), &WakeCounter::new());
    drop(expect_ready(waiter.as_mut(), &wake).unwrap());
}

#[test]
fn small_acquire_does_not_overtake_a_bigger_head_even_when_permits_are_free() {
    let semaphore = Semaphore::new(2);
    let held = semaphore.try_acquire().unwrap();
    let big_wake = WakeCounter::new();
    let mut big = pin!(semaphore.acquire_many(2));
    assert_pending(big.as_mut(), &big_wake);
    // One permit is not held by anyone, yet it is reserved for the head.
    assert!(semaphore.locked());
    assert_eq!(
        semaphore.try_acquire().unwrap_err(),
        TryAcquireError::NoPermits
    );

    drop(held);
    assert_eq!(big_wake.count(), 1);
    assert_eq!(
        expect_ready(big.as_mut(), &big_wake).unwrap().num_permits(),
        2
    );
    assert_eq!(semaphore.available_permits(), 2);
}

#[test]
fn semaphore_acquire_dropped_after_first_poll_leaves_nothing_behind() {
    let semaphore = Semaphore::new(0);
    let wake = WakeCounter::new();
    let mut waiter = Box::pin(semaphore.acquire());
    assert_pending(waiter.as_mut(), &wake);
    drop(waiter);
    assert!(!wake.woken());

    // Nobody is queued any more: the release goes to the count and the fast
    // path works again.
    semaphore.release(1);
    assert_eq!(semaphore.available_permits(), 1);
    assert!(semaphore.try_acquire().is_ok());
}

#[test]
fn semaphore_acquire_dropped_after_grant_hands_the_permit_on() {
    let semaphore = Semaphore::new(0);
    let [first_wake, second_wake] = counters();
    let mut first = Box::pin(semaphore.acquire());
    let mut second = pin!(semaphore.acquire());
    assert_pending(first.as_mut(), &first_wake);
    assert_pending(second.as_mut(), &second_wake);

    semaphore.release(1);
    assert_eq!((first_wake.count(), second_wake.count()), (1, 0));
    drop(first); // granted, woken, never polled again
    assert_eq!(second_wake.count(), 1, "the grant moved on with a wake-up");
    assert_eq!(semaphore.available_permits(), 0);

    let permit = expect_ready(second.as_mut(), &second_wake).unwrap();
    drop(permit);
    assert_eq!(semaphore.available_permits(), 1);
}

#[test]
fn semaphore_acquire_dropped_with_the_last_grant_returns_it_to_the_count() {
    let semaphore = Semaphore::new(0);
    let wake = WakeCounter::new();
    let mut waiter = Box::pin(semaphore.acquire_many(2));
    assert_pending(waiter.as_mut(), &wake);
    semaphore.release(2);
    assert!(wake.woken());
    drop(waiter);
    assert_eq!(semaphore.available_permits(), 2);
    assert!(!semaphore.locked());
}

#[test]
fn semaphore_partially_granted_acquire_many_dropped_hands_its_permits_on() {
    let semaphore = Semaphore::new(0);
    let [big_wake, small_wake] = counters();
    let mut big = Box::pin(semaphore.acquire_many(3));
    let mut small = pin!(semaphore.acquire());
    assert_pending(big.as_mut(), &big_wake);
    assert_pending(small.as_mut(), &small_wake);

    semaphore.release(2); // two of three: the head keeps them, nobody wakes
    assert_eq!((big_wake.count(), small_wake.count()), (0, 0));
    assert_eq!(semaphore.available_permits(), 0);

    drop(big);
    assert_eq!(small_wake.count(), 1);
    assert_eq!(
        semaphore.available_permits(),
        1,
        "one to `small`, one spare"
    );
    expect_ready(small.as_mut(), &small_wake).unwrap().forget();
    assert_eq!(semaphore.available_permits(), 1);
}

#[test]
fn owned_acquire_is_fair_and_cancel_safe() {
    let semaphore = Arc::new(Semaphore::new(0));
    let [first_wake, second_wake] = counters();
    let mut first = Box::pin(semaphore.clone().acquire_owned());
    let mut second = pin!(semaphore.clone().acquire_many_owned(2));
    assert_pending(first.as_mut(), &first_wake);
    assert_pending(second.as_mut(), &second_wake);

    semaphore.release(1);
    drop(first);
    assert!(!second_wake.woken(), "the head needs two permits");
    semaphore.release(1);
    let permit = expect_ready(second.as_mut(), &second_wake).unwrap();
    assert_eq!(permit.num_permits(), 2);
    let permit = std::thread::spawn(move || permit).join().unwrap();
    drop(permit);
    assert_eq!(semaphore.available_permits(), 2);
    assert_eq!(
        semaphore.clone().try_acquire_owned().unwrap().num_permits(),
        1
    );
}

#[test]
fn close_fails_current_and_future_acquires() {
    let semaphore = Semaphore::new(1);
    let held = semaphore.try_acquire().unwrap();
    let wake = WakeCounter::new();
    let mut waiter = pin!(semaphore.acquire());
    assert_pending(waiter.as_mut(), &wake);

    semaphore.close();
    assert!(wake.woken());
    assert!(semaphore.is_closed());
    let error: AcquireError = expect_ready(waiter.as_mut(), &wake).unwrap_err();
    assert_eq!(error.to_string(), "the semaphore was closed");
    assert_eq!(
        semaphore.try_acquire().unwrap_err(),
        TryAcquireError::Closed
    );
    let mut late = pin!(semaphore.acquire());
    assert!(expect_ready(late.as_mut(), &wake).is_err());

    // Permits held across the close still come back.
    drop(held);
    assert_eq!(semaphore.available_permits(), 1);
}

#[test]
fn locked_follows_asyncio() {
    let semaphore = Semaphore::new(1);
    assert!(!semaphore.locked());
    let permit = semaphore.try_acquire().unwrap();
    assert!(semaphore.locked());
    drop(permit);
    assert!(!semaphore.locked());
}

// ------------------------------- woken waiters, as CPython 3.13 tests them
//
// CPython's `test_locks.SemaphoreTests` cases of the same names (gh-90155),
// run on weft's runtime, whose FIFO run queue schedules like asyncio's
// loop; `yield_now` is `asyncio.sleep(0)`, and a permit kept without a
// guard (`forget`) is asyncio's bare `acquire()`.

/// Appends to the shared result list of a test.
fn record(result: &RefCell<Vec<u32>>, value: u32) {
    result.borrow_mut().push(value);
}

#[test]
fn test_acquire_fifo_order_2() {
    run_bounded(async {
        let sem = Rc::new(Semaphore::new(1));
        let result = Rc::new(RefCell::new(Vec::new()));
        let (s, r) = (sem.clone(), result.clone());
        let t1 = spawn(async move {
            s.acquire().await.unwrap().forget();
            record(&r, 1);
        });
        let (s, r) = (sem.clone(), result.clone());
        let t2 = spawn(async move {
            s.acquire().await.unwrap().forget();
            record(&r, 2);
            s.release(1);
            // The third task was woken before this release: we queue
            // behind it.
            s.acquire().await.unwrap().forget();
            record(&r, 4);
        });
        let (s, r) = (sem.clone(), result.clone());
        let t3 = spawn(async move {
            s.acquire().await.unwrap().forget();
            record(&r, 3);
        });
        yield_now().await;
        sem.release(1);
        sem.release(1);
        for task in [t1, t2, t3] {
            task.await.unwrap();
        }
        assert_eq!(*result.borrow(), [1, 2, 3, 4]);
    });
}

#[test]
fn test_acquire_fifo_order_4() {
    run_bounded(async {
        let sem = Rc::new(Semaphore::new(0));
        let result = Rc::new(RefCell::new(Vec::new()));
        let t4 = Rc::new(Cell::new(None));
        let (s, r, fourth) = (sem.clone(), result.clone(), t4.clone());
        // Waits at once; the second task's first release wakes it.
        let t1 = spawn(async move {
            assert_eq!(s.available_permits(), 0);
            s.acquire().await.unwrap().forget();
            // Running, it handed the permits released meanwhile on to the
            // tasks queued behind it.
            assert_eq!(s.available_permits(), 0);
            let r4 = r.clone();
            // Created now, it must run after the third task, not before.
            fourth.set(Some(spawn(async move { record(&r4, 4) })));
            record(&r, 1);
        });
        let (s, r) = (sem.clone(), result.clone());
        let t2 = spawn(async move {
            for _ in 0..3 {
                s.release(1);
            }
            assert_eq!(s.available_permits(), 2);
            // Locked: the first task was woken but has not run yet.
            assert!(s.locked());
            s.acquire().await.unwrap().forget();
            record(&r, 2);
        });
        let (s, r) = (sem.clone(), result.clone());
        let t3 = spawn(async move {
            s.acquire().await.unwrap().forget();
            assert!(s.locked());
            record(&r, 3);
        });
        yield_now().await;
        // Three tasks are waiting (one of them woken, none has run yet).
        assert_eq!(sem.available_permits(), 2);
        yield_now().await;
        for task in [t1, t2, t3] {
            task.await.unwrap();
        }
        t4.take()
            .expect("the first task spawned the fourth")
            .await
            .unwrap();
        assert_eq!(*result.borrow(), [1, 2, 3, 4]);
    });
}

/// CPython's `LockTests.test_cancel_race`, driven by hand: A holds the
/// lock, B and C wait, B is cancelled as A releases. asyncio's `locked()`
/// is false until the woken C runs, yet nobody can overtake C.
#[test]
fn test_cancel_race() {
    let lock = Lock::default();
    let [b_wake, c_wake, late_wake] = counters();
    let a = lock.try_acquire().unwrap();
    assert!(lock.locked());
    let mut b = Box::pin(lock.acquire());
    let mut c = pin!(lock.acquire());
    assert_pending(b.as_mut(), &b_wake);
    assert_pending(c.as_mut(), &c_wake);
    drop(b);
    drop(a);
    assert!(c_wake.woken());
    assert!(!lock.locked(), "asyncio: nobody holds it until C runs");
    assert!(lock.is_locked(), "but a lock() would wait");
    assert!(lock.try_acquire().is_err());
    let mut late = pin!(lock.acquire());
    assert_pending(late.as_mut(), &late_wake);
    let c = expect_ready(c.as_mut(), &c_wake);
    assert!(lock.locked());
    drop(c);
    assert!(late_wake.woken());
    drop(expect_ready(late.as_mut(), &late_wake));
    assert!(!lock.locked());
    assert!(!lock.is_locked());
}

#[test]
fn permits_released_before_the_woken_waiter_runs_wait_for_it() {
    let semaphore = Semaphore::new(0);
    let [first_wake, second_wake] = counters();
    let mut first = pin!(semaphore.acquire());
    assert_pending(first.as_mut(), &first_wake);
    semaphore.release(2); // one to `first`, one parked: `first` has not run
    assert_eq!(semaphore.available_permits(), 1);
    assert!(semaphore.locked());
    assert_eq!(
        semaphore.try_acquire().unwrap_err(),
        TryAcquireError::NoPermits
    );
    let mut second = pin!(semaphore.acquire());
    assert_pending(second.as_mut(), &second_wake);
    assert!(!second_wake.woken(), "served only once `first` runs");
    expect_ready(first.as_mut(), &first_wake).unwrap().forget();
    assert_eq!(second_wake.count(), 1);
    expect_ready(second.as_mut(), &second_wake)
        .unwrap()
        .forget();
    assert!(semaphore.locked());
    semaphore.release(1);
    assert!(
        !semaphore.locked(),
        "every served waiter ran: the fast path is open"
    );
    assert!(semaphore.try_acquire().is_ok());
}

#[test]
fn a_served_waiter_dropped_before_it_runs_hands_on_the_parked_permits() {
    let semaphore = Semaphore::new(0);
    let [first_wake, second_wake] = counters();
    let mut first = Box::pin(semaphore.acquire());
    assert_pending(first.as_mut(), &first_wake);
    semaphore.release(2);
    let mut second = pin!(semaphore.acquire_many(2));
    assert_pending(second.as_mut(), &second_wake);
    drop(first); // its permit and the parked one both go to `second`
    assert_eq!(second_wake.count(), 1);
    let permit = expect_ready(second.as_mut(), &second_wake).unwrap();
    assert_eq!(permit.num_permits(), 2);
    assert_eq!(semaphore.available_permits(), 0);
    assert!(semaphore.locked());
    drop(permit);
    assert!(!semaphore.locked());
}

#[test]
fn errors_have_clear_messages() {
    let no_permits: Box<dyn std::error::Error> = Box::new(TryAcquireError::NoPermits);
    assert_eq!(
        no_permits.to_string(),
        "no permits available without overtaking waiting tasks"
    );
    let lock = Lock::default();
    let _guard = lock.try_acquire().unwrap();
    assert_eq!(
        lock.try_acquire().unwrap_err().to_string(),
        "the mutex is locked or other tasks are waiting for it"
    );
}

// --------------------------------------------------------- BoundedSemaphore

#[test]
fn bounded_semaphore_refuses_to_go_above_its_initial_value() {
    let semaphore = BoundedSemaphore::new(2);
    let error = semaphore.release(1).unwrap_err();
    assert!(error
        .to_string()
        .starts_with("BoundedSemaphore released too many times"));
    assert_eq!(error.permits(), 1);
    assert_eq!(semaphore.available_permits(), 2);

    // A held permit is not "missing": it comes back on its own.
    let held = semaphore.try_acquire().unwrap();
    assert!(semaphore.release(1).is_err());
    assert_eq!(semaphore.available_permits(), 1);
    drop(held);
    assert_eq!(semaphore.available_permits(), 2);
}

#[test]
fn bounded_semaphore_release_of_forgotten_permits_wakes_waiters() {
    let semaphore = BoundedSemaphore::new(1);
    semaphore.try_acquire().unwrap().forget();
    let wake = WakeCounter::new();
    let mut waiter = pin!(semaphore.acquire());
    assert_pending(waiter.as_mut(), &wake);
    semaphore.release(1).unwrap();
    assert!(wake.woken());
    expect_ready(waiter.as_mut(), &wake).unwrap().forget();
    semaphore.release(1).unwrap();
    assert!(semaphore.release(1).is_err());
    assert_eq!(semaphore.available_permits(), 1);
}

#[test]
fn bounded_semaphore_concurrent_releases_never_exceed_the_bound() {
    let semaphore = Arc::new(BoundedSemaphore::new(4));
    semaphore.try_acquire_many(4).unwrap().forget();
    let successes = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (semaphore, successes) = (semaphore.clone(), successes.clone());
            std::thread::spawn(move || {
                if semaphore.release(1).is_ok() {
                    successes.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    threads
        .into_iter()
        .for_each(|thread| thread.join().unwrap());
    assert_eq!(successes.load(Ordering::SeqCst), 4);
    assert_eq!(semaphore.available_permits(), 4);
}

// -------------------------------------------------------------- Mutex / Lock

#[test]
fn mutex_is_granted_in_arrival_order() {
    let mutex = Mutex::new(Vec::new());
    let holder = mutex.try_lock().unwrap();
    let wakes = counters::<3>();
    let mut waiters: Vec<_> = (0..3).map(|_| Box::pin(mutex.lock())).collect();
    for (waiter, wake) in waiters.iter_mut().zip(&wakes) {
        assert_pending(waiter.as_mut(), wake);
    }
    drop(holder);
    for (index, waiter) in waiters.iter_mut().enumerate() {
        assert!(wakes[index].woken(), "waiter {index} is next and was woken");
        assert!(wakes[index + 1..].iter().all(|wake| !wake.woken()));
        // A newcomer cannot take the lock between two waiters.
        assert!(mutex.try_lock().is_err());
        expect_ready(waiter.as_mut(), &wakes[index]).push(index);
    }
    drop(waiters);
    assert_eq!(mutex.into_inner(), [0, 1, 2]);
}

#[test]
fn lock_future_dropped_after_first_poll_leaves_nothing_behind() {
    let mutex = Mutex::new(0);
    let holder = mutex.try_lock().unwrap();
    let mut waiter = Box::pin(mutex.lock());
    assert_pending(waiter.as_mut(), &WakeCounter::new());
    drop(waiter);
    drop(holder);
    assert!(!mutex.is_locked());
    assert!(mutex.try_lock().is_ok());
}

#[test]
fn lock_future_dropped_after_grant_hands_the_lock_on() {
    let mutex = Mutex::new(0);
    let holder = mutex.try_lock().unwrap();
    let [first_wake, second_wake] = counters();
    let mut first = Box::pin(mutex.lock());
    let mut second = pin!(mutex.lock());
    assert_pending(first.as_mut(), &first_wake);
    assert_pending(second.as_mut(), &second_wake);

    drop(holder);
    assert_eq!((first_wake.count(), second_wake.count()), (1, 0));
    drop(first);
    assert_eq!(second_wake.count(), 1);
    *expect_ready(second.as_mut(), &second_wake) += 1;
    assert!(!mutex.is_locked());
}

#[test]
fn owned_lock_is_cancel_safe_and_moves_across_threads() {
    let mutex = Arc::new(Mutex::new(0));
    let holder = mutex.clone().try_lock_owned().unwrap();
    let [first_wake, second_wake] = counters();
    let mut first = Box::pin(mutex.clone().lock_owned());
    let mut second = pin!(mutex.clone().lock_owned());
    assert_pending(first.as_mut(), &first_wake);
    assert_pending(second.as_mut(), &second_wake);
    std::thread::spawn(move || drop(holder)).join().unwrap();
    drop(first);
    assert!(second_wake.woken());
    let mut guard = expect_ready(second.as_mut(), &second_wake);
    std::thread::spawn(move || *guard += 1).join().unwrap();
    assert_eq!(*mutex.try_lock().unwrap(), 1);
}

#[test]
fn lock_speaks_asyncio() {
    let lock = Lock::default();
    assert!(!lock.locked());
    let guard = block_on(lock.acquire());
    assert!(lock.locked());
    assert!(lock.try_acquire().is_err());
    drop(guard);
    assert!(!lock.locked());
}

// ------------------------------------------------------------------ Condition

/// Queues `count` waiters on `condition`, each polled once (so each has
/// released the lock and is waiting for a notification).
fn queue_waiters<'a>(
    condition: &'a Condition,
    wakes: &[WakeCounter],
) -> Vec<Pin<Box<ConditionWait<'a, ()>>>> {
    wakes
        .iter()
        .map(|wake| {
            let guard = condition.mutex().try_lock().expect("the lock is free");
            let mut wait = Box::pin(condition.wait(guard));
            assert_pending(wait.as_mut(), wake);
            wait
        })
        .collect()
}

#[test]
fn notify_one_wakes_exactly_the_longest_waiter() {
    let condition = Condition::default();
    let wakes = counters::<3>();
    let mut waiters = queue_waiters(&condition, &wakes);
    assert_eq!(condition.notify(1), 1);
    assert_eq!(wakes.each_ref().map(WakeCounter::count), [1, 0, 0]);
    drop(expect_ready(waiters[0].as_mut(), &wakes[0]));
    assert_pending(waiters[1].as_mut(), &wakes[1]);

    assert_eq!(condition.notify(1), 1);
    assert_eq!(wakes.each_ref().map(WakeCounter::count), [1, 1, 0]);
}

#[test]
fn notify_all_wakes_every_waiter_and_they_relock_in_order() {
    let condition = Condition::default();
    let wakes = counters::<4>();
    let mut waiters = queue_waiters(&condition, &wakes);
    assert_eq!(condition.notify_all(), 4);
    assert!(wakes.iter().all(WakeCounter::woken));

    // All were notified, but they take the lock one at a time.
    let first = expect_ready(waiters[0].as_mut(), &wakes[0]);
    for (waiter, wake) in waiters[1..].iter_mut().zip(&wakes[1..]) {
        assert_pending(waiter.as_mut(), wake);
    }
    drop(first);
    for (waiter, wake) in waiters[1..].iter_mut().zip(&wakes[1..]) {
        drop(expect_ready(waiter.as_mut(), wake));
    }
    assert_eq!(condition.notify_all(), 0);
}

#[test]
fn notified_waiter_dropped_passes_the_notification_on() {
    let condition = Condition::default();
    let wakes = counters::<3>();
    let mut waiters = queue_waiters(&condition, &wakes);
    condition.notify(1);
    drop(waiters.remove(0)); // notified, never polled again
    assert_eq!(wakes.each_ref().map(WakeCounter::count), [1, 1, 0]);
    drop(expect_ready(waiters[0].as_mut(), &wakes[1]));
    assert_pending(waiters[1].as_mut(), &wakes[2]);
}

#[test]
fn waiter_dropped_before_notification_takes_nothing_with_it() {
    let condition = Condition::default();
    let wakes = counters::<2>();
    let mut waiters = queue_waiters(&condition, &wakes);
    drop(waiters.remove(0));
    assert_eq!(
        condition.notify(1),
        1,
        "the notification reaches the survivor"
    );
    assert_eq!(wakes[1].count(), 1);
    drop(expect_ready(waiters[0].as_mut(), &wakes[1]));
}

#[test]
fn waiter_dropped_while_relocking_hands_on_lock_and_notification() {
    let condition = Condition::default();
    let wakes = counters::<2>();
    let mut waiters = queue_waiters(&condition, &wakes);

    // The notifier holds the lock, so the notified waiter must queue for it.
    let notifier = condition.mutex().try_lock().unwrap();
    condition.notify(1);
    assert_pending(waiters[0].as_mut(), &wakes[0]);
    let plain_wake = WakeCounter::new();
    let mut plain_locker = pin!(condition.lock());
    assert_pending(plain_locker.as_mut(), &plain_wake);

    // Releasing the lock grants it to the re-locking waiter, which is then
    // dropped before it runs.
    drop(notifier);
    assert_eq!(wakes[0].count(), 2);
    drop(waiters.remove(0));
    assert!(
        plain_wake.woken(),
        "the granted lock moved to the next locker"
    );
    assert!(
        wakes[1].woken(),
        "the notification moved to the next waiter"
    );
    drop(expect_ready(plain_locker.as_mut(), &plain_wake));
    drop(expect_ready(waiters[0].as_mut(), &wakes[1]));
    assert!(!condition.locked());
}

#[test]
fn notify_right_after_release_is_not_lost() {
    let condition = Condition::with_value(false);
    let wake = WakeCounter::new();
    let guard = condition.mutex().try_lock().unwrap();
    let mut waiter = pin!(condition.wait_for(guard, |ready| *ready));
    assert_pending(waiter.as_mut(), &wake);
    // The lock was just released; set the flag and notify at once.
    *condition.mutex().try_lock().unwrap() = true;
    condition.notify(1);
    assert!(wake.woken());
    assert!(*expect_ready(waiter.as_mut(), &wake));
}

#[test]
#[should_panic(expected = "different mutex")]
fn waiting_with_a_foreign_guard_panics() {
    let condition = Condition::default();
    let other = Lock::default();
    let _wait = condition.wait(other.try_lock().unwrap());
}

// ------------------------------------------------------------ steady state

/// Counts the heap allocations made by the current thread, so a test can
/// show that waiting reuses memory instead of allocating.
struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counter is a plain thread-local `Cell` that never allocates itself.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // `try_with`: the thread-local may already be gone at thread exit.
        let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
        // SAFETY: same contract as ours, passed through.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Allocations made by the current thread while running `round`.
fn allocations_in(mut round: impl FnMut()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    round();
    ALLOCATIONS.with(Cell::get) - before
}

#[test]
fn waiting_allocates_nothing_in_steady_state() {
    let semaphore = Semaphore::new(0);
    let mutex = Mutex::new(0u64);
    let condition: Condition = Condition::default();
    let wakes = counters::<3>();

    // Waiters come and go: granted, cancelled after a grant, cancelled while
    // queued; partial grants; notifications passed on by dropped waiters.
    let mut round = || {
        {
            // Declared in reverse so that they are dropped in queue order.
            let mut third = pin!(semaphore.acquire());
            let mut second = pin!(semaphore.acquire());
            let mut first = pin!(semaphore.acquire_many(2));
            assert_pending(first.as_mut(), &wakes[0]);
            assert_pending(second.as_mut(), &wakes[1]);
            assert_pending(third.as_mut(), &wakes[2]);
            semaphore.release(3);
            expect_ready(first.as_mut(), &wakes[0]).unwrap().forget();
        } // `second` was granted and hands its permit to `third`, which
          // returns it to the count
        semaphore.try_acquire().unwrap().forget();
        assert_eq!(semaphore.available_permits(), 0);

        {
            let holder = mutex.try_lock().unwrap();
            let mut first = pin!(mutex.lock());
            let mut second = pin!(mutex.lock());
            assert_pending(first.as_mut(), &wakes[0]);
            assert_pending(second.as_mut(), &wakes[1]);
            drop(holder);
            *expect_ready(first.as_mut(), &wakes[0]) += 1;
        }

        {
            let guard = condition.mutex().try_lock().unwrap();
            // In an `Option` so it can be dropped in place while pinned.
            let mut first = pin!(Some(condition.wait(guard)));
            assert_pending(first.as_mut().as_pin_mut().unwrap(), &wakes[0]);
            let guard = condition.mutex().try_lock().unwrap();
            let mut second = pin!(condition.wait(guard));
            assert_pending(second.as_mut(), &wakes[1]);
            condition.notify(1);
            first.set(None); // passes its notification to `second`
            drop(expect_ready(second.as_mut(), &wakes[1]));
        }
    };
    round(); // grows the waiter slabs to their working size
    for _ in 0..100 {
        assert_eq!(allocations_in(&mut round), 0);
    }
    assert_eq!(mutex.into_inner(), 101);
}

// --------------------------------------------------------- Send + Sync

#[test]
fn primitives_guards_and_futures_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Semaphore>();
    send_sync::<BoundedSemaphore>();
    send_sync::<weft_primitives::SemaphorePermit<'static>>();
    send_sync::<weft_primitives::OwnedSemaphorePermit>();
    send_sync::<weft_primitives::Acquire<'static>>();
    send_sync::<weft_primitives::AcquireOwned>();
    send_sync::<Mutex<Vec<u8>>>();
    send_sync::<Lock>();
    send_sync::<MutexGuard<'static, Vec<u8>>>();
    send_sync::<weft_primitives::OwnedMutexGuard<Vec<u8>>>();
    send_sync::<weft_primitives::LockFuture<'static, Vec<u8>>>();
    send_sync::<weft_primitives::LockOwnedFuture<Vec<u8>>>();
    send_sync::<Condition<Vec<u8>>>();
    send_sync::<weft_primitives::ConditionWait<'static, Vec<u8>>>();
    // A `Mutex` makes a `Send`-only value shareable, as std's does.
    send_sync::<Mutex<Cell<u8>>>();
}

// ------------------------------------------- contention: tokio multi-thread

/// Runs `tasks` copies of `work` on the current tokio runtime and waits.
async fn run_tasks<F, Fut>(tasks: usize, work: F)
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let handles: Vec<_> = (0..tasks).map(|task| tokio::spawn(work(task))).collect();
    for handle in handles {
        handle.await.expect("task panicked");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tokio_mutex_counts_exactly() {
    let counter = Arc::new(Mutex::new(0usize));
    run_tasks(8, |_| {
        let counter = counter.clone();
        async move {
            for _ in 0..1000 {
                let mut guard = counter.lock().await;
                let seen = *guard;
                tokio::task::yield_now().await; // hold the lock across a suspension
                *guard = seen + 1;
            }
        }
    })
    .await;
    assert_eq!(*counter.lock().await, 8000);
}

/// Tracks how many permits are in use and the most ever seen at once.
#[derive(Default)]
struct HighWater {
    in_use: AtomicUsize,
    most: AtomicUsize,
}

impl HighWater {
    fn enter(&self, permits: usize) {
        let now = self.in_use.fetch_add(permits, Ordering::SeqCst) + permits;
        self.most.fetch_max(now, Ordering::SeqCst);
    }

    fn leave(&self, permits: usize) {
        self.in_use.fetch_sub(permits, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tokio_semaphore_never_exceeds_its_permits_even_with_cancellation() {
    const PERMITS: usize = 3;
    let semaphore = Arc::new(Semaphore::new(PERMITS));
    let high_water = Arc::new(HighWater::default());
    let cancelled = Arc::new(AtomicUsize::new(0));
    run_tasks(16, |task| {
        let (semaphore, high_water, cancelled) =
            (semaphore.clone(), high_water.clone(), cancelled.clone());
        async move {
            let wanted = 1 + task % PERMITS;
            for _ in 0..200 {
                // Race the acquire against one yield: if the acquire is not
                // granted by then, it is dropped — cancellation under load.
                let acquire = semaphore.acquire_many(wanted);
                let yielded = tokio::task::yield_now();
                match futures::future::select(pin!(acquire), pin!(yielded)).await {
                    futures::future::Either::Left((permit, _)) => {
                        let permit = permit.unwrap();
                        high_water.enter(wanted);
                        tokio::task::yield_now().await;
                        high_water.leave(wanted);
                        drop(permit);
                    }
                    futures::future::Either::Right(_) => {
                        cancelled.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }
        }
    })
    .await;
    assert!(high_water.most.load(Ordering::SeqCst) <= PERMITS);
    assert_eq!(semaphore.available_permits(), PERMITS, "no permit was lost");
    assert!(!semaphore.locked());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tokio_fair_semaphore_serves_every_task() {
    let semaphore = Arc::new(Semaphore::new(1));
    let served = Arc::new(AtomicUsize::new(0));
    run_tasks(8, |_| {
        let (semaphore, served) = (semaphore.clone(), served.clone());
        async move {
            for _ in 0..500 {
                let _permit = semaphore.acquire().await.unwrap();
                served.fetch_add(1, Ordering::SeqCst);
            }
        }
    })
    .await;
    assert_eq!(served.load(Ordering::SeqCst), 4000);
    assert_eq!(semaphore.available_permits(), 1);
}

/// A bounded buffer: one lock shared by a "not full" and a "not empty"
/// condition, the classic use of two conditions on one mutex.
struct BoundedBuffer {
    not_full: Condition<VecDeque<usize>>,
    not_empty: Condition<VecDeque<usize>>,
    capacity: usize,
}

impl BoundedBuffer {
    fn new(capacity: usize) -> Self {
        let items = Arc::new(Mutex::new(VecDeque::new()));
        Self {
            not_full: Condition::new(items.clone()),
            not_empty: Condition::new(items),
            capacity,
        }
    }

    async fn put(&self, item: usize) {
        let guard = self.not_full.lock().await;
        let mut guard = self
            .not_full
            .wait_for(guard, |items| items.len() < self.capacity)
            .await;
        guard.push_back(item);
        drop(guard);
        self.not_empty.notify(1);
    }

    async fn get(&self) -> usize {
        let guard = self.not_empty.lock().await;
        let mut guard = self
            .not_empty
            .wait_for(guard, |items| !items.is_empty())
            .await;
        let item = guard.pop_front().expect("the predicate saw an item");
        assert!(guard.len() < self.capacity);
        drop(guard);
        self.not_full.notify(1);
        item
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tokio_two_conditions_share_one_mutex() {
    const PER_TASK: usize = 500;
    let buffer = Arc::new(BoundedBuffer::new(4));
    let received = Arc::new(AtomicUsize::new(0));
    run_tasks(4, |task| {
        let (buffer, received) = (buffer.clone(), received.clone());
        async move {
            for item in 0..PER_TASK {
                if task % 2 == 0 {
                    buffer.put(item + 1).await;
                } else {
                    received.fetch_add(buffer.get().await, Ordering::SeqCst);
                }
            }
        }
    })
    .await;
    assert_eq!(received.load(Ordering::SeqCst), PER_TASK * (PER_TASK + 1));
    assert!(buffer.not_empty.mutex().lock().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tokio_bounded_semaphore_stays_within_its_bound() {
    let semaphore = Arc::new(BoundedSemaphore::new(2));
    let high_water = Arc::new(HighWater::default());
    run_tasks(8, |task| {
        let (semaphore, high_water) = (semaphore.clone(), high_water.clone());
        async move {
            for _ in 0..300 {
                let permit = semaphore.acquire().await.unwrap();
                high_water.enter(1);
                tokio::task::yield_now().await;
                high_water.leave(1);
                if task % 2 == 0 {
                    drop(permit);
                } else {
                    // The asyncio style: forget, then release by hand.
                    permit.forget();
                    semaphore.release(1).unwrap();
                }
            }
        }
    })
    .await;
    assert!(high_water.most.load(Ordering::SeqCst) <= 2);
    assert_eq!(semaphore.available_permits(), 2);
    assert!(semaphore.release(1).is_err());
}

// ------------------------------------------------ contention: plain threads

/// Runs `work` on `threads` OS threads, each driving its futures with
/// `futures::executor::block_on`.
fn on_threads(threads: usize, work: impl Fn(usize) + Send + Sync + 'static) {
    let work = Arc::new(work);
    let handles: Vec<_> = (0..threads)
        .map(|thread| {
            let work = work.clone();
            std::thread::spawn(move || work(thread))
        })
        .collect();
    for handle in handles {
        handle.join().expect("thread panicked");
    }
}

#[test]
fn threads_mutex_counts_exactly() {
    let counter = Arc::new(Mutex::new(0usize));
    let shared = counter.clone();
    on_threads(8, move |_| {
        for _ in 0..1000 {
            *block_on(shared.lock()) += 1;
        }
    });
    assert_eq!(*block_on(counter.lock()), 8000);
}

#[test]
fn threads_semaphore_never_exceeds_its_permits() {
    const PERMITS: usize = 2;
    let semaphore = Arc::new(Semaphore::new(PERMITS));
    let high_water = Arc::new(HighWater::default());
    let (shared, watch) = (semaphore.clone(), high_water.clone());
    on_threads(8, move |thread| {
        let wanted = 1 + thread % PERMITS;
        for _ in 0..1000 {
            let permit = block_on(shared.acquire_many(wanted)).unwrap();
            watch.enter(wanted);
            std::thread::yield_now();
            watch.leave(wanted);
            drop(permit);
        }
    });
    assert!(high_water.most.load(Ordering::SeqCst) <= PERMITS);
    assert_eq!(semaphore.available_permits(), PERMITS);
}

#[test]
fn threads_condition_handshake_loses_no_wake_up() {
    let condition = Arc::new(Condition::with_value(0usize));
    let shared = condition.clone();
    // Thread 0 waits for each odd value and answers with the next even one;
    // thread 1 does the opposite. A lost notification would hang the test.
    on_threads(2, move |thread| {
        for round in 0..500 {
            let turn = 2 * round + thread;
            block_on(async {
                let guard = shared.lock().await;
                let mut guard = shared.wait_for(guard, |value| *value == turn).await;
                *guard += 1;
            });
            shared.notify_all();
        }
    });
    assert_eq!(*block_on(condition.lock()), 1000);
}
