//! A sliding window over time, kept as a ring of fixed-width buckets.
//!
//! The circuit breaker's time-based window and the retry budget both ask
//! "how many of these happened in the last `length`?". Keeping every event
//! with its timestamp answers exactly but grows with the load; a ring of
//! `n` buckets, each `length / n` wide, answers in bounded memory at the
//! price of bucket precision:
//!
//! ```text
//!   time ─────────────────────────────────────────────────────▶ now
//!   bucket index   …  k-4 │ k-3 │ k-2 │ k-1 │  k  │
//!   ring slot      …   1  │  2  │  3  │  0  │  1  │   (n = 4: slot = index % n)
//!                         └────── the window: the n newest indices ───┘
//! ```
//!
//! A bucket's index is the number of whole widths since the window's
//! origin (its first use). A slot whose stored index is older than the
//! window is stale and counts as empty; writing to it starts it over. An
//! event is therefore counted for at least `length - width` and less than
//! `length` after it happened. Reading sums the live buckets: O(n).

use std::ops::AddAssign;
use std::time::{Duration, Instant};

/// A ring of `n` time buckets, each holding a `C` (a set of counters).
#[derive(Debug, Clone)]
pub(crate) struct TimeBuckets<C> {
    width: Duration,
    /// Set at the first record, so that instants from a paused clock and a
    /// real one are never mixed in one subtraction.
    origin: Option<Instant>,
    /// `(bucket index, counters)` per slot.
    slots: Box<[(u64, C)]>,
}

impl<C: Default + Copy + AddAssign> TimeBuckets<C> {
    /// A window `length` long in `buckets` buckets. Both are raised to the
    /// smallest meaningful value (one bucket, one nanosecond per bucket).
    pub(crate) fn new(length: Duration, buckets: u32) -> Self {
        let buckets = buckets.max(1);
        let width = (length / buckets).max(Duration::from_nanos(1));
        Self {
            width,
            origin: None,
            slots: vec![(0, C::default()); buckets as usize].into_boxed_slice(),
        }
    }

    /// The index of the bucket `now` falls in.
    fn index_at(&mut self, now: Instant) -> u64 {
        let origin = *self.origin.get_or_insert(now);
        let elapsed = now.saturating_duration_since(origin).as_nanos();
        u64::try_from(elapsed / self.width.as_nanos()).unwrap_or(u64::MAX)
    }

    /// Applies `update` to the counters of the bucket `now` falls in.
    pub(crate) fn record(&mut self, now: Instant, update: impl FnOnce(&mut C)) {
        let index = self.index_at(now);
        let len = self.slots.len() as u64;
        let slot = &mut self.slots[(index % len) as usize];
        if slot.0 != index {
            *slot = (index, C::default());
        }
        update(&mut slot.1);
    }

    /// The sum of the buckets still inside the window at `now`.
    pub(crate) fn total(&mut self, now: Instant) -> C {
        let index = self.index_at(now);
        let oldest_live = index.saturating_sub(self.slots.len() as u64 - 1);
        let mut total = C::default();
        for (slot_index, counters) in self.slots.iter() {
            if (oldest_live..=index).contains(slot_index) {
                total += *counters;
            }
        }
        total
    }

    /// Forgets everything, as a new window would.
    pub(crate) fn clear(&mut self) {
        self.origin = None;
        self.slots.fill((0, C::default()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_leave_the_window_bucket_by_bucket() {
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let mut window = TimeBuckets::<u32>::new(Duration::from_millis(400), 4);
        window.record(at(0), |c| *c += 1);
        window.record(at(150), |c| *c += 2);
        assert_eq!(window.total(at(150)), 3);
        assert_eq!(window.total(at(399)), 3);
        // Bucket 0 (0..100 ms) leaves when bucket 4 begins.
        assert_eq!(window.total(at(400)), 2);
        assert_eq!(window.total(at(499)), 2);
        assert_eq!(window.total(at(500)), 0);
        // A stale slot is overwritten, not added to.
        window.record(at(800), |c| *c += 5);
        assert_eq!(window.total(at(800)), 5);
        window.clear();
        assert_eq!(window.total(at(900)), 0);
    }
}
