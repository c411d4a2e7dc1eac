//! The runtime's clock, and how it turns instants into the wheel's ticks.
//!
//! A clock is either *real* (it reads `Instant::now()`) or *paused*: it
//! stands still at the instant the runtime was built and moves only when
//! the runtime jumps it to the next timer. Both are monotonic: the real
//! clock because `Instant` is, the paused one because it only moves forward.
//!
//! Deadlines arrive as [`PackedInstant`]s, one word each (below). Ticks are
//! whole milliseconds since the clock's *origin* (the instant it was
//! created). The two conversions round in opposite directions on
//! purpose, so that a timer never fires early:
//!
//! ```text
//!   origin        tick 1        tick 2        tick 3
//!     |-------------|-------------|-------------|---->
//!                        ^ deadline                 deadline_tick = 2 (rounded up)
//!                                      ^ now       now_tick = 2 (rounded down)
//!   tick 2 is due once now_tick >= 2, i.e. now >= origin + 2 ms >= deadline.
//! ```

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const NANOS_PER_TICK: u128 = 1_000_000;

/// An instant in eight bytes: signed nanoseconds from a process-wide
/// epoch (the first instant packed in the process), where `Instant` takes
/// sixteen.
///
/// A `Sleep` rides inside every sleeping task's future, so its size is paid
/// once per sleeper; this is how its deadline fits in one word. Packed
/// deadlines also compare, and become ticks, by integer arithmetic. Packing is
/// exact for every instant within about 292 years of the epoch, either way.
/// An instant beyond that is pulled in to the edge of the range: one later
/// than the epoch + 292 years becomes exactly that (a deadline no program
/// reaches), one earlier than the epoch − 292 years becomes that (a
/// deadline long passed). Either way a `Sleep` behaves as it would have: it
/// never completes, or it completes at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct PackedInstant(i64);

/// The instant every [`PackedInstant`] counts from, fixed at first use.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// `span` in nanoseconds, or `i64::MAX` if that does not fit.
fn saturating_nanos(span: Duration) -> i64 {
    i64::try_from(span.as_nanos()).unwrap_or(i64::MAX)
}

impl PackedInstant {
    pub(crate) fn pack(instant: Instant) -> Self {
        let epoch = epoch();
        Self(match instant.checked_duration_since(epoch) {
            Some(after) => saturating_nanos(after),
            None => -saturating_nanos(epoch.duration_since(instant)),
        })
    }

    pub(crate) fn unpack(self) -> Instant {
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

/// A real or paused clock with its origin.
#[derive(Debug)]
pub(crate) struct Clock {
    origin: Instant,
    /// `origin`, packed: deadlines come packed, and become ticks by a
    /// subtraction of two integers.
    packed_origin: PackedInstant,
    /// How far a paused clock stands past `origin`; `None` for a real clock.
    paused_at: Option<Cell<Duration>>,
}

impl Clock {
    pub(crate) fn new(paused: bool) -> Self {
        let origin = Instant::now();
        Self {
            origin,
            packed_origin: PackedInstant::pack(origin),
            paused_at: paused.then(|| Cell::new(Duration::ZERO)),
        }
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.paused_at.is_some()
    }

    pub(crate) fn now(&self) -> Instant {
        match &self.paused_at {
            Some(offset) => self.origin + offset.get(),
            None => Instant::now(),
        }
    }

    /// Moves a paused clock forward to `instant`; an instant in the past
    /// leaves it where it is, so time never runs backwards.
    pub(crate) fn advance_to(&self, instant: Instant) {
        let offset = self
            .paused_at
            .as_ref()
            .expect("only a paused clock can be moved by hand");
        offset.set(
            offset
                .get()
                .max(instant.saturating_duration_since(self.origin)),
        );
    }

    /// The last tick `instant` has fully reached (rounded down).
    pub(crate) fn tick_reached_by(&self, instant: Instant) -> u64 {
        let nanos = instant.saturating_duration_since(self.origin).as_nanos();
        u64::try_from(nanos / NANOS_PER_TICK).unwrap_or(u64::MAX)
    }

    /// The first tick at or after `deadline` (rounded up); tick 0 for a
    /// deadline before the origin.
    pub(crate) fn tick_for_deadline(&self, deadline: PackedInstant) -> u64 {
        let nanos = deadline.0.saturating_sub(self.packed_origin.0).max(0) as u64;
        nanos.div_ceil(NANOS_PER_TICK as u64)
    }

    /// The instant `tick` starts, or `None` if `Instant` cannot express it
    /// (a deadline hundreds of millions of years away).
    pub(crate) fn instant_of(&self, tick: u64) -> Option<Instant> {
        self.origin.checked_add(Duration::from_millis(tick))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_round_up_and_now_rounds_down() {
        let clock = Clock::new(true);
        let at = |nanos| clock.origin + Duration::from_nanos(nanos);
        let deadline = |nanos| PackedInstant::pack(at(nanos));
        assert_eq!(clock.tick_for_deadline(deadline(0)), 0);
        assert_eq!(clock.tick_for_deadline(deadline(1)), 1);
        assert_eq!(clock.tick_for_deadline(deadline(1_000_000)), 1);
        assert_eq!(clock.tick_for_deadline(deadline(1_000_001)), 2);
        assert_eq!(clock.tick_reached_by(at(999_999)), 0);
        assert_eq!(clock.tick_reached_by(at(1_000_000)), 1);
        // Before the origin: tick 0, which is due at once.
        assert_eq!(
            clock.tick_for_deadline(PackedInstant::pack(clock.origin - Duration::from_secs(1))),
            0
        );
        assert_eq!(clock.instant_of(3), Some(at(3_000_000)));
        // A tick's own instant reaches exactly that tick.
        assert_eq!(
            clock.tick_reached_by(clock.instant_of(12_345).unwrap()),
            12_345
        );
    }

    #[test]
    fn paused_clock_stands_still_and_never_goes_back() {
        let clock = Clock::new(true);
        let start = clock.now();
        assert_eq!(clock.now(), start);
        clock.advance_to(start + Duration::from_secs(30));
        assert_eq!(clock.now(), start + Duration::from_secs(30));
        clock.advance_to(start + Duration::from_secs(1));
        assert_eq!(clock.now(), start + Duration::from_secs(30));
    }

    #[test]
    fn real_clock_follows_instant_now() {
        let clock = Clock::new(false);
        assert!(!clock.is_paused());
        let before = Instant::now();
        let now = clock.now();
        assert!(now >= before && now <= Instant::now());
    }

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
