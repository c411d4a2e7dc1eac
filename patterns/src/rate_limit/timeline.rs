//! The state of the lock-free policies ([`Gcra`](super::Gcra) and
//! [`TokenBucket`](super::TokenBucket)): one atomic word, and the
//! [`Timeline`] that turns instants into the nanoseconds it is computed in.
//!
//! The origin of the timeline is the first instant a limiter is asked
//! about, not the instant it was built: a limiter built before a paused
//! runtime starts, or outside any runtime, then still measures from an
//! instant the runtime's clock really shows.
//!
//! ```text
//!   first call            later call
//!   origin ─────────────── now          nanos(now) = now − origin
//! ```
//!
//! An instant before the origin (another thread's slightly older reading)
//! counts as the origin itself: for a limiter, time never runs backwards.
//! Nanoseconds in a `u64` last 584 years; beyond that they saturate.
//!
//! A check ([`AtomicPolicyState::try_take`]) loads the word, lets the
//! policy decide on it, and publishes the new word with one
//! compare-and-swap; only a concurrent change by another thread makes it
//! decide again, and a refusal writes nothing. Every update touches this
//! one word, so `Relaxed` ordering is enough: the compare-and-swap alone
//! makes concurrent checks linearizable, and no other memory is published
//! through it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::policy::out_of_range;
use crate::deadline::duration_nanos;

/// A lazily fixed origin on some clock; see the [module docs](self).
#[derive(Debug, Default)]
struct Timeline {
    origin: OnceLock<Instant>,
}

impl Timeline {
    /// Nanoseconds from the origin to `now`; the first call sets the origin.
    fn nanos(&self, now: Instant) -> u64 {
        let origin = *self.origin.get_or_init(|| now);
        duration_nanos(now.saturating_duration_since(origin))
    }
}

/// A lock-free policy's whole state: one word on a timeline. The policy
/// gives the arithmetic as `decide(word, now)`: the new word if the
/// request is admitted at `now` (nanoseconds on the timeline), or the
/// nanoseconds to wait.
#[derive(Debug, Default)]
pub(crate) struct AtomicPolicyState {
    word: AtomicU64,
    timeline: Timeline,
}

impl AtomicPolicyState {
    /// [`RatePolicy::try_take`](super::RatePolicy::try_take) for a policy
    /// of `capacity` tokens: one compare-and-swap per decision.
    pub(crate) fn try_take(
        &self,
        n: u32,
        capacity: u32,
        now: Instant,
        decide: impl Fn(u64, u64) -> Result<u64, u64>,
    ) -> Result<(), Duration> {
        if let Some(answer) = out_of_range(n, capacity) {
            return answer;
        }
        // `fetch_update` is the compare-and-swap loop: it calls the closure
        // again only when another thread moved the word meanwhile (or the
        // weak CAS failed spuriously).
        let (now, mut wait) = (self.timeline.nanos(now), 0);
        self.word
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |word| {
                decide(word, now).map_err(|nanos| wait = nanos).ok()
            })
            .map(drop)
            .map_err(|_| Duration::from_nanos(wait))
    }

    /// [`RatePolicy::time_until`](super::RatePolicy::time_until): the
    /// decision on the word as it stands, taking nothing.
    pub(crate) fn time_until(
        &self,
        n: u32,
        capacity: u32,
        now: Instant,
        decide: impl Fn(u64, u64) -> Result<u64, u64>,
    ) -> Duration {
        match out_of_range(n, capacity) {
            Some(answer) => answer.err().unwrap_or_default(),
            None => {
                let (word, now) = self.load(now);
                decide(word, now)
                    .err()
                    .map_or(Duration::ZERO, Duration::from_nanos)
            }
        }
    }

    /// The word, and `now` on the timeline.
    pub(crate) fn load(&self, now: Instant) -> (u64, u64) {
        (self.word.load(Ordering::Relaxed), self.timeline.nanos(now))
    }
}
