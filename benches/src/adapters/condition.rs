//! Condition variables over a `u64`: weft's `Condition`, and the
//! mutex-plus-notifier that tokio and smol users build in its place.
//!
//! tokio has no condition variable. Its documented replacement is a
//! `tokio::sync::Mutex` next to a `tokio::sync::Notify`
//! ([`NotifyCondition`]): `notify(1)` becomes `notify_one` and `notify_all`
//! becomes `notify_waiters`. One difference matters for reading the
//! numbers: `notify_one` with nobody waiting stores a permit that the next
//! waiter consumes (a spurious wake-up the waiter's loop absorbs), where a
//! condition's notify with nobody waiting does nothing. smol's equivalent
//! is `async_lock::Mutex` next to an `event_listener::Event`
//! ([`ListenerCondition`]), notified with `notify(1.additional())` so that a
//! second notify wakes a second waiter, as a condition's does.
//!
//! The waiting side follows each library's recipe against lost wake-ups:
//! register with the notifier *before* taking the lock to check the state,
//! and sleep only after releasing it.
//!
//! ```text
//!   loop {
//!       register with the notifier      (notified.enable() / listen())
//!       lock; if ready(state) { then(state); return }
//!       unlock; sleep until notified
//!   }
//! ```

use std::future::Future;
use std::pin::pin;

use event_listener::IntoNotification;

/// A value under a lock that tasks wait on until a predicate holds.
///
/// ```
/// use weft_benches::adapters::AsyncCondition;
///
/// async fn take_ticket<C: AsyncCondition>(condition: &C) {
///     condition.update(|tickets| *tickets += 1).await;
///     condition.notify_one();
///     condition.wait_then(|tickets| *tickets > 0, |tickets| *tickets -= 1).await;
/// }
///
/// let weft = weft_primitives::Condition::with_value(0);
/// futures_lite::future::block_on(take_ticket(&weft));
/// ```
pub trait AsyncCondition: Send + Sync + 'static {
    /// A condition guarding `value`.
    fn new(value: u64) -> Self;

    /// Takes the lock, waits (lock released) until `ready` holds, then runs
    /// `then` on the value under the lock and returns its result.
    fn wait_then<T, Ready, Then>(
        &self,
        ready: Ready,
        then: Then,
    ) -> impl Future<Output = T> + Send + '_
    where
        T: Send + 'static,
        Ready: Fn(&u64) -> bool + Send + 'static,
        Then: FnOnce(&mut u64) -> T + Send + 'static;

    /// Runs `change` on the value under the lock; notifies nobody.
    fn update<T, Change>(&self, change: Change) -> impl Future<Output = T> + Send + '_
    where
        T: Send + 'static,
        Change: FnOnce(&mut u64) -> T + Send + 'static;

    /// Wakes the waiter that has waited longest.
    fn notify_one(&self);

    /// Wakes every waiter.
    fn notify_all(&self);
}

impl AsyncCondition for weft_primitives::Condition<u64> {
    fn new(value: u64) -> Self {
        weft_primitives::Condition::with_value(value)
    }

    async fn wait_then<T, Ready, Then>(&self, ready: Ready, then: Then) -> T
    where
        T: Send + 'static,
        Ready: Fn(&u64) -> bool + Send + 'static,
        Then: FnOnce(&mut u64) -> T + Send + 'static,
    {
        let guard = self.lock().await;
        let mut guard = self.wait_for(guard, move |value| ready(value)).await;
        then(&mut guard)
    }

    async fn update<T, Change>(&self, change: Change) -> T
    where
        T: Send + 'static,
        Change: FnOnce(&mut u64) -> T + Send + 'static,
    {
        change(&mut *self.lock().await)
    }

    fn notify_one(&self) {
        self.notify(1);
    }

    fn notify_all(&self) {
        weft_primitives::Condition::notify_all(self);
    }
}

/// tokio's stand-in for a condition variable: a `Mutex<u64>` and a `Notify`.
#[derive(Debug)]
pub struct NotifyCondition {
    value: tokio::sync::Mutex<u64>,
    notify: tokio::sync::Notify,
}

impl AsyncCondition for NotifyCondition {
    fn new(value: u64) -> Self {
        Self {
            value: tokio::sync::Mutex::new(value),
            notify: tokio::sync::Notify::new(),
        }
    }

    async fn wait_then<T, Ready, Then>(&self, ready: Ready, then: Then) -> T
    where
        T: Send + 'static,
        Ready: Fn(&u64) -> bool + Send + 'static,
        Then: FnOnce(&mut u64) -> T + Send + 'static,
    {
        loop {
            let mut notified = pin!(self.notify.notified());
            notified.as_mut().enable();
            let mut value = self.value.lock().await;
            if ready(&value) {
                return then(&mut value);
            }
            drop(value);
            notified.await;
        }
    }

    async fn update<T, Change>(&self, change: Change) -> T
    where
        T: Send + 'static,
        Change: FnOnce(&mut u64) -> T + Send + 'static,
    {
        change(&mut *self.value.lock().await)
    }

    fn notify_one(&self) {
        self.notify.notify_one();
    }

    fn notify_all(&self) {
        self.notify.notify_waiters();
    }
}

/// smol's stand-in for a condition variable: an `async_lock::Mutex<u64>`
/// and an `event_listener::Event`.
#[derive(Debug)]
pub struct ListenerCondition {
    value: async_lock::Mutex<u64>,
    listeners: event_listener::Event,
}

impl AsyncCondition for ListenerCondition {
    fn new(value: u64) -> Self {
        Self {
            value: async_lock::Mutex::new(value),
            listeners: event_listener::Event::new(),
        }
    }

    async fn wait_then<T, Ready, Then>(&self, ready: Ready, then: Then) -> T
    where
        T: Send + 'static,
        Ready: Fn(&u64) -> bool + Send + 'static,
        Then: FnOnce(&mut u64) -> T + Send + 'static,
    {
        loop {
            let listener = self.listeners.listen();
            let mut value = self.value.lock().await;
            if ready(&value) {
                return then(&mut value);
            }
            drop(value);
            listener.await;
        }
    }

    async fn update<T, Change>(&self, change: Change) -> T
    where
        T: Send + 'static,
        Change: FnOnce(&mut u64) -> T + Send + 'static,
    {
        change(&mut *self.value.lock().await)
    }

    fn notify_one(&self) {
        self.listeners.notify(1.additional());
    }

    fn notify_all(&self) {
        self.listeners.notify(usize::MAX);
    }
}
