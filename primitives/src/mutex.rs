//! An async mutex that owns its data, and asyncio's `Lock` on top of it.
//!
//! [`Mutex<T>`] is the crate's fair semaphore (the algorithm behind
//! [`Semaphore`](crate::Semaphore)) with one permit, next to the value it
//! protects:
//!
//! ```text
//!   Mutex<T>
//!   ┌──────────────────────────────┬───────────────────┐
//!   │ semaphore (1 permit)         │ UnsafeCell<T>     │
//!   └──────────────────────────────┴───────────────────┘
//!     lock()  = acquire the permit  → MutexGuard: &mut T
//!     drop(guard) = release it      → next waiter (FIFO)
//! ```
//!
//! Holding the permit is holding the lock, so every property of the
//! semaphore carries over without a line of new synchronisation code:
//!
//! * **Fair.** Tasks get the lock in the order they asked for it; a fresh
//!   [`lock`](Mutex::lock) or [`try_lock`](Mutex::try_lock) does not overtake
//!   a waiting task, even at the instant the lock is free.
//! * **Fast when uncontended.** Locking and unlocking are one atomic
//!   compare-and-swap each.
//! * **Cancel-safe.** Dropping a [`LockFuture`] before it completes loses
//!   nothing; if the lock had already been handed to it, the lock passes to
//!   the next waiter.
//! * The permit's release/acquire pair orders memory, so whatever one guard
//!   wrote is visible to the next.
//!
//! asyncio's `Lock` has no data; here it is [`Lock`], an alias for
//! `Mutex<()>`, with asyncio's method names (`acquire`, `locked`) as extra
//! methods on `Mutex<()>`. One implementation serves both, and a `Lock` can
//! still be used with every `Mutex` method (and with
//! [`Condition`](crate::Condition)).

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
// Owned guards hold std's `Arc`: only std's smart pointers may be `self`
// receivers, and it is the type users hold.
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::facade::UnsafeCell;
use crate::semaphore::raw::{AcquireState, RawSemaphore};
use crate::semaphore::AcquireError;

/// A fair, cancel-safe async mutex protecting a `T`.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use weft_primitives::Mutex;
///
/// futures::executor::block_on(async {
///     let counter = Arc::new(Mutex::new(0));
///     {
///         let mut guard = counter.lock().await;
///         *guard += 1;
///     } // unlocked here
///     assert_eq!(*counter.lock().await, 1);
/// });
/// ```
pub struct Mutex<T> {
    /// One permit: whoever holds it may touch `value`.
    semaphore: RawSemaphore,
    value: UnsafeCell<T>,
}

// SAFETY: the value is only reached through a guard, and only one guard can
// exist at a time (it holds the semaphore's single permit), so sharing the
// mutex between threads hands the value from thread to thread but never
// shares it: `T: Send` is enough, as for `std::sync::Mutex`.
unsafe impl<T: Send> Sync for Mutex<T> {}

impl<T> Mutex<T> {
    /// Creates an unlocked mutex holding `value`.
    pub fn new(value: T) -> Self {
        Self {
            semaphore: RawSemaphore::new(1),
            value: UnsafeCell::new(value),
        }
    }

    /// Waits for the lock and returns a guard that unlocks on drop.
    ///
    /// Waiters get the lock first-in, first-out. The future is cancel-safe.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let mutex = weft_primitives::Mutex::new(String::new());
    /// mutex.lock().await.push_str("hello");
    /// assert_eq!(*mutex.lock().await, "hello");
    /// # });
    /// ```
    pub fn lock(&self) -> LockFuture<'_, T> {
        LockFuture {
            mutex: self,
            request: AcquireState::new(1),
        }
    }

    /// Takes the lock if it is free and no task is waiting for it.
    ///
    /// # Examples
    ///
    /// ```
    /// let mutex = weft_primitives::Mutex::new(1);
    /// let guard = mutex.try_lock().unwrap();
    /// assert!(mutex.try_lock().is_err());
    /// drop(guard);
    /// assert!(mutex.try_lock().is_ok());
    /// ```
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        match self.semaphore.try_take(1) {
            Ok(()) => Ok(MutexGuard { mutex: self }),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// Whether the lock is held, or tasks are waiting for it (a `lock()`
    /// would not succeed at once).
    pub fn is_locked(&self) -> bool {
        self.semaphore.locked()
    }

    /// Like [`lock`](Self::lock), but the guard holds an `Arc` of the mutex
    /// instead of borrowing it, so it can move into a spawned task.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use weft_primitives::Mutex;
    ///
    /// # futures::executor::block_on(async {
    /// let mutex = Arc::new(Mutex::new(vec![]));
    /// let mut guard = mutex.clone().lock_owned().await;
    /// std::thread::spawn(move || guard.push(1)).join().unwrap();
    /// assert_eq!(*mutex.lock().await, [1]);
    /// # });
    /// ```
    pub fn lock_owned(self: Arc<Self>) -> LockOwnedFuture<T> {
        LockOwnedFuture {
            request: AcquireState::new(1),
            mutex: Some(self),
        }
    }

    /// Like [`try_lock`](Self::try_lock), with an owned guard.
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError> {
        match self.semaphore.try_take(1) {
            Ok(()) => Ok(OwnedMutexGuard { mutex: self }),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// Mutable access without locking: `&mut self` proves nobody else can
    /// hold the lock.
    pub fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self` is exclusive, so no guard (which borrows or
        // shares ownership of the mutex) can exist.
        self.value.with_mut(|value| unsafe { &mut *value })
    }

    /// Consumes the mutex and returns its value.
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }

    /// The value, shared.
    ///
    /// # Safety
    ///
    /// The caller holds the lock (owns a guard) for as long as the reference
    /// lives.
    unsafe fn value_ref(&self) -> &T {
        // SAFETY: the caller holds the lock, so nothing else accesses the
        // value while the reference lives.
        self.value.with(|value| unsafe { &*value })
    }

    /// The value, exclusively.
    ///
    /// # Safety
    ///
    /// The caller holds the lock (owns a guard) and no other reference into
    /// the value lives at the same time.
    #[allow(clippy::mut_from_ref)] // the lock, not `&self`, grants exclusivity
    unsafe fn value_mut(&self) -> &mut T {
        // SAFETY: the caller holds the lock and no other reference, so this
        // is the only access to the value while the reference lives.
        self.value.with_mut(|value| unsafe { &mut *value })
    }

    /// Gives the lock back (a guard is being dropped).
    fn unlock(&self) {
        self.semaphore.add_permits(1);
    }
}

/// asyncio's `Lock`: a mutex that protects no data, only a critical section.
///
/// It has all of [`Mutex`]'s methods, plus asyncio's names
/// [`acquire`](Mutex::acquire), [`try_acquire`](Mutex::try_acquire) and
/// [`locked`](Mutex::locked). Create one with `Lock::default()`.
///
/// # Examples
///
/// ```
/// use weft_primitives::Lock;
///
/// futures::executor::block_on(async {
///     let lock = Lock::default();
///     let guard = lock.acquire().await;
///     assert!(lock.locked());
///     drop(guard); // asyncio's release()
///     assert!(!lock.locked());
/// });
/// ```
pub type Lock = Mutex<()>;

/// The guard of a [`Lock`]; dropping it releases the lock.
pub type LockGuard<'a> = MutexGuard<'a, ()>;

/// asyncio's names, for a [`Lock`].
impl Mutex<()> {
    /// Waits for the lock: asyncio's `Lock.acquire()`. Release it by dropping
    /// the guard. Same as [`lock`](Mutex::lock).
    pub fn acquire(&self) -> LockFuture<'_, ()> {
        self.lock()
    }

    /// Takes the lock if it is free and nobody waits; same as
    /// [`try_lock`](Mutex::try_lock).
    pub fn try_acquire(&self) -> Result<LockGuard<'_>, TryLockError> {
        self.try_lock()
    }

    /// Whether a task holds the lock: asyncio's `Lock.locked()`.
    ///
    /// Between an unlock that hands the lock to a waiting task and that
    /// task's next run, nobody holds it: `locked()` is false then, as in
    /// asyncio, although a new [`acquire`](Lock::acquire) still queues
    /// behind the woken task and [`is_locked`](Mutex::is_locked) (would a
    /// `lock()` wait?) is true.
    ///
    /// ```
    /// let lock = weft_primitives::Lock::default();
    /// let guard = lock.try_acquire().unwrap();
    /// assert!(lock.locked());
    /// drop(guard);
    /// assert!(!lock.locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.semaphore.available_permits() == 0 && !self.semaphore.handing_over()
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}

impl<T: fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(guard) => out.field("value", &&*guard),
            Err(_) => out.field("value", &format_args!("<locked>")),
        };
        out.finish()
    }
}

/// Checks the outcome of acquiring the mutex's permit. A mutex never closes
/// its semaphore, so the acquire cannot fail.
fn expect_granted(result: Result<(), AcquireError>) {
    if let Err(error) = result {
        unreachable!("a mutex never closes its semaphore, yet: {error}");
    }
}

/// Future of [`Mutex::lock`]; cancel-safe (see the [module
/// docs](crate::mutex)).
#[must_use = "futures do nothing unless polled"]
pub struct LockFuture<'a, T> {
    mutex: &'a Mutex<T>,
    request: AcquireState,
}

impl<'a, T> Future for LockFuture<'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mutex = this.mutex;
        this.request
            .poll_acquire(&mutex.semaphore, cx)
            .map(|result| {
                expect_granted(result);
                MutexGuard { mutex }
            })
    }
}

impl<T> Drop for LockFuture<'_, T> {
    fn drop(&mut self) {
        self.request.cancel(&self.mutex.semaphore);
    }
}

impl<T> fmt::Debug for LockFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockFuture")
            .field("request", &self.request)
            .finish_non_exhaustive()
    }
}

/// Future of [`Mutex::lock_owned`]; cancel-safe like [`LockFuture`].
#[must_use = "futures do nothing unless polled"]
pub struct LockOwnedFuture<T> {
    request: AcquireState,
    /// Moves into the guard on success.
    mutex: Option<Arc<Mutex<T>>>,
}

impl<T> Future for LockOwnedFuture<T> {
    type Output = OwnedMutexGuard<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mutex = this
            .mutex
            .as_deref()
            .expect("a lock future was polled after it completed");
        expect_granted(std::task::ready!(this
            .request
            .poll_acquire(&mutex.semaphore, cx)));
        let mutex = this.mutex.take().expect("checked above");
        Poll::Ready(OwnedMutexGuard { mutex })
    }
}

impl<T> Drop for LockOwnedFuture<T> {
    fn drop(&mut self) {
        if let Some(mutex) = &self.mutex {
            self.request.cancel(&mutex.semaphore);
        }
    }
}

impl<T> fmt::Debug for LockOwnedFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockOwnedFuture")
            .field("request", &self.request)
            .finish_non_exhaustive()
    }
}

/// Proof of holding a [`Mutex`]'s lock, giving access to its value; the
/// lock is released when this is dropped.
#[must_use = "the lock is released at once if the guard is not kept"]
pub struct MutexGuard<'a, T> {
    mutex: &'a Mutex<T>,
}

impl<'a, T> MutexGuard<'a, T> {
    /// The mutex this guard locks. An associated function rather than a
    /// method, so that it never shadows a method of `T`.
    pub(crate) fn mutex(this: &Self) -> &'a Mutex<T> {
        this.mutex
    }
}

// SAFETY: through `&MutexGuard` another thread can only reach `&T`, which is
// sound to share when `T: Sync` (the same rule as `std::sync::MutexGuard`).
unsafe impl<T: Sync> Sync for MutexGuard<'_, T> {}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard holds the lock for as long as it lives, and the
        // returned reference cannot outlive the guard.
        unsafe { self.mutex.value_ref() }
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard holds the lock, and `&mut self` makes the
        // returned reference the only one into the value while it lives.
        unsafe { self.mutex.value_mut() }
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.mutex.unlock();
    }
}

impl<T: fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Like [`MutexGuard`], but it holds an `Arc` of the mutex, so it can move
/// into a spawned task; the lock is released when this is dropped.
#[must_use = "the lock is released at once if the guard is not kept"]
pub struct OwnedMutexGuard<T> {
    mutex: Arc<Mutex<T>>,
}

// SAFETY: through `&OwnedMutexGuard` another thread can only reach `&T`
// (sound for `T: Sync`); `T: Send` is what sharing the `Arc<Mutex<T>>` it
// holds requires anyway.
unsafe impl<T: Send + Sync> Sync for OwnedMutexGuard<T> {}

impl<T> Deref for OwnedMutexGuard<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard holds the lock for as long as it lives, and the
        // returned reference cannot outlive the guard.
        unsafe { self.mutex.value_ref() }
    }
}

impl<T> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard holds the lock, and `&mut self` makes the
        // returned reference the only one into the value while it lives.
        unsafe { self.mutex.value_mut() }
    }
}

impl<T> Drop for OwnedMutexGuard<T> {
    fn drop(&mut self) {
        self.mutex.unlock();
    }
}

impl<T: fmt::Debug> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// [`Mutex::try_lock`] found the lock held, or tasks waiting for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TryLockError(());

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the mutex is locked or other tasks are waiting for it")
    }
}

impl Error for TryLockError {}

#[cfg(test)]
mod tests;
