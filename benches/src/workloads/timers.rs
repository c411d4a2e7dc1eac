//! timers: many tasks sleeping at once.
//!
//! N tasks each sleep between 1 and 20 ms (spread evenly by a fixed hash of
//! the task's index, so every run and every runtime sees the same
//! deadlines) and report the instant they woke. The figure of merit is the
//! *overhead*: the time from the first spawn to the last join, minus the
//! longest sleep. It covers spawning the sleepers, inserting their timers,
//! firing them and joining the tasks.
//!
//! Every sleeper must wake no earlier than its deadline (measured from
//! before the first spawn, which is earlier than its own start), and every
//! handle must be joined.
//!
//! Peak memory is not measured here: the compare binary runs this workload
//! alone in a child process and reads the child's high-water mark.

use std::time::{Duration, Instant};

use super::{expect_eq, Mismatch};
use crate::runtimes::BenchRuntime;

/// The longest sleep; sleeps are 1..=`LONGEST_MS` milliseconds.
const LONGEST_MS: u64 = 20;

/// What one run of [`timers`] measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimersOutcome {
    /// From before the first spawn to after the last join.
    pub elapsed: Duration,
    /// The longest sleep among the tasks.
    pub longest: Duration,
}

impl TimersOutcome {
    /// The time spent beyond the longest sleep.
    pub fn overhead(&self) -> Duration {
        self.elapsed.saturating_sub(self.longest)
    }
}

/// The sleep of task `index`: 1..=20 ms, spread by a multiplicative hash.
fn sleep_of(index: u64) -> Duration {
    let spread = index.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
    Duration::from_millis(1 + spread % LONGEST_MS)
}

/// `tasks` tasks each sleeping 1–20 ms; returns the elapsed time and the
/// longest sleep.
///
/// ```
/// use weft_benches::runtimes::{BenchRuntime, Weft};
/// use weft_benches::workloads::timers;
///
/// let rt = Weft::new();
/// let outcome = rt.block_on(timers(&rt, 100)).unwrap();
/// assert!(outcome.elapsed >= outcome.longest);
/// ```
pub async fn timers<R: BenchRuntime>(rt: &R, tasks: u64) -> Result<TimersOutcome, Mismatch> {
    let start = Instant::now();
    let sleepers: Vec<_> = (0..tasks)
        .map(|i| (sleep_of(i), rt.spawn_sleeper(sleep_of(i))))
        .collect();
    let (mut joined, mut early) = (0, 0);
    let mut longest = Duration::ZERO;
    for (sleep, sleeper) in sleepers {
        let woke = sleeper.await;
        joined += 1;
        if woke < start + sleep {
            early += 1;
        }
        longest = longest.max(sleep);
    }
    let elapsed = start.elapsed();
    expect_eq("sleepers joined", tasks, joined)?;
    expect_eq("sleepers woken before their deadline", 0, early)?;
    Ok(TimersOutcome { elapsed, longest })
}
