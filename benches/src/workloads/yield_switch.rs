//! yield_switch: the cost of one trip round the run queue.
//!
//! T tasks each call `yield_now` K times, so the executor switches between
//! tasks T × K times. Each task counts its own yields and returns the count.

use super::{expect_eq, Verified};
use crate::runtimes::BenchRuntime;

/// `tasks` tasks × `yields` calls to `yield_now`.
///
/// ```
/// use weft_benches::runtimes::{BenchRuntime, Tokio};
/// use weft_benches::workloads::yield_switch;
///
/// let rt = Tokio::new();
/// assert!(rt.block_on(yield_switch(&rt, 10, 5)).is_ok());
/// ```
pub async fn yield_switch<R: BenchRuntime>(rt: &R, tasks: u64, yields: u64) -> Verified {
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            rt.spawn(async move {
                let mut done = 0;
                for _ in 0..yields {
                    R::yield_now().await;
                    done += 1;
                }
                done
            })
        })
        .collect();
    let mut total = 0;
    for handle in handles {
        total += handle.await;
    }
    expect_eq("yields completed", tasks * yields, total)
}
