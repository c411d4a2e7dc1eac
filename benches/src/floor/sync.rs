//! Floors of the synchronisation rows: `parking_lot` locks, an atomic
//! permit count, and plain `VecDeque`s and `Vec`s of waiting tasks and
//! wakers, with the turn-taking done by a loop instead of a scheduler.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Waker;

use parking_lot::Mutex;

use super::{block_on, WakeCount};
use crate::workloads::{expect_eq, Verified};

/// mutex_uncontended's floor: one future, `locks` × lock, +1, unlock.
///
/// ```
/// assert!(weft_benches::floor::mutex_uncontended(1_000).is_ok());
/// ```
pub fn mutex_uncontended(locks: u64) -> Verified {
    let mutex = Mutex::new(0);
    block_on(async {
        for _ in 0..locks {
            *mutex.lock() += 1;
        }
    });
    let count = *mutex.lock();
    expect_eq("counter", locks, count)
}

/// A FIFO of waiting tasks, each known by the rounds it has left: the
/// queue a fair lock or semaphore keeps.
fn waiting_tasks(tasks: u64, rounds: u64) -> VecDeque<u64> {
    (0..tasks).filter(|_| rounds > 0).map(|_| rounds).collect()
}

/// mutex_contended's floor: `tasks` × `increments`, the lock handed to
/// the head of a FIFO of waiting tasks each time.
///
/// ```
/// assert!(weft_benches::floor::mutex_contended(10, 10).is_ok());
/// ```
pub fn mutex_contended(tasks: u64, increments: u64) -> Verified {
    let mutex = Mutex::new(0);
    let mut waiting = waiting_tasks(tasks, increments);
    while let Some(left) = waiting.pop_front() {
        let mut guard = mutex.lock();
        let seen = *guard;
        *guard = seen + 1;
        drop(guard);
        if left > 1 {
            waiting.push_back(left - 1);
        }
    }
    let count = *mutex.lock();
    expect_eq("counter", tasks * increments, count)
}

/// semaphore's floor: `tasks` × `rounds` on `permits` permits; each round
/// the first `permits` waiting tasks take one, hold them together, give
/// them back and queue again.
///
/// ```
/// assert!(weft_benches::floor::semaphore(3, 20, 2).is_ok());
/// ```
pub fn semaphore(permits: u64, tasks: u64, rounds: u64) -> Verified {
    let available = AtomicU64::new(permits);
    let mut waiting = waiting_tasks(tasks, rounds);
    let mut holding = Vec::with_capacity(permits as usize);
    let (mut most, mut done) = (0, 0);
    while !waiting.is_empty() {
        while holding.len() < permits as usize {
            let Some(left) = waiting.pop_front() else {
                break;
            };
            available.fetch_sub(1, Ordering::Relaxed);
            holding.push(left);
            most = most.max(holding.len() as u64);
        }
        for left in holding.drain(..) {
            available.fetch_add(1, Ordering::Relaxed);
            done += 1;
            if left > 1 {
                waiting.push_back(left - 1);
            }
        }
    }
    expect_eq("rounds completed", tasks * rounds, done)?;
    expect_eq("permits given back", permits, available.into_inner())?;
    expect_eq("most permits held at once", permits.min(tasks), most)
}

/// event_fanout's floor: `rounds` fresh `Vec`s of `waiters` wakers, each
/// drained and woken.
///
/// ```
/// assert!(weft_benches::floor::event_fanout(10, 3).is_ok());
/// ```
pub fn event_fanout(waiters: u64, rounds: u64) -> Verified {
    let (woken, waker) = WakeCount::waker();
    for _ in 0..rounds {
        let mut registered: Vec<Waker> = Vec::new();
        registered.extend((0..waiters).map(|_| waker.clone()));
        registered.drain(..).for_each(Waker::wake);
    }
    expect_eq("waiters released", waiters * rounds, woken.get())
}

/// condition_notify_one's floor: `round_trips` tickets, each added under a
/// lock, the head of a FIFO of `consumers` wakers woken, the ticket taken
/// under the lock and acknowledged under a second one.
///
/// ```
/// assert!(weft_benches::floor::condition_notify_one(3, 50).is_ok());
/// ```
pub fn condition_notify_one(consumers: u64, round_trips: u64) -> Verified {
    let (tickets, acks) = (Mutex::new(0), Mutex::new(0));
    let (woken, waker) = WakeCount::waker();
    let mut waiting: VecDeque<Waker> = (0..consumers).map(|_| waker.clone()).collect();
    let mut taken = 0;
    for _ in 0..round_trips {
        *tickets.lock() += 1;
        let Some(consumer) = waiting.pop_front() else {
            break;
        };
        consumer.wake_by_ref();
        *tickets.lock() -= 1;
        taken += 1;
        *acks.lock() += 1;
        *acks.lock() -= 1;
        waiting.push_back(consumer);
    }
    expect_eq("tickets taken", round_trips, taken)?;
    expect_eq("consumers woken", round_trips, woken.get())
}

/// condition_notify_all's floor: `rounds` rounds, each a `Vec` of `waiters`
/// wakers drained and woken, every waiter checking the generation under
/// one lock and acknowledging under another.
///
/// ```
/// assert!(weft_benches::floor::condition_notify_all(5, 20).is_ok());
/// ```
pub fn condition_notify_all(waiters: u64, rounds: u64) -> Verified {
    let (generation, acks) = (Mutex::new(0), Mutex::new(0));
    let (woken, waker) = WakeCount::waker();
    let mut seen = 0;
    for round in 1..=rounds {
        let mut registered: Vec<Waker> = Vec::with_capacity(waiters as usize);
        registered.extend((0..waiters).map(|_| waker.clone()));
        *generation.lock() = round;
        registered.drain(..).for_each(Waker::wake);
        for _ in 0..waiters {
            if *generation.lock() >= round {
                seen += 1;
            }
            *acks.lock() += 1;
        }
    }
    expect_eq("rounds seen by the waiters", waiters * rounds, seen)?;
    expect_eq("waiters woken", waiters * rounds, woken.get())?;
    let acked = *acks.lock();
    expect_eq("acknowledgements", waiters * rounds, acked)
}
