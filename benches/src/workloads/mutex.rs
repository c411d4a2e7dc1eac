//! mutex_uncontended and mutex_contended.
//!
//! Uncontended: one task locks and unlocks N times, adding one each time;
//! this is the fast path (no waiter, no wake-up).
//!
//! Contended: T tasks each add one M times, and each holds the lock across
//! a `yield_now` between reading the counter and writing it back:
//!
//! ```text
//!   guard = lock().await; v = *guard; yield_now().await; *guard = v + 1
//! ```
//!
//! Every other task that runs in that yield finds the lock taken and waits,
//! so every unlock hands the lock to a waiter and wakes it. If mutual
//! exclusion failed, two tasks would write back the same `v + 1` and the
//! final count would fall short of T × M.

use std::sync::Arc;

use super::{expect_eq, Verified};
use crate::adapters::AsyncMutex;
use crate::runtimes::BenchRuntime;

/// One task, `locks` lock/unlock pairs on mutex `M`.
///
/// ```
/// use weft_benches::runtimes::{BenchRuntime, Weft};
/// use weft_benches::workloads::mutex_uncontended;
///
/// let rt = Weft::new();
/// let verified = rt.block_on(mutex_uncontended::<Weft, weft_primitives::Mutex<u64>>(&rt, 100));
/// assert!(verified.is_ok());
/// ```
pub async fn mutex_uncontended<R: BenchRuntime, M: AsyncMutex>(_rt: &R, locks: u64) -> Verified {
    let mutex = M::new(0);
    for _ in 0..locks {
        *mutex.lock().await += 1;
    }
    let count = *mutex.lock().await;
    expect_eq("counter", locks, count)
}

/// `tasks` tasks × `increments` increments of a counter behind mutex `M`,
/// the lock held across a `yield_now`.
///
/// ```
/// use weft_benches::runtimes::{BenchRuntime, Tokio};
/// use weft_benches::workloads::mutex_contended;
///
/// let rt = Tokio::new();
/// let verified = rt.block_on(mutex_contended::<Tokio, tokio::sync::Mutex<u64>>(&rt, 10, 10));
/// assert!(verified.is_ok());
/// ```
pub async fn mutex_contended<R: BenchRuntime, M: AsyncMutex>(
    rt: &R,
    tasks: u64,
    increments: u64,
) -> Verified {
    let mutex = Arc::new(M::new(0));
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let mutex = mutex.clone();
            rt.spawn(async move {
                for _ in 0..increments {
                    let mut guard = mutex.lock().await;
                    let seen = *guard;
                    R::yield_now().await;
                    *guard = seen + 1;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await;
    }
    let count = *mutex.lock().await;
    expect_eq("counter", tasks * increments, count)
}
