//! Floor of the timer rows that never fire (`timeouts`, `sleeps dropped`):
//! a deadline computed and a timer inserted into a slot `Vec` and removed
//! again. The clock is read once per run, as a runtime's cached clock
//! lets it (a timeout whose future is ready at once needs no more).

use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::workloads::{expect_eq, Verified};

/// `count` × (a deadline 1 s from the run's start, into a slot `Vec`,
/// then removed).
///
/// ```
/// assert!(weft_benches::floor::timers_cancelled(1_000).is_ok());
/// ```
pub fn timers_cancelled(count: u64) -> Verified {
    let now = Instant::now();
    let mut slots: Vec<Instant> = Vec::with_capacity(1);
    let mut removed = 0;
    for _ in 0..count {
        black_box(&mut slots).push(now + Duration::from_secs(1));
        if black_box(&mut slots).pop().is_some() {
            removed += 1;
        }
    }
    expect_eq("timers removed", count, removed)
}
