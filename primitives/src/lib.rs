//! asyncio's synchronisation primitives for Rust: fair, cancel-safe,
//! executor-independent and model-checked with loom.
//!
//! The primitives know nothing about any executor. They speak only
//! `std::task::{Context, Waker}`, so they work under weft's runtime, under
//! tokio's runtimes, under `futures::executor::block_on` and under loom, and
//! a task on one executor can release a task waiting on another.
//!
//! # Locks, semaphores and conditions
//!
//! * [`Semaphore`]: a counter of permits; `acquire` waits for one (or
//!   `acquire_many` for several) and the returned [`SemaphorePermit`] gives
//!   it back on drop. [`close`](Semaphore::close) fails every waiter.
//! * [`BoundedSemaphore`]: a semaphore whose `release` refuses to go above
//!   the initial value ([`BoundedReleaseError`]).
//! * [`Mutex<T>`]: a lock that owns the data it protects, built on a
//!   one-permit semaphore; [`Lock`] is `Mutex<()>`, asyncio's data-less lock.
//! * [`Condition<T>`]: tasks wait under a mutex until notified; several
//!   conditions can share one mutex.
//!
//! | asyncio                                   | weft                                                              |
//! |-------------------------------------------|-------------------------------------------------------------------|
//! | `Lock()`                                  | [`Lock::default()`](Lock)                                         |
//! | `async with lock:` / `lock.acquire()`     | `let guard = lock.acquire().await;` ([`Mutex::lock`] for a `Mutex<T>`) |
//! | `lock.release()`                          | `drop(guard)`                                                     |
//! | `lock.locked()`                           | [`Mutex::locked`] / [`Mutex::is_locked`]                          |
//! | `Semaphore(n)`                            | [`Semaphore::new(n)`](Semaphore::new)                             |
//! | `async with sem:` / `sem.acquire()`       | `let permit = sem.acquire().await?;` ([`Semaphore::acquire`])     |
//! | `sem.release()`                           | `drop(permit)`, or [`Semaphore::release(1)`](Semaphore::release) after [`forget`](SemaphorePermit::forget) |
//! | `sem.locked()`                            | [`Semaphore::locked`]                                             |
//! | `BoundedSemaphore(n)`                     | [`BoundedSemaphore::new(n)`](BoundedSemaphore::new)               |
//! | `ValueError` on an extra `release()`      | `Err(`[`BoundedReleaseError`]`)`, count unchanged                 |
//! | `Condition()` / `Condition(lock)`         | [`Condition::default()`](Condition) / [`Condition::new(Arc<Mutex<T>>)`](Condition::new) |
//! | `cond.wait()` / `cond.wait_for(pred)`     | `guard = cond.wait(guard).await` / [`cond.wait_for(guard, pred)`](Condition::wait_for) |
//! | `cond.notify(n)` / `cond.notify_all()`    | [`Condition::notify`] / [`Condition::notify_all`]                 |
//! | `task.cancel()` while waiting             | drop the future                                                   |
//!
//! What they guarantee:
//!
//! * **First come, first served.** Waiters are served in arrival order, and a
//!   newcomer (`acquire`, `try_acquire`, `lock`, `try_lock`) never overtakes
//!   them, even at the instant a permit is free: released permits go straight
//!   to the waiter at the head of the queue, like asyncio's semaphore since
//!   Python 3.11 and tokio's. A waiter for several permits gathers them at
//!   the head while the waiters behind it wait. As in asyncio 3.13, a
//!   waiter that was served but has not run yet still counts as waiting: a
//!   newcomer queues behind it, and `Semaphore::locked()` stays true
//!   (`Lock::locked()` is false then, as asyncio's: nobody holds the lock).
//! * **Cancellation is drop.** Dropping any future of this crate at any await
//!   point loses no permit, lock or notification. A future that was granted
//!   something and is dropped before it runs hands the grant to the next
//!   waiter. Every waiting future follows one protocol (queued, granted,
//!   then its grant taken or handed on), written once in `waiter_queue.rs`
//!   together with the argument for why nothing is lost.
//! * **Cheap when uncontended.** An acquire or a release that nobody waits on
//!   is one compare-and-swap on one atomic word: no lock, no allocation. The
//!   lock around the waiter queue is taken only when someone has to wait.
//! * **No allocation per wait in steady state.** Waiters live in a slab whose
//!   slots are reused, and wakers are gathered on the stack (a batch of more
//!   than eight, as `notify_all` may wake, uses one vector).
//! * **`Send + Sync`** whenever the protected data is `Send`, guards and
//!   futures included, so they work across threads and in tokio's
//!   multi-thread runtime.
//! * **Model-checked.** Every atomic, mutex and cell is reached through
//!   [`facade`], which becomes loom's under `--cfg loom`; the loom models
//!   race acquire, release and cancellation on two or three threads.
//!
//! ```
//! use std::sync::Arc;
//! use weft_primitives::{Condition, Semaphore};
//!
//! // Four workers, at most two at a time; the main thread waits for all.
//! let slots = Arc::new(Semaphore::new(2));
//! let finished = Arc::new(Condition::with_value(0));
//! let workers: Vec<_> = (0..4)
//!     .map(|_| {
//!         let (slots, finished) = (slots.clone(), finished.clone());
//!         std::thread::spawn(move || {
//!             futures::executor::block_on(async {
//!                 let _permit = slots.acquire().await.unwrap();
//!                 *finished.lock().await += 1;
//!                 finished.notify_all();
//!             })
//!         })
//!     })
//!     .collect();
//! futures::executor::block_on(async {
//!     let guard = finished.lock().await;
//!     let guard = finished.wait_for(guard, |done| *done == 4).await;
//!     assert_eq!(*guard, 4);
//! });
//! workers.into_iter().for_each(|worker| worker.join().unwrap());
//! assert_eq!(slots.available_permits(), 2);
//! ```
//!
//! # Events, barriers and queues
//!
//! * [`Event`]: a flag tasks wait for. `set` releases every task waiting at
//!   that moment, even if `clear` follows before they run; `is_set` and a
//!   `wait` on a set event are one atomic load.
//! * [`Barrier`]: asyncio 3.13's barrier. `parties` tasks meet, each learns
//!   its arrival index and one of them is the leader; `reset` and `abort`
//!   fail the waiters, and the released parties that have not resumed yet,
//!   with [`BrokenBarrierError`]. Tasks arriving while the last cycle drains
//!   wait until it has left. A party dropped before the barrier fills is no
//!   longer counted.
//! * [`Queue`], [`LifoQueue`], [`PriorityQueue`]: asyncio's queues, one
//!   implementation ([`GenericQueue`]) over three storage policies, with
//!   `task_done`/`join` and Python 3.13's `shutdown`. Waiting getters and
//!   putters are served first come, first served, and a newcomer never takes
//!   an item or a slot already granted to a waiter. Errors hand the item
//!   back ([`PutError`], [`QueueShutDown`]). See the [`queue`] module for the
//!   algorithm.
//!
//! ```
//! use std::sync::Arc;
//! use weft_primitives::{Event, Queue};
//!
//! let queue = Arc::new(Queue::new(8));
//! let start = Arc::new(Event::new());
//! let worker = {
//!     let (queue, start) = (queue.clone(), start.clone());
//!     std::thread::spawn(move || {
//!         futures::executor::block_on(async {
//!             start.wait().await;
//!             let mut total = 0;
//!             let mut items = queue.items();
//!             while let Some(n) = items.next().await {
//!                 total += n;
//!                 queue.task_done().unwrap();
//!             }
//!             total
//!         })
//!     })
//! };
//! futures::executor::block_on(async {
//!     for n in 1..=100 {
//!         queue.put(n).await.unwrap();
//!         if n == 8 {
//!             start.set(); // the queue is full: let the worker go
//!         }
//!     }
//!     queue.join().await;
//! });
//! queue.shutdown(false);
//! assert_eq!(worker.join().unwrap(), 5050);
//! ```

pub mod facade;
#[cfg(test)]
mod test_support;
mod waiter_queue;
mod wake_list;

pub mod semaphore;
pub use semaphore::{
    Acquire, AcquireError, AcquireOwned, OwnedSemaphorePermit, Semaphore, SemaphorePermit,
    TryAcquireError,
};

pub mod bounded_semaphore;
pub use bounded_semaphore::{BoundedReleaseError, BoundedSemaphore};

pub mod mutex;
pub use mutex::{
    Lock, LockFuture, LockGuard, LockOwnedFuture, Mutex, MutexGuard, OwnedMutexGuard, TryLockError,
};

pub mod condition;
pub use condition::{Condition, ConditionWait};

pub mod event;
pub use event::{Event, EventWait};

pub mod barrier;
pub use barrier::{Barrier, BarrierWait, BarrierWaitResult, BrokenBarrierError};

pub mod queue;
pub use queue::{
    GenericQueue, GetError, LifoQueue, PriorityQueue, PutError, Queue, QueueShutDown, TaskDoneError,
};
