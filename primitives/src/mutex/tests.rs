//! Unit tests of the mutex: hand-over on unlock, cancellation of lock
//! futures, owned guards, and what `Lock::locked` reports.

use super::*;
use crate::test_support::poll;

#[test]
fn guard_gives_exclusive_access_and_unlocks_on_drop() {
    let mutex = Mutex::new(5);
    let mut guard = mutex.try_lock().unwrap();
    *guard += 1;
    assert!(mutex.is_locked());
    assert_eq!(mutex.try_lock().unwrap_err(), TryLockError(()));
    drop(guard);
    assert!(!mutex.is_locked());
    assert_eq!(mutex.into_inner(), 6);
}

#[test]
fn unlock_hands_the_lock_to_the_waiter_not_to_try_lock() {
    let mutex = Mutex::new(());
    let guard = mutex.try_lock().unwrap();
    let mut waiter = mutex.lock();
    assert!(poll(&mut waiter).is_pending());
    drop(guard);
    assert!(mutex.try_lock().is_err(), "the waiter owns the lock now");
    let guard = match poll(&mut waiter) {
        Poll::Ready(guard) => guard,
        Poll::Pending => panic!("the waiter was handed the lock"),
    };
    drop(guard);
    assert!(!mutex.is_locked());
}

#[test]
fn get_mut_and_debug() {
    let mut mutex = Mutex::new(vec![1]);
    mutex.get_mut().push(2);
    assert_eq!(format!("{mutex:?}"), "Mutex { value: [1, 2] }");
    let guard = mutex.try_lock().unwrap();
    assert_eq!(format!("{mutex:?}"), "Mutex { value: <locked> }");
    assert_eq!(format!("{guard:?}"), "[1, 2]");
}

#[test]
fn lock_locked_is_true_only_while_a_guard_is_held() {
    let lock = Lock::default();
    assert!(!lock.locked());
    let guard = lock.try_acquire().unwrap();
    assert!(lock.locked());
    let mut waiter = lock.acquire();
    assert!(poll(&mut waiter).is_pending());
    drop(guard);
    // Handed to the waiter, which has not run: nobody holds the lock, but
    // a new acquire would still queue.
    assert!(!lock.locked());
    assert!(lock.is_locked());
    let Poll::Ready(guard) = poll(&mut waiter) else {
        panic!("the waiter was handed the lock");
    };
    assert!(lock.locked());
    drop(guard);
    assert!(!lock.locked());
}

#[test]
fn a_dropped_lock_future_passes_the_lock_on() {
    let mutex = Mutex::new(());
    let guard = mutex.try_lock().unwrap();
    let (mut queued, mut handed, mut last) = (mutex.lock(), mutex.lock(), mutex.lock());
    for waiter in [&mut queued, &mut handed, &mut last] {
        assert!(poll(waiter).is_pending());
    }
    drop(queued); // still waiting: it gives up its place
    drop(guard); // hands the lock to `handed`
    drop(handed); // handed the lock but never ran: passes it on
    assert!(matches!(poll(&mut last), Poll::Ready(_)));
}

#[test]
fn a_dropped_owned_lock_future_passes_the_lock_on() {
    let mutex = Arc::new(Mutex::new(()));
    let guard = mutex.clone().try_lock_owned().unwrap();
    let (mut queued, mut handed) = (mutex.clone().lock_owned(), mutex.clone().lock_owned());
    let mut last = mutex.clone().lock_owned();
    for waiter in [&mut queued, &mut handed, &mut last] {
        assert!(poll(waiter).is_pending());
    }
    drop(queued);
    drop(guard); // an owned guard unlocks on drop too
    drop(handed);
    let Poll::Ready(guard) = poll(&mut last) else {
        panic!("the lock was passed on to the last waiter");
    };
    drop(guard);
    assert!(!mutex.is_locked());
}

#[test]
fn debug_and_display_of_the_lock_futures_guards_and_error() {
    let mutex = Arc::new(Mutex::new(7));
    let guard = mutex.clone().try_lock_owned().unwrap();
    assert_eq!(format!("{guard:?}"), "7");
    let lock = mutex.lock();
    let lock_owned = mutex.clone().lock_owned();
    for (future, name) in [
        (format!("{lock:?}"), "LockFuture {"),
        (format!("{lock_owned:?}"), "LockOwnedFuture {"),
    ] {
        assert!(future.starts_with(name), "{future}");
        assert!(future.contains("request"), "{future}");
    }
    assert_eq!(
        mutex.try_lock().unwrap_err().to_string(),
        "the mutex is locked or other tasks are waiting for it"
    );
}
