//! One-shot broadcast: weft's `Event`, and the flag-plus-notifier that
//! tokio and smol users build in its place.
//!
//! asyncio's `Event` is a flag: `set` releases every task waiting, and a
//! `wait` on a set event returns at once. tokio has no such type; the
//! closest faithful counterpart is an `AtomicBool` next to a
//! `tokio::sync::Notify`, woken with `notify_waiters` ([`NotifyEvent`]).
//! `watch::channel(false)` would be the other candidate, but it also keeps
//! a version per receiver and needs a receiver per waiter, which is more
//! than an event does. smol's building block for the same job is
//! `event_listener::Event` ([`ListenerEvent`]).
//!
//! Both counterparts follow their library's documented no-lost-wake-up
//! recipe: register interest first, then check the flag, then sleep.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};

/// An event: `set` releases every waiter, `wait` on a set event returns at
/// once.
///
/// ```
/// use weft_benches::adapters::{AsyncEvent, NotifyEvent};
///
/// let event = NotifyEvent::new();
/// event.set();
/// futures_lite::future::block_on(event.wait()); // already set: returns
/// ```
pub trait AsyncEvent: Send + Sync + 'static {
    /// A cleared event.
    fn new() -> Self;

    /// Sets the flag and wakes every waiter.
    fn set(&self);

    /// Waits until the flag is set.
    fn wait(&self) -> impl Future<Output = ()> + Send + '_;
}

impl AsyncEvent for weft_primitives::Event {
    fn new() -> Self {
        weft_primitives::Event::new()
    }

    fn set(&self) {
        weft_primitives::Event::set(self);
    }

    fn wait(&self) -> impl Future<Output = ()> + Send + '_ {
        weft_primitives::Event::wait(self)
    }
}

/// tokio's stand-in for an event: a flag and a `Notify` whose
/// `notify_waiters` wakes everyone registered.
#[derive(Debug, Default)]
pub struct NotifyEvent {
    flag: AtomicBool,
    notify: tokio::sync::Notify,
}

impl AsyncEvent for NotifyEvent {
    fn new() -> Self {
        Self::default()
    }

    fn set(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    async fn wait(&self) {
        let mut notified = pin!(self.notify.notified());
        // Registered before the check: a `set` after it wakes us.
        notified.as_mut().enable();
        if !self.flag.load(Ordering::SeqCst) {
            notified.await;
        }
    }
}

/// smol's stand-in for an event: a flag and an `event_listener::Event`.
#[derive(Debug, Default)]
pub struct ListenerEvent {
    flag: AtomicBool,
    listeners: event_listener::Event,
}

impl AsyncEvent for ListenerEvent {
    fn new() -> Self {
        Self::default()
    }

    fn set(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.listeners.notify(usize::MAX);
    }

    async fn wait(&self) {
        if self.flag.load(Ordering::SeqCst) {
            return;
        }
        // Registered before the second check: a `set` after it wakes us.
        let listener = self.listeners.listen();
        if !self.flag.load(Ordering::SeqCst) {
            listener.await;
        }
    }
}
