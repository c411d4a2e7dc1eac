//! Floors of the task rows: a task is a boxed future and a poll.

use std::task::{Context, Poll};

use super::{noop_waker, round_robin, FloorTask};
use crate::workloads::{expect_eq, Verified};

/// spawn_join's floor: `tasks` futures `async move { i }`, `batch` at a
/// time boxed into a `Vec` and then each polled once to completion.
///
/// ```
/// assert!(weft_benches::floor::spawn_join(1_000, 100).is_ok());
/// ```
pub fn spawn_join(tasks: u64, batch: u64) -> Verified {
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    let mut batch_of: Vec<FloorTask<u64>> = Vec::with_capacity(batch.min(tasks) as usize);
    let (mut sum, mut pending) = (0, 0);
    let mut start = 0;
    while start < tasks {
        let end = tasks.min(start + batch.max(1));
        batch_of.extend((start..end).map(|i| Box::pin(async move { i }) as FloorTask<u64>));
        for mut task in batch_of.drain(..) {
            match task.as_mut().poll(&mut cx) {
                Poll::Ready(i) => sum += i,
                Poll::Pending => pending += 1,
            }
        }
        start = end;
    }
    expect_eq("tasks pending after one poll", 0, pending)?;
    expect_eq(
        "sum of task outputs",
        tasks * tasks.saturating_sub(1) / 2,
        sum,
    )
}

/// yield_switch's floor: `tasks` boxed futures × `yields` `yield_now`,
/// polled round-robin.
///
/// ```
/// assert!(weft_benches::floor::yield_switch(10, 5).is_ok());
/// ```
pub fn yield_switch(tasks: u64, yields: u64) -> Verified {
    let futures = (0..tasks)
        .map(|_| {
            Box::pin(async move {
                let mut done = 0u64;
                for _ in 0..yields {
                    futures_lite::future::yield_now().await;
                    done += 1;
                }
                done
            }) as FloorTask<u64>
        })
        .collect();
    let total: u64 = round_robin(futures).into_iter().sum();
    expect_eq("yields completed", tasks * yields, total)
}
