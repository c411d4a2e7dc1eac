//! spawn_join: the cost of creating, running and joining a task.
//!
//! N tasks are spawned, each returning its index; then every handle is
//! awaited in order. [`spawn_join_batched`] does the same in batches of B
//! tasks (spawn B, await B, and again), so that a long run does not hold
//! millions of tasks at once. The sum of the outputs must be `0 + 1 + … + (N - 1)`:
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
    spawn_join_batched(rt, tasks, tasks).await
}

/// Spawns `tasks` trivial tasks `batch` at a time, awaiting each batch's
/// handles before the next batch.
///
/// ```
/// use weft_benches::runtimes::{BenchRuntime, Smol};
/// use weft_benches::workloads::spawn_join_batched;
///
/// let rt = Smol::new();
/// assert!(rt.block_on(spawn_join_batched(&rt, 1_000, 300)).is_ok());
/// ```
pub async fn spawn_join_batched<R: BenchRuntime>(rt: &R, tasks: u64, batch: u64) -> Verified {
    let mut handles = Vec::with_capacity(batch.min(tasks) as usize);
    let mut sum = 0;
    let mut start = 0;
    while start < tasks {
        let end = tasks.min(start + batch.max(1));
        handles.extend((start..end).map(|i| rt.spawn(async move { i })));
        for handle in handles.drain(..) {
            sum += handle.await;
        }
        start = end;
    }
    expect_eq(
        "sum of task outputs",
        tasks * tasks.saturating_sub(1) / 2,
        sum,
    )
}
