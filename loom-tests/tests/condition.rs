//! loom models of `Condition`: `wait`, `notify(1)`, `notify(n)`,
//! `notify_all`, a wait cancelled at each of its stages, and two conditions
//! sharing one mutex.
//!
//! Each model is kept small on purpose (two threads, one notifying call):
//! a condition wait is a waiter queue, a mutex and a semaphore at once, and
//! one model racing three threads through all of them (a blocked waiter, a
//! notifier and a cancelled wait) did not finish in 15 minutes at a
//! preemption bound of 4. Its cases are split here into focused models. Waiters that only need to be queued in a
//! known order are polled on the main thread with a counting waker instead
//! of running on threads of their own; a waiter that must not be left
//! asleep runs on a thread, where a lost wake-up leaves it blocked for ever,
//! which loom reports as a deadlock.
#![cfg(loom)]

use std::pin::Pin;
use std::task::Poll;

use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;
use weft_primitives::{Condition, ConditionWait, Mutex};
use weft_tests::{poll_once, WakeCounter};

/// Where the notifier calls `notify` relative to its critical section.
#[derive(Clone, Copy)]
enum Notify {
    /// asyncio's way: set the flag and notify, then release the lock.
    UnderLock,
    /// Set the flag, release the lock, then notify (allowed in weft).
    AfterUnlock,
}

/// Sets the flag under the lock and wakes one waiter, in `order`.
fn set_and_notify(condition: &Condition<bool>, order: Notify) {
    let mut guard = block_on(condition.lock());
    *guard = true;
    match order {
        Notify::UnderLock => {
            condition.notify(1);
            drop(guard);
        }
        Notify::AfterUnlock => {
            drop(guard);
            condition.notify(1);
        }
    }
}

/// A waiter polled once on this thread: it queued and released the lock.
fn queue_a_waiter<'a>(
    condition: &'a Condition<bool>,
    counter: &WakeCounter,
) -> ConditionWait<'a, bool> {
    let guard = condition.mutex().try_lock().expect("nobody holds the lock");
    let mut wait = condition.wait(guard);
    assert!(
        poll_once(Pin::new(&mut wait), counter).is_pending(),
        "it just queued"
    );
    wait
}

/// A waiter on its own thread waits for the flag while the main thread sets
/// it and notifies once: the waiter either sees the flag or is queued before
/// it let the lock go, so the notification finds it.
fn blocked_waiter_model(order: Notify) {
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
        set_and_notify(&condition, order);
        waiter.join().unwrap();
        assert!(!condition.locked());
    });
}

#[test]
fn notify_under_lock_wakes_a_blocked_waiter() {
    blocked_waiter_model(Notify::UnderLock);
}

#[test]
fn notify_after_unlock_wakes_a_blocked_waiter() {
    blocked_waiter_model(Notify::AfterUnlock);
}

/// Two waiters queue, the first of them to be cancelled; a notifier sets the
/// flag and notifies once while the first waiter is polled a second time and
/// dropped: still queued, notified, or notified and re-acquiring the lock
/// (which the notifier may still hold, or may have handed to it). Whatever
/// the stage, the notification must reach the second waiter, and the lock
/// must be free at the end.
fn cancelled_wait_model(order: Notify) {
    loom::model(move || {
        let condition = Arc::new(Condition::with_value(false));
        let (cancelled_counter, second_counter) = (WakeCounter::new(), WakeCounter::new());
        let mut cancelled = queue_a_waiter(&condition, &cancelled_counter);
        let mut second = queue_a_waiter(&condition, &second_counter);
        let notifier = {
            let condition = condition.clone();
            thread::spawn(move || set_and_notify(&condition, order))
        };

        if let Poll::Ready(guard) = poll_once(Pin::new(&mut cancelled), &cancelled_counter) {
            // It took the notification but leaves the flag to the other
            // waiter, so, like any polite waiter, it passes it on.
            drop(guard);
            condition.notify(1);
        }
        drop(cancelled);
        notifier.join().unwrap();

        assert!(second_counter.woken(), "the notification was lost");
        match poll_once(Pin::new(&mut second), &second_counter) {
            Poll::Ready(guard) => assert!(*guard),
            Poll::Pending => panic!("a notified waiter must get the free lock"),
        }
        assert!(!condition.locked());
    });
}

#[test]
fn a_cancelled_wait_passes_on_a_notification_sent_under_lock() {
    cancelled_wait_model(Notify::UnderLock);
}

#[test]
fn a_cancelled_wait_passes_on_a_notification_sent_after_unlock() {
    cancelled_wait_model(Notify::AfterUnlock);
}

/// A waiter queues and will be cancelled; another arrives on its own thread
/// while the main thread sets the flag, notifies once (the first waiter)
/// and drops the first waiter before it ran. The arriving waiter sees the
/// flag, or was queued in time to get the notification passed on: left
/// asleep, it deadlocks the model.
#[test]
fn a_cancelled_wait_passes_its_notification_to_an_arriving_waiter() {
    loom::model(|| {
        let condition = Arc::new(Condition::with_value(false));
        let counter = WakeCounter::new();
        let cancelled = queue_a_waiter(&condition, &counter);
        let arriving = {
            let condition = condition.clone();
            thread::spawn(move || {
                block_on(async {
                    let guard = condition.lock().await;
                    assert!(*condition.wait_for(guard, |ready| *ready).await);
                });
            })
        };
        set_and_notify(&condition, Notify::UnderLock);
        assert!(counter.woken(), "the first waiter is notified first");
        drop(cancelled);
        arriving.join().unwrap();
        assert!(!condition.locked());
    });
}

/// Four waiters queue; `notify(2)` on another thread races the cancellation
/// of the first. The two longest-waiting live waiters are woken either way
/// (the cancelled one, if notified, passes its notification to the third),
/// and the fourth is not: `notify(n)` wakes `n` waiters, in FIFO order.
#[test]
fn notify_n_wakes_the_n_longest_waiters_despite_a_cancelled_one() {
    loom::model(|| {
        let condition = Arc::new(Condition::with_value(false));
        let counters: Vec<WakeCounter> = (0..4).map(|_| WakeCounter::new()).collect();
        let mut waits: Vec<_> = counters
            .iter()
            .map(|counter| queue_a_waiter(&condition, counter))
            .collect();
        let notifier = {
            let condition = condition.clone();
            thread::spawn(move || condition.notify(2))
        };
        drop(waits.remove(0));
        assert_eq!(notifier.join().unwrap(), 2, "two waiters were queued");

        let woken: Vec<bool> = counters[1..].iter().map(WakeCounter::woken).collect();
        assert_eq!(woken, [true, true, false], "woken: second, third, fourth");
        // The two woken ones take the lock in turn; the fourth waits on.
        let [second, third, fourth] = &mut waits[..] else {
            unreachable!("three waits are left")
        };
        let guard = match poll_once(Pin::new(second), &counters[1]) {
            Poll::Ready(guard) => guard,
            Poll::Pending => panic!("the lock is free"),
        };
        assert!(poll_once(Pin::new(&mut *third), &counters[2]).is_pending());
        drop(guard);
        assert!(matches!(
            poll_once(Pin::new(third), &counters[2]),
            Poll::Ready(_)
        ));
        assert!(poll_once(Pin::new(fourth), &counters[3]).is_pending());
    });
}

/// One waiter is queued, another arrives on its own thread while the main
/// thread sets the flag and calls `notify_all`: both must be released (a
/// waiter left asleep on its thread shows as a deadlock).
#[test]
fn notify_all_wakes_every_waiter() {
    loom::model(|| {
        let condition = Arc::new(Condition::with_value(false));
        let queued_counter = WakeCounter::new();
        let mut queued = queue_a_waiter(&condition, &queued_counter);
        let arriving = {
            let condition = condition.clone();
            thread::spawn(move || {
                block_on(async {
                    let guard = condition.lock().await;
                    assert!(*condition.wait_for(guard, |ready| *ready).await);
                });
            })
        };
        let mut guard = block_on(condition.lock());
        *guard = true;
        let woken = condition.notify_all();
        drop(guard);
        assert!((1..=2).contains(&woken), "{woken} waiters woken");

        assert!(queued_counter.woken());
        let guard = block_on(Pin::new(&mut queued));
        assert!(*guard);
        drop(guard);
        arriving.join().unwrap();
    });
}

/// A one-slot buffer with asyncio's two conditions, "not full" and "not
/// empty", on one shared mutex. The buffer starts full; a producer waits
/// for room to put item 1 while the consumer takes item 0 and then waits
/// for item 1. Each side notifies the other's condition, so a notification
/// sent on one condition while the other's waiter holds the shared lock, or
/// is between queueing and releasing it, must not be lost.
#[test]
fn two_conditions_sharing_a_mutex_hand_a_slot_back_and_forth() {
    loom::model(|| {
        let slot = std::sync::Arc::new(Mutex::new(Some(0)));
        let not_full = Arc::new(Condition::new(slot.clone()));
        let not_empty = Arc::new(Condition::new(slot));
        let producer = {
            let (not_full, not_empty) = (not_full.clone(), not_empty.clone());
            thread::spawn(move || {
                block_on(async {
                    let guard = not_full.lock().await;
                    let mut guard = not_full.wait_for(guard, |slot| slot.is_none()).await;
                    *guard = Some(1);
                    not_empty.notify(1);
                });
            })
        };
        let taken = block_on(async {
            let mut taken = Vec::new();
            for _ in 0..2 {
                let guard = not_empty.lock().await;
                let mut guard = not_empty.wait_for(guard, |slot| slot.is_some()).await;
                taken.extend(guard.take());
                not_full.notify(1);
            }
            taken
        });
        producer.join().unwrap();
        assert_eq!(taken, [0, 1]);
        assert!(!not_full.locked() && !not_empty.locked());
    });
}
