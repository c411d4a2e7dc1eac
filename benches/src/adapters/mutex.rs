//! Async mutexes protecting a `u64`: weft's, tokio's and async-lock's.
//!
//! The trait is implemented on the library types themselves; a guard derefs
//! to the counter and unlocks when dropped, as each library's guard does.

use std::future::Future;
use std::ops::DerefMut;

/// An async mutex around a `u64`, the shape the mutex workloads need.
///
/// ```
/// use weft_benches::adapters::AsyncMutex;
///
/// async fn bump<M: AsyncMutex>(mutex: &M) -> u64 {
///     let mut guard = mutex.lock().await;
///     *guard += 1;
///     *guard
/// }
///
/// let weft = weft_primitives::Mutex::new(1);
/// assert_eq!(futures_lite::future::block_on(bump(&weft)), 2);
/// let tokio = tokio::sync::Mutex::new(1);
/// assert_eq!(futures_lite::future::block_on(bump(&tokio)), 2);
/// ```
pub trait AsyncMutex: Send + Sync + 'static {
    /// Proof of holding the lock; dropping it unlocks.
    type Guard<'a>: DerefMut<Target = u64> + Send
    where
        Self: 'a;

    /// An unlocked mutex holding `value`.
    fn new(value: u64) -> Self;

    /// Waits for the lock.
    fn lock(&self) -> impl Future<Output = Self::Guard<'_>> + Send;
}

impl AsyncMutex for weft_primitives::Mutex<u64> {
    type Guard<'a> = weft_primitives::MutexGuard<'a, u64>;

    fn new(value: u64) -> Self {
        weft_primitives::Mutex::new(value)
    }

    fn lock(&self) -> impl Future<Output = Self::Guard<'_>> + Send {
        weft_primitives::Mutex::lock(self)
    }
}

impl AsyncMutex for tokio::sync::Mutex<u64> {
    type Guard<'a> = tokio::sync::MutexGuard<'a, u64>;

    fn new(value: u64) -> Self {
        tokio::sync::Mutex::new(value)
    }

    fn lock(&self) -> impl Future<Output = Self::Guard<'_>> + Send {
        tokio::sync::Mutex::lock(self)
    }
}

impl AsyncMutex for async_lock::Mutex<u64> {
    type Guard<'a> = async_lock::MutexGuard<'a, u64>;

    fn new(value: u64) -> Self {
        async_lock::Mutex::new(value)
    }

    fn lock(&self) -> impl Future<Output = Self::Guard<'_>> + Send {
        async_lock::Mutex::lock(self)
    }
}
