//! timeouts: the cost of timers that never fire.
//!
//! Most timeouts in a server guard work that finishes in time, and most
//! sleeps are cancelled; what they cost is an insert into the timer
//! structure and a removal. Two workloads measure that:
//!
//! * [`timeouts_ready`]: N × `timeout(1 s, ready(i))`, awaited; each must
//!   return `Some(i)` (the sum of the outputs is checked).
//! * [`sleeps_dropped`]: N × `sleep(1 s)` polled once (which registers its
//!   timer) and dropped (which must remove it); each poll must be pending.
//!
//! Whether a million of them leave memory behind is measured by the
//! compare binary, which runs them in a child process that counts its live
//! heap.

use std::time::Duration;

use super::{expect_eq, Verified};
use crate::runtimes::BenchRuntime;

/// The deadline that never passes during the workload.
const DEADLINE: Duration = Duration::from_secs(1);

/// `count` × `timeout(1 s, ready(i))`.
///
/// ```
/// use weft_benches::runtimes::{BenchRuntime, Tokio};
/// use weft_benches::workloads::timeouts_ready;
///
/// let rt = Tokio::new();
/// assert!(rt.block_on(timeouts_ready::<Tokio>(1_000)).is_ok());
/// ```
pub async fn timeouts_ready<R: BenchRuntime>(count: u64) -> Verified {
    let (mut sum, mut expired) = (0, 0);
    for i in 0..count {
        match R::timeout(DEADLINE, std::future::ready(i)).await {
            Some(output) => sum += output,
            None => expired += 1,
        }
    }
    expect_eq("timeouts that expired", 0, expired)?;
    expect_eq("sum of outputs", count * count.saturating_sub(1) / 2, sum)
}

/// `count` × `sleep(1 s)`, each polled once and dropped.
///
/// ```
/// use weft_benches::runtimes::{BenchRuntime, Weft};
/// use weft_benches::workloads::sleeps_dropped;
///
/// let rt = Weft::new();
/// assert!(rt.block_on(sleeps_dropped::<Weft>(1_000)).is_ok());
/// ```
pub async fn sleeps_dropped<R: BenchRuntime>(count: u64) -> Verified {
    let mut pending = 0;
    for _ in 0..count {
        if futures_lite::future::poll_once(R::sleep(DEADLINE))
            .await
            .is_none()
        {
            pending += 1;
        }
    }
    expect_eq("sleeps pending at their first poll", count, pending)
}
