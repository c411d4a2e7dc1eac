//! loom models of `Mutex` (and so of asyncio's `Lock`, which is
//! `Mutex<()>`): `lock`, `try_lock`, the owned variants, and cancellation
//! (a future polled once, then dropped), on two or three threads.
//!
//! loom checks every access to the mutex's `UnsafeCell` for races (mutual
//! exclusion), the models check that no update is lost and that a newcomer
//! never takes the lock ahead of a queued waiter, and a lost wake-up shows
//! as a deadlock: a thread blocked in `block_on` that nobody will wake.
#![cfg(loom)]

use std::pin::Pin;
use std::task::Poll;

use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;
use weft_loom_tests::poll_once_then_drop;
use weft_primitives::Mutex;
use weft_tests::{poll_once, WakeCounter};

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

/// Owned guards cross threads. The main thread locks with `try_lock_owned`
/// and hands the guard to a thread that updates the value and drops it
/// there; a second thread waits in `lock_owned`, and the main thread polls
/// a `lock_owned` once and drops it (perhaps after the lock was handed to
/// it, which must then pass to the waiter). No update is lost, and the
/// lock is free at the end.
#[test]
fn owned_guards_and_a_cancelled_owned_lock_cross_threads() {
    loom::model(|| {
        // `lock_owned` takes the mutex in std's `Arc`.
        let mutex = std::sync::Arc::new(Mutex::new(0usize));
        let mut handed = mutex.clone().try_lock_owned().unwrap();
        let holder = thread::spawn(move || {
            *handed += 100;
            drop(handed);
        });
        let waiter = {
            let mutex = mutex.clone();
            thread::spawn(move || *block_on(mutex.lock_owned()) += 1)
        };
        if let Some(mut guard) = poll_once_then_drop(mutex.clone().lock_owned()) {
            *guard += 10;
        }
        holder.join().unwrap();
        waiter.join().unwrap();
        assert_no_update_lost(&mutex);
    });
}

/// A task is queued for the lock, which another thread releases while the
/// main thread calls `try_lock`, and calls it again once the release is
/// done: both calls must fail (the lock is held, then it is the queued
/// task's), and the queued task then gets the lock and sees the holder's
/// write. The second call covers the order loom 0.7 may not explore by
/// itself (see the `try_acquire` model in `semaphore.rs`).
#[test]
fn try_lock_does_not_overtake_a_queued_waiter() {
    loom::model(|| {
        let mutex = std::sync::Arc::new(Mutex::new(Vec::new()));
        let mut held = mutex.clone().try_lock_owned().unwrap();
        let counter = WakeCounter::new();
        let mut queued = mutex.lock();
        assert!(poll_once(Pin::new(&mut queued), &counter).is_pending());
        let holder = thread::spawn(move || {
            held.push("holder");
            drop(held);
        });
        let racing = mutex.try_lock().is_ok();
        holder.join().unwrap();
        let after = mutex.try_lock().is_ok();
        assert!(!racing && !after, "try_lock overtook a queued waiter");
        assert!(counter.woken(), "the released lock goes to the waiter");
        match poll_once(Pin::new(&mut queued), &counter) {
            Poll::Ready(mut guard) => guard.push("waiter"),
            Poll::Pending => panic!("a woken waiter holds the lock"),
        }
        assert_eq!(*mutex.try_lock().unwrap(), ["holder", "waiter"]);
    });
}
