//! The runtime's clock, and how it turns instants into the wheel's ticks.
//!
//! A clock is either *real* (it reads `Instant::now()`) or *paused*: it
//! stands still at the instant the runtime was built and moves only when
//! the runtime jumps it to the next timer. Both are monotonic: the real
//! clock because `Instant` is, the paused one because it only moves forward.
//!
//! Ticks are whole milliseconds since the clock's *origin* (the instant it
//! was created). The two conversions round in opposite directions on
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
use std::time::{Duration, Instant};

const NANOS_PER_TICK: u128 = 1_000_000;

/// A real or paused clock with its origin.
#[derive(Debug)]
pub(crate) struct Clock {
    origin: Instant,
    /// How far a paused clock stands past `origin`; `None` for a real clock.
    paused_at: Option<Cell<Duration>>,
}

impl Clock {
    pub(crate) fn new(paused: bool) -> Self {
        Self {
            origin: Instant::now(),
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

    /// The first tick at or after `deadline` (rounded up).
    pub(crate) fn tick_for_deadline(&self, deadline: Instant) -> u64 {
        let nanos = deadline.saturating_duration_since(self.origin).as_nanos();
        u64::try_from(nanos.div_ceil(NANOS_PER_TICK)).unwrap_or(u64::MAX)
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
        assert_eq!(clock.tick_for_deadline(at(0)), 0);
        assert_eq!(clock.tick_for_deadline(at(1)), 1);
        assert_eq!(clock.tick_for_deadline(at(1_000_000)), 1);
        assert_eq!(clock.tick_for_deadline(at(1_000_001)), 2);
        assert_eq!(clock.tick_reached_by(at(999_999)), 0);
        assert_eq!(clock.tick_reached_by(at(1_000_000)), 1);
        // Before the origin: tick 0, which is due at once.
        assert_eq!(
            clock.tick_for_deadline(clock.origin - Duration::from_secs(1)),
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
}
