//! A condition variable bound to a weft [`Mutex`]: asyncio's `Condition`.
//!
//! A task holding the lock checks some state; if it is not what it needs, it
//! calls [`Condition::wait`], which releases the lock, sleeps until another
//! task calls [`notify`](Condition::notify), then takes the lock again. The
//! waking task changes the state (under the lock) and notifies.
//!
//! ```text
//!   waiter                                notifier
//!   guard = cond.lock().await
//!   while !ready(&guard):
//!     guard = cond.wait(guard).await ──┐
//!       1. join the waiter queue       │   guard = cond.lock().await
//!       2. release the lock  ──────────┼─▶ make ready; drop(guard)
//!       3. sleep                 ◀─────┼── cond.notify(1)
//!       4. re-acquire the lock ◀───────┘
//!   use the state; drop(guard)
//! ```
//!
//! # Guarantees
//!
//! * **No lost wake-up.** A waiter joins the queue *before* it releases the
//!   lock (steps 1 and 2 above), so a notify sent by anyone who takes the lock
//!   after it — or who does not take the lock at all — finds it.
//! * **FIFO.** `notify(n)` wakes the `n` waiters that have waited longest;
//!   they then re-acquire the lock in the mutex's FIFO order.
//! * **Cancel-safe.** Dropping a [`ConditionWait`] future never strands the
//!   lock or a notification: a notification is a grant of the crate's
//!   waiting protocol (`waiter_queue.rs`), recorded in the waiter's slot.
//!   Dropped while waiting, it simply leaves the queue. Dropped after it was notified but before it returned (also while
//!   re-acquiring the lock), it passes the notification to the next waiter —
//!   as asyncio does since Python 3.13; that waiter may then find nothing to
//!   do, which is the "spurious wake-up" every condition-variable loop
//!   tolerates — and the lock, if it was already handed over, passes on to
//!   the next task waiting for it.
//! * Waiters live in a slab whose slots are reused: no allocation per wait in
//!   steady state.
//!
//! The lock is an `Arc<Mutex<T>>`, so several conditions can share one lock
//! (a bounded buffer's "not full" and "not empty" conditions), as asyncio's
//! `Condition(lock)` allows.
//!
//! Unlike asyncio, [`notify`](Condition::notify) does not require the lock
//! to be held (as with `std::sync::Condvar`): because waiters register before
//! releasing the lock, changing the state under the lock and notifying after
//! dropping the guard cannot lose a wake-up either.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
// The shared lock is a std `Arc`, the type users create and clone.
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use crate::facade::Mutex as StateLock;
use crate::mutex::{LockFuture, Mutex, MutexGuard};
use crate::waiter_queue::{FirstPoll, WaitState, WaiterQueue};
use crate::wake_list::WakeList;

/// asyncio's `Condition`: tasks wait under a [`Mutex`] until notified.
///
/// `T` is the data the mutex protects; a plain `Condition` (`T = ()`)
/// guards a critical section, like asyncio's.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use weft_primitives::Condition;
///
/// futures::executor::block_on(async {
///     let ready = Arc::new(Condition::with_value(false));
///     let waiter = {
///         let ready = ready.clone();
///         async move {
///             let guard = ready.lock().await;
///             let guard = ready.wait_for(guard, |ready| *ready).await;
///             assert!(*guard);
///         }
///     };
///     let notifier = async {
///         *ready.lock().await = true;
///         ready.notify_all();
///     };
///     futures::join!(waiter, notifier);
/// });
/// ```
pub struct Condition<T = ()> {
    mutex: Arc<Mutex<T>>,
    /// A waiter's slot says whether it was notified: the grant it takes on
    /// its next poll, or hands on if it is dropped first.
    waiters: StateLock<WaiterQueue<bool>>,
}

impl<T> Condition<T> {
    /// A condition bound to `mutex`, which other conditions may share.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use weft_primitives::{Condition, Mutex};
    ///
    /// let buffer = Arc::new(Mutex::new(Vec::<u8>::new()));
    /// let not_empty = Condition::new(buffer.clone());
    /// let not_full = Condition::new(buffer);
    /// assert!(Arc::ptr_eq(not_empty.mutex(), not_full.mutex()));
    /// ```
    pub fn new(mutex: Arc<Mutex<T>>) -> Self {
        Self {
            mutex,
            waiters: StateLock::new(WaiterQueue::new()),
        }
    }

    /// A condition with a lock of its own, protecting `value`.
    pub fn with_value(value: T) -> Self {
        Self::new(Arc::new(Mutex::new(value)))
    }

    /// The lock this condition is bound to.
    pub fn mutex(&self) -> &Arc<Mutex<T>> {
        &self.mutex
    }

    /// Acquires the condition's lock (asyncio's `Condition.acquire()`).
    pub fn lock(&self) -> LockFuture<'_, T> {
        self.mutex.lock()
    }

    /// Whether the condition's lock is held (asyncio's `Condition.locked()`).
    pub fn locked(&self) -> bool {
        self.mutex.is_locked()
    }

    /// Releases the lock held by `guard`, waits until notified, re-acquires
    /// the lock and returns the new guard.
    ///
    /// The waiter is queued before the lock is released, so no notification
    /// sent after that can be missed. As with any condition variable, check
    /// the state again after waking (or use [`wait_for`](Self::wait_for)).
    /// The future is cancel-safe; see the [module docs](crate::condition).
    ///
    /// # Panics
    ///
    /// If `guard` belongs to a different mutex than the condition's: that is
    /// a bug in the caller (`std::sync::Condvar` panics likewise).
    pub fn wait<'a>(&'a self, guard: MutexGuard<'a, T>) -> ConditionWait<'a, T> {
        assert!(
            std::ptr::eq(MutexGuard::mutex(&guard), &*self.mutex),
            "Condition::wait was given the guard of a different mutex than the condition's"
        );
        ConditionWait {
            condition: self,
            guard: Some(guard),
            notification: WaitState::Idle,
            relock: None,
        }
    }

    /// Waits until `predicate` returns `true` for the protected value, and
    /// returns the guard with the lock held.
    ///
    /// The predicate runs under the lock: first at once, then after each
    /// wake-up. Cancel-safe like [`wait`](Self::wait).
    ///
    /// # Panics
    ///
    /// If `guard` belongs to a different mutex than the condition's.
    pub async fn wait_for<'a, F>(
        &'a self,
        mut guard: MutexGuard<'a, T>,
        mut predicate: F,
    ) -> MutexGuard<'a, T>
    where
        F: FnMut(&mut T) -> bool,
    {
        while !predicate(&mut guard) {
            guard = self.wait(guard).await;
        }
        guard
    }

    /// Wakes up to `n` waiters, those that have waited longest, and returns
    /// how many it woke. With no waiter, it does nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// let condition = weft_primitives::Condition::<()>::default();
    /// assert_eq!(condition.notify(1), 0); // nobody was waiting
    /// ```
    pub fn notify(&self, n: usize) -> usize {
        let mut wakeups = WakeList::new();
        let mut woken = 0;
        {
            let mut waiters = self.waiters.lock();
            while woken < n {
                let Some(notified) = waiters.grant_front(&mut wakeups) else {
                    break;
                };
                *notified = true;
                woken += 1;
            }
        }
        wakeups.wake_all();
        woken
    }

    /// Wakes every current waiter and returns how many it woke.
    ///
    /// Up to eight wakers are gathered without allocating; a larger
    /// crowd is gathered in one vector per call.
    pub fn notify_all(&self) -> usize {
        self.notify(usize::MAX)
    }
}

impl<T: Default> Default for Condition<T> {
    /// A condition with its own fresh lock around `T::default()`; for
    /// `Condition<()>` this is asyncio's `Condition()`.
    fn default() -> Self {
        Self::with_value(T::default())
    }
}

impl<T> fmt::Debug for Condition<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("locked", &self.locked())
            .finish_non_exhaustive()
    }
}

/// Future of [`Condition::wait`]: resolves to the guard, with the lock held
/// again, after a notification.
///
/// It goes through three stages: holding the caller's guard until its first
/// poll has queued it, waiting for a notification, then re-acquiring the
/// lock.
#[must_use = "futures do nothing unless polled; the lock stays held until then"]
pub struct ConditionWait<'a, T> {
    condition: &'a Condition<T>,
    /// The caller's guard, released once the first poll has queued us.
    guard: Option<MutexGuard<'a, T>>,
    notification: WaitState,
    /// Notified: taking the lock again.
    relock: Option<LockFuture<'a, T>>,
}

impl<'a, T> Future for ConditionWait<'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let (condition, waker) = (this.condition, cx.waker());
        if this.relock.is_none() {
            let guard = &mut this.guard;
            ready!(this.notification.poll(
                || {
                    let key = condition.waiters.lock().push_back(false, waker);
                    // Only now, with the waiter queued, may the lock go.
                    drop(guard.take());
                    FirstPoll::Queued(key)
                },
                |key| condition.waiters.lock().poll(key, waker).map(drop),
            ));
            this.relock = Some(condition.mutex.lock());
        }
        let relock = this.relock.as_mut().expect("notified: relocking");
        let guard = ready!(Pin::new(relock).poll(cx));
        this.relock = None;
        Poll::Ready(guard)
    }
}

impl<T> Drop for ConditionWait<'_, T> {
    fn drop(&mut self) {
        let notified = match self.notification.cancel() {
            Some(key) => self.condition.waiters.lock().cancel(key),
            None => match self.relock.take() {
                Some(relock) => {
                    // Dropping the lock future hands the lock on if it was
                    // granted.
                    drop(relock);
                    true
                }
                None => false,
            },
        };
        if notified {
            // This waiter will never act on its notification: pass it on.
            self.condition.notify(1);
        }
    }
}

impl<T> fmt::Debug for ConditionWait<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stage = if self.guard.is_some() {
            "holding the lock"
        } else if self.notification.is_waiting() {
            "waiting for a notification"
        } else if self.relock.is_some() {
            "re-acquiring the lock"
        } else {
            "done"
        };
        f.debug_struct("ConditionWait")
            .field("stage", &stage)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::poll;

    fn queued<T>(condition: &Condition<T>) -> usize {
        condition.waiters.lock().len()
    }

    #[test]
    fn waiter_registers_before_releasing_the_lock() {
        let condition = Condition::<()>::default();
        let guard = condition.mutex.try_lock().unwrap();
        let mut wait = condition.wait(guard);
        assert!(poll(&mut wait).is_pending());
        assert_eq!(queued(&condition), 1);
        assert!(!condition.locked());

        // A notify right after the release reaches it.
        assert_eq!(condition.notify(1), 1);
        assert!(matches!(poll(&mut wait), Poll::Ready(_)));
    }

    #[test]
    fn unpolled_wait_keeps_the_lock_and_registers_nothing() {
        let condition = Condition::<()>::default();
        let wait = condition.wait(condition.mutex.try_lock().unwrap());
        assert!(condition.locked());
        drop(wait);
        assert!(!condition.locked());
        assert_eq!(queued(&condition), 0);
    }

    #[test]
    fn waiter_slots_are_reused() {
        let condition = Condition::<()>::default();
        let mut capacity = None;
        for _ in 0..20 {
            let mut first = condition.wait(condition.mutex.try_lock().unwrap());
            assert!(poll(&mut first).is_pending());
            let mut second = condition.wait(condition.mutex.try_lock().unwrap());
            assert!(poll(&mut second).is_pending());
            condition.notify(1);
            drop(first); // notified: passes the notification to `second`
            assert!(matches!(poll(&mut second), Poll::Ready(_)));
            let now = condition.waiters.lock().capacity();
            assert_eq!(*capacity.get_or_insert(now), now);
        }
    }

    #[test]
    #[should_panic(expected = "different mutex")]
    fn foreign_guard_panics() {
        let condition = Condition::<()>::default();
        let other = Mutex::new(());
        let guard = other.try_lock().unwrap();
        let _wait = condition.wait(guard);
    }

    /// Two waits queued on `condition`, in order.
    fn two_waiters(condition: &Condition<()>) -> [ConditionWait<'_, ()>; 2] {
        [(); 2].map(|()| {
            let mut wait = condition.wait(condition.mutex.try_lock().unwrap());
            assert!(poll(&mut wait).is_pending());
            wait
        })
    }

    #[test]
    fn notify_wakes_at_most_n_waiters_longest_waiting_first() {
        let condition = Condition::<()>::default();
        let [mut first, mut second] = two_waiters(&condition);
        assert_eq!(condition.notify(1), 1);
        assert!(poll(&mut second).is_pending(), "only one was notified");
        let Poll::Ready(guard) = poll(&mut first) else {
            panic!("the longest waiter was notified");
        };
        drop(guard);
        assert_eq!(queued(&condition), 1);
        assert_eq!(condition.notify(5), 1, "only one was left to wake");
        assert!(matches!(poll(&mut second), Poll::Ready(_)));
    }

    #[test]
    fn notify_all_wakes_every_waiter_and_counts_them() {
        let condition = Condition::<()>::default();
        let [mut first, mut second] = two_waiters(&condition);
        assert_eq!(condition.notify_all(), 2);
        assert_eq!(queued(&condition), 0);
        drop(poll(&mut first));
        assert!(matches!(poll(&mut second), Poll::Ready(_)));
        assert_eq!(condition.notify_all(), 0);
    }

    #[test]
    fn wait_for_returns_at_once_when_the_predicate_holds_and_waits_otherwise() {
        let condition = Condition::with_value(0);
        let guard = condition.mutex.try_lock().unwrap();
        let mut at_once = Box::pin(condition.wait_for(guard, |value| *value == 0));
        let Poll::Ready(guard) = poll(&mut at_once) else {
            panic!("the predicate holds: no wait");
        };
        assert_eq!(queued(&condition), 0);
        let mut later = Box::pin(condition.wait_for(guard, |value| *value == 1));
        assert!(poll(&mut later).is_pending());
        *condition.mutex.try_lock().unwrap() = 1;
        condition.notify(1);
        let Poll::Ready(guard) = poll(&mut later) else {
            panic!("notified, and the predicate holds now");
        };
        assert_eq!(*guard, 1);
    }

    #[test]
    fn debug_shows_the_lock_and_the_stage_of_a_wait() {
        let condition = Condition::<()>::default();
        assert_eq!(format!("{condition:?}"), "Condition { locked: false, .. }");
        let mut wait = condition.wait(condition.mutex.try_lock().unwrap());
        assert_eq!(format!("{condition:?}"), "Condition { locked: true, .. }");
        assert_eq!(
            format!("{wait:?}"),
            r#"ConditionWait { stage: "holding the lock", .. }"#
        );
        assert!(poll(&mut wait).is_pending());
        assert_eq!(
            format!("{wait:?}"),
            r#"ConditionWait { stage: "waiting for a notification", .. }"#
        );
    }
}
