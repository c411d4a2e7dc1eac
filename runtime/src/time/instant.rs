//! [`now`]: the current instant on the runtime's clock, deadlines after it
//! whose arithmetic cannot overflow, and instants packed into one word.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::scheduler::context;

/// The current instant on the runtime's clock: paused-aware, monotonic.
///
/// Inside a runtime this is its clock, which a paused runtime moves only
/// from timer to timer; outside any runtime it is `Instant::now()`.
///
/// ```
/// use std::time::Duration;
/// use weft_runtime::time;
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let start = time::now();
///     // A paused clock stands still while tasks run...
///     assert_eq!(time::now(), start);
///     // ...and jumps when every task waits for a timer.
///     time::sleep(Duration::from_secs(3600)).await;
///     assert_eq!(time::now(), start + Duration::from_secs(3600));
/// });
/// ```
pub fn now() -> Instant {
    match context::try_current() {
        Some(core) => core.time.now(),
        None => Instant::now(),
    }
}

/// How far away a deadline too distant for `Instant` is put: about 30
/// years, beyond any program's run yet reachable by a paused clock.
const FAR_FUTURE: Duration = Duration::from_secs(30 * 365 * 24 * 60 * 60);

/// `base + duration`, or [`FAR_FUTURE`] after `base` if `Instant` cannot
/// express the sum.
pub(super) fn deadline_after(base: Instant, duration: Duration) -> Instant {
    base.checked_add(duration)
        .unwrap_or_else(|| base + FAR_FUTURE)
}

/// An instant in eight bytes: signed nanoseconds from a process-wide
/// epoch (the first instant any `Sleep` packed), where `Instant` takes
/// sixteen.
///
/// A `Sleep` rides inside every sleeping task's future, so its size is paid
/// once per sleeper; this is how its deadline fits in one word. Packing is
/// exact for every instant within about 292 years of the epoch, either way.
/// An instant beyond that is pulled in to the edge of the range: one later
/// than the epoch + 292 years becomes exactly that (a deadline no program
/// reaches), one earlier than the epoch − 292 years becomes that (a
/// deadline long passed). Either way a `Sleep` behaves as it would have: it
/// never completes, or it completes at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct PackedInstant(i64);

/// The instant every [`PackedInstant`] counts from, fixed at first use.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// `nanos` as an `i64`, or `i64::MAX` if it does not fit.
fn saturating_nanos(span: Duration) -> i64 {
    i64::try_from(span.as_nanos()).unwrap_or(i64::MAX)
}

impl PackedInstant {
    pub(super) fn pack(instant: Instant) -> Self {
        let epoch = epoch();
        Self(match instant.checked_duration_since(epoch) {
            Some(after) => saturating_nanos(after),
            None => -saturating_nanos(epoch.duration_since(instant)),
        })
    }

    pub(super) fn unpack(self) -> Instant {
        let offset = Duration::from_nanos(self.0.unsigned_abs());
        // Both always fit: the packed instant lies between the epoch and the
        // instant it was packed from, and `Instant` covers that whole span.
        if self.0 >= 0 {
            epoch() + offset
        } else {
            epoch() - offset
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_is_exact_on_both_sides_of_the_epoch() {
        let base = epoch();
        for instant in [
            base,
            base + Duration::from_nanos(1),
            base + Duration::from_secs(30 * 365 * 24 * 60 * 60),
            Instant::now() + Duration::from_nanos(123_456_789),
        ] {
            assert_eq!(PackedInstant::pack(instant).unpack(), instant);
        }
        if let Some(before) = base.checked_sub(Duration::from_nanos(1_500)) {
            assert_eq!(PackedInstant::pack(before).unpack(), before);
            assert!(PackedInstant::pack(before) < PackedInstant::pack(base));
        }
    }

    #[test]
    fn an_instant_out_of_range_is_pulled_in_to_its_edge() {
        let base = epoch();
        let edge = base + Duration::from_nanos(i64::MAX as u64);
        let Some(beyond) = edge.checked_add(Duration::from_secs(1)) else {
            return;
        };
        assert_eq!(PackedInstant::pack(beyond).unpack(), edge);
        assert!(PackedInstant::pack(beyond) > PackedInstant::pack(Instant::now()));
    }
}
