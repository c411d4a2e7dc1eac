//! spawn_join: the cost of creating, running and joining a task.
//!
//! N tasks are spawned, each returning its index; then every handle is
//! awaited in order. The sum of the outputs must be `0 + 1 + … + (N - 1)`:
//! a task that never ran or ran twice changes it.

use super::{expect_eq, Verified};
use crate::runtimes::BenchRuntime;

/// Spawns `tasks` trivial tasks and awaits every handle.
///
/// ```
/// use weft_benches::runtimes::{BenchRuntime, Weft};
/// use weft_benches::workloads::spawn_join;
///
/// let rt = Weft::new();
/// assert!(rt.block_on(spawn_join(&rt, 100)).is_ok());
/// ```
pub async fn spawn_join<R: BenchRuntime>(rt: &R, tasks: u64) -> Verified {
    let handles: Vec<_> = (0..tasks).map(|i| rt.spawn(async move { i })).collect();
    let mut sum = 0;
    for handle in handles {
        sum += handle.await;
    }
    expect_eq(
        "sum of task outputs",
        tasks * tasks.saturating_sub(1) / 2,
        sum,
    )
}
