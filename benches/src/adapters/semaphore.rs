//! Counting semaphores: weft's, tokio's and async-lock's.
//!
//! All three are fair (first come, first served) and hand back the permit
//! when the returned guard is dropped, so the workload is the same code on
//! each.

use std::future::Future;

/// A counting semaphore whose permit is returned on drop.
///
/// ```
/// use weft_benches::adapters::AsyncSemaphore;
///
/// async fn hold_two<S: AsyncSemaphore>(semaphore: &S) {
///     let _first = semaphore.acquire().await;
///     let _second = semaphore.acquire().await;
/// }
///
/// let weft = weft_primitives::Semaphore::new(2);
/// futures_lite::future::block_on(hold_two(&weft));
/// assert_eq!(weft.available_permits(), 2);
/// ```
pub trait AsyncSemaphore: Send + Sync + 'static {
    /// One permit; dropping it releases the permit.
    type Permit<'a>: Send
    where
        Self: 'a;

    /// A semaphore with `permits` permits.
    fn new(permits: usize) -> Self;

    /// Waits for one permit.
    fn acquire(&self) -> impl Future<Output = Self::Permit<'_>> + Send;
}

impl AsyncSemaphore for weft_primitives::Semaphore {
    type Permit<'a> = weft_primitives::SemaphorePermit<'a>;

    fn new(permits: usize) -> Self {
        weft_primitives::Semaphore::new(permits)
    }

    async fn acquire(&self) -> Self::Permit<'_> {
        weft_primitives::Semaphore::acquire(self)
            .await
            .expect("the benchmark never closes the semaphore")
    }
}

impl AsyncSemaphore for tokio::sync::Semaphore {
    type Permit<'a> = tokio::sync::SemaphorePermit<'a>;

    fn new(permits: usize) -> Self {
        tokio::sync::Semaphore::new(permits)
    }

    async fn acquire(&self) -> Self::Permit<'_> {
        tokio::sync::Semaphore::acquire(self)
            .await
            .expect("the benchmark never closes the semaphore")
    }
}

impl AsyncSemaphore for async_lock::Semaphore {
    type Permit<'a> = async_lock::SemaphoreGuard<'a>;

    fn new(permits: usize) -> Self {
        async_lock::Semaphore::new(permits)
    }

    fn acquire(&self) -> impl Future<Output = Self::Permit<'_>> + Send {
        async_lock::Semaphore::acquire(self)
    }
}
