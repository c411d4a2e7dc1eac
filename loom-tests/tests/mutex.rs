//! loom models of `Mutex` (and so of asyncio's `Lock`, which is
//! `Mutex<()>`): `lock` and cancellation (a future polled once, then
//! dropped), on three threads.
//!
//! loom checks every access to the mutex's `UnsafeCell` for races (mutual
//! exclusion), the model checks that no update is lost, and a lost wake-up
//! shows as a deadlock: a thread blocked in `block_on` that nobody will
//! wake.
#![cfg(loom)]

use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;
use weft_loom_tests::poll_once_then_drop;
use weft_primitives::Mutex;

/// The holder added 100, the waiter 1, and the cancelled lock 10 if it got
/// the lock before it was dropped: any other total lost an update, and an
/// error means the lock was never given back.
fn assert_no_update_lost(mutex: &Mutex<usize>) {
    let total = mutex.try_lock().map(|guard| *guard);
    assert!(
        matches!(total, Ok(101 | 111)),
        "lost an update or the lock: {total:?}"
    );
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
                if let Some(mut guard) = poll_once_then_drop(mutex.lock()) {
                    *guard += 10;
                }
            })
        };

        *held += 100;
        drop(held);

        incrementer.join().unwrap();
        canceller.join().unwrap();
        assert_no_update_lost(&mutex);
    });
}
