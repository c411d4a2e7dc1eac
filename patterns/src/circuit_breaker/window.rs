//! The closed state's memory: outcomes of recent calls in a sliding window,
//! counted by calls or by time.
//!
//! ```text
//!   count window (size 5): a ring of the last 5 outcomes and their running tally
//!     [ ok | FAIL | ok | ok,slow | FAIL ]  ─ a new outcome replaces the oldest
//!   time window (length 60 s, 6 buckets): a tally per 10 s bucket
//!     [ 3 calls, 1 failed | 0 | 7 calls, 4 failed | ... ]  ─ see `time_buckets.rs`
//! ```
//!
//! Both answer "how many calls, failures and slow calls does the window
//! hold?" in O(1) (count) or O(buckets) (time), in fixed memory.

use std::collections::VecDeque;
use std::ops::AddAssign;
use std::time::Instant;

use super::SlidingWindow;
use crate::time_buckets::TimeBuckets;

/// One recorded call: did it fail, was it slow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub(crate) failed: bool,
    pub(crate) slow: bool,
}

/// Counts of recorded calls.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tally {
    pub(crate) calls: u32,
    pub(crate) failures: u32,
    pub(crate) slow: u32,
    pub(crate) slow_failures: u32,
}

impl Tally {
    pub(crate) fn add(&mut self, outcome: Outcome) {
        *self += Self::of(outcome);
    }

    fn remove(&mut self, outcome: Outcome) {
        let gone = Self::of(outcome);
        self.calls -= gone.calls;
        self.failures -= gone.failures;
        self.slow -= gone.slow;
        self.slow_failures -= gone.slow_failures;
    }

    fn of(outcome: Outcome) -> Self {
        Self {
            calls: 1,
            failures: u32::from(outcome.failed),
            slow: u32::from(outcome.slow),
            slow_failures: u32::from(outcome.failed && outcome.slow),
        }
    }

    /// Failures as a percentage of `of` calls.
    pub(crate) fn failure_rate(&self, of: u32) -> f64 {
        percent(self.failures, of)
    }

    /// Slow calls as a percentage of `of` calls.
    pub(crate) fn slow_rate(&self, of: u32) -> f64 {
        percent(self.slow, of)
    }
}

impl AddAssign for Tally {
    fn add_assign(&mut self, other: Self) {
        self.calls += other.calls;
        self.failures += other.failures;
        self.slow += other.slow;
        self.slow_failures += other.slow_failures;
    }
}

fn percent(part: u32, whole: u32) -> f64 {
    if whole == 0 {
        0.0
    } else {
        f64::from(part) * 100.0 / f64::from(whole)
    }
}

/// A sliding window of outcomes, by count or by time.
#[derive(Debug)]
pub(crate) enum Window {
    Count {
        recent: VecDeque<Outcome>,
        size: usize,
        tally: Tally,
    },
    Time(TimeBuckets<Tally>),
}

impl Window {
    pub(crate) fn new(shape: SlidingWindow) -> Self {
        match shape {
            SlidingWindow::Count(size) => Self::Count {
                recent: VecDeque::with_capacity(size as usize),
                size: size as usize,
                tally: Tally::default(),
            },
            SlidingWindow::Time { length, buckets } => {
                Self::Time(TimeBuckets::new(length, buckets))
            }
        }
    }

    pub(crate) fn record(&mut self, now: Instant, outcome: Outcome) {
        match self {
            Self::Count {
                recent,
                size,
                tally,
            } => {
                if recent.len() == *size {
                    if let Some(oldest) = recent.pop_front() {
                        tally.remove(oldest);
                    }
                }
                recent.push_back(outcome);
                tally.add(outcome);
            }
            Self::Time(buckets) => buckets.record(now, |tally| tally.add(outcome)),
        }
    }

    pub(crate) fn tally(&mut self, now: Instant) -> Tally {
        match self {
            Self::Count { tally, .. } => *tally,
            Self::Time(buckets) => buckets.total(now),
        }
    }

    pub(crate) fn clear(&mut self) {
        match self {
            Self::Count { recent, tally, .. } => {
                recent.clear();
                *tally = Tally::default();
            }
            Self::Time(buckets) => buckets.clear(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: Outcome = Outcome {
        failed: false,
        slow: false,
    };
    const FAIL: Outcome = Outcome {
        failed: true,
        slow: false,
    };
    const SLOW_FAIL: Outcome = Outcome {
        failed: true,
        slow: true,
    };

    #[test]
    fn count_window_forgets_the_oldest() {
        let now = Instant::now();
        let mut window = Window::new(SlidingWindow::Count(3));
        for outcome in [FAIL, SLOW_FAIL, OK] {
            window.record(now, outcome);
        }
        let tally = window.tally(now);
        assert_eq!(
            (tally.calls, tally.failures, tally.slow, tally.slow_failures),
            (3, 2, 1, 1)
        );
        window.record(now, OK);
        let tally = window.tally(now);
        assert_eq!((tally.calls, tally.failures), (3, 1));
        assert!((tally.failure_rate(tally.calls) - 100.0 / 3.0).abs() < 1e-9);
        window.clear();
        assert_eq!(window.tally(now), Tally::default());
    }
}
