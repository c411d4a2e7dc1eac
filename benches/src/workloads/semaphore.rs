//! semaphore: many tasks sharing a few permits.
//!
//! T tasks each run R rounds of acquire / `yield_now` / release on a
//! semaphore of P permits (P much smaller than T), so most acquires wait
//! and most releases hand a permit to a waiter. Each task counts how many
//! tasks hold a permit as it gets one; the most seen at once must be
//! exactly P: more breaks the semaphore's promise, fewer means permits were
//! lost or never handed on.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::{expect_eq, Verified};
use crate::adapters::AsyncSemaphore;
use crate::runtimes::BenchRuntime;

/// How many tasks hold a permit now, and the most that ever did at once.
#[derive(Debug, Default)]
struct Holders {
    now: AtomicU64,
    most: AtomicU64,
}

/// `tasks` tasks × `rounds` rounds of acquire / yield / release on a
/// semaphore `S` with `permits` permits.
///
/// ```
/// use weft_benches::runtimes::{BenchRuntime, Weft};
/// use weft_benches::workloads::semaphore;
///
/// let rt = Weft::new();
/// let verified = rt.block_on(semaphore::<Weft, weft_primitives::Semaphore>(&rt, 3, 20, 2));
/// assert!(verified.is_ok());
/// ```
pub async fn semaphore<R: BenchRuntime, S: AsyncSemaphore>(
    rt: &R,
    permits: u64,
    tasks: u64,
    rounds: u64,
) -> Verified {
    let semaphore = Arc::new(S::new(permits as usize));
    let holders = Arc::new(Holders::default());
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let (semaphore, holders) = (semaphore.clone(), holders.clone());
            rt.spawn(async move {
                for _ in 0..rounds {
                    let permit = semaphore.acquire().await;
                    let now = holders.now.fetch_add(1, Ordering::Relaxed) + 1;
                    holders.most.fetch_max(now, Ordering::Relaxed);
                    R::yield_now().await;
                    holders.now.fetch_sub(1, Ordering::Relaxed);
                    drop(permit);
                }
                rounds
            })
        })
        .collect();
    let mut done = 0;
    for handle in handles {
        done += handle.await;
    }
    expect_eq("rounds completed", tasks * rounds, done)?;
    expect_eq(
        "most permits held at once",
        permits.min(tasks),
        holders.most.load(Ordering::Relaxed),
    )
}
