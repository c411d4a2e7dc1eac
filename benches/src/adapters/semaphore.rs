//! Counting semaphores: weft's, tokio's and async-lock's.
//!
//! All three are fair (first come, first served) and hand back the permit
//! when the returned guard is dropped, so the workload is the same code on
//! each.

use std::future::Future;

use futures::FutureExt as _;

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

/// Unwraps an acquire of a semaphore the benchmark never closes.
///
/// weft's and tokio's acquires return a `Result` (closing fails them),
/// async-lock's a guard. Each adapter returns its semaphore's own acquire
/// future, its output mapped by this where there is a `Result`, rather than
/// an `async fn` around it: the row then compares the semaphores, not the
/// wrappers (see [`BenchRuntime::timeout`](crate::runtimes::BenchRuntime::timeout)).
fn never_closed<P, E: std::fmt::Debug>(acquired: Result<P, E>) -> P {
    acquired.expect("the benchmark never closes the semaphore")
}

impl AsyncSemaphore for weft_primitives::Semaphore {
    type Permit<'a> = weft_primitives::SemaphorePermit<'a>;

    fn new(permits: usize) -> Self {
        weft_primitives::Semaphore::new(permits)
    }

    fn acquire(&self) -> impl Future<Output = Self::Permit<'_>> + Send {
        weft_primitives::Semaphore::acquire(self).map(never_closed)
    }
}

impl AsyncSemaphore for tokio::sync::Semaphore {
    type Permit<'a> = tokio::sync::SemaphorePermit<'a>;

    fn new(permits: usize) -> Self {
        tokio::sync::Semaphore::new(permits)
    }

    fn acquire(&self) -> impl Future<Output = Self::Permit<'_>> + Send {
        tokio::sync::Semaphore::acquire(self).map(never_closed)
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
