//! [`Timeline`]: turns instants into nanoseconds since an origin fixed at
//! the first instant a limiter sees.
//!
//! The lock-free limiters keep their whole state in one `AtomicU64`, so they
//! need time as a number. The origin is the first instant a limiter is asked
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

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A lazily fixed origin on some clock; see the [module docs](self).
#[derive(Debug, Default)]
pub(crate) struct Timeline {
    origin: OnceLock<Instant>,
}

impl Timeline {
    /// Nanoseconds from the origin to `now`; the first call sets the origin.
    pub(crate) fn nanos(&self, now: Instant) -> u64 {
        let origin = *self.origin.get_or_init(|| now);
        duration_nanos(now.saturating_duration_since(origin))
    }
}

/// `duration` in whole nanoseconds, saturating at `u64::MAX`.
pub(crate) fn duration_nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}
