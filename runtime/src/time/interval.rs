//! [`Interval`]: ticks on a fixed schedule, `start + k * period`.
//!
//! An interval is a [`Sleep`] whose deadline is the next tick's scheduled
//! instant. When it fires, [`Interval::tick`] returns that instant and the
//! deadline moves on to the following tick, so a tick is never lost when
//! the `tick()` future is dropped (the state lives in the `Interval`).
//!
//! # Missed ticks
//!
//! A tick is *missed* when the interval is polled so late that the tick
//! after it is overdue as well: `now > scheduled + period`. Merely late, with
//! the next tick still ahead, nothing is missed and the schedule holds; only
//! a miss calls on [`MissedTickBehavior`], whose docs draw the three
//! choices and explain the default (`Skip`).

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use super::instant::{deadline_after, now};
use super::sleep::{sleep_until, Sleep};

/// Ticks every `period`, the first tick at once.
///
/// ```
/// use std::time::Duration;
/// use weft_runtime::time;
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let start = time::now();
///     let mut every_second = time::interval(Duration::from_secs(1));
///     assert_eq!(every_second.tick().await, start);
///     assert_eq!(every_second.tick().await, start + Duration::from_secs(1));
///     assert_eq!(every_second.tick().await, start + Duration::from_secs(2));
/// });
/// ```
///
/// # Panics
///
/// If `period` is zero.
pub fn interval(period: Duration) -> Interval {
    interval_at(now(), period)
}

/// Ticks at `start`, then every `period`.
///
/// ```
/// use std::time::Duration;
/// use weft_runtime::time;
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let start = time::now() + Duration::from_secs(5);
///     let mut ticks = time::interval_at(start, Duration::from_secs(1));
///     assert_eq!(ticks.tick().await, start);
///     assert_eq!(time::now(), start);
/// });
/// ```
///
/// # Panics
///
/// If `period` is zero.
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(
        !period.is_zero(),
        "an interval's period must be greater than zero"
    );
    Interval {
        sleep: sleep_until(start),
        period,
        missed_tick_behavior: MissedTickBehavior::default(),
    }
}

/// What an [`Interval`] does after ticks were missed.
///
/// A tick is *missed* when the interval is polled so late that the tick
/// after it is overdue as well (`now > scheduled + period`); a merely late
/// tick leaves the schedule alone. With a period of 10 and a consumer that
/// stalls from 10 to 35:
///
/// ```text
///   schedule:  0    10    20    30    40    50
///   stall:          |========================|35
///   Burst:     0    10 ......... 20, 30 at 35  40    50     catch up at once
///   Delay:     0    10 ......... (35)  45    55    ...      restart from now
///   Skip:      0    10 ......... (35)  40    50    ...      drop 20 and 30
/// ```
///
/// (The tick scheduled for 10 is returned at 35 in every case; the rows
/// show what comes after it.)
///
/// weft's default is **`Skip`**: a periodic job that fell behind should not
/// run back-to-back to catch up (a burst is exactly what a rate limiter or a
/// heartbeat must avoid), and its ticks stay on the original grid, so they
/// line up with other timers and logs. Pick `Burst` when every tick counts
/// (it is tokio's default), `Delay` when the gap between ticks matters more
/// than the grid.
///
/// ```
/// use std::time::Duration;
/// use weft_runtime::time::{self, MissedTickBehavior};
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let start = time::now();
///     let second = Duration::from_secs(1);
///     let mut ticks = time::interval(second);
///     assert_eq!(ticks.missed_tick_behavior(), MissedTickBehavior::Skip);
///     ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
///     ticks.tick().await;
///     time::sleep(3 * second + second / 2).await;
///     // Burst: the missed ticks come at once, then the grid resumes.
///     for k in 1..=4 {
///         assert_eq!(ticks.tick().await, start + k * second);
///     }
///     assert_eq!(time::now(), start + 4 * second);
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MissedTickBehavior {
    /// Every missed tick is returned, at once, until the interval has caught
    /// up; then the original grid resumes. No tick is lost.
    Burst,
    /// The next tick comes one full period after the late one was returned:
    /// the grid moves to start from now. Ticks are never closer together
    /// than the period.
    Delay,
    /// Missed ticks are dropped; the next tick is the first one of the
    /// original grid that is not yet overdue. The default.
    #[default]
    Skip,
}

impl MissedTickBehavior {
    /// When the tick after `scheduled` is due, the tick at `scheduled` being
    /// returned at `now`.
    fn next_tick(self, scheduled: Instant, now: Instant, period: Duration) -> Instant {
        let on_schedule = deadline_after(scheduled, period);
        if now <= on_schedule {
            return on_schedule;
        }
        match self {
            MissedTickBehavior::Burst => on_schedule,
            MissedTickBehavior::Delay => deadline_after(now, period),
            MissedTickBehavior::Skip => {
                let behind = (now - scheduled).as_nanos();
                let into_period = behind % period.as_nanos();
                if into_period == 0 {
                    // `now` is right on a grid point: that tick is on time.
                    now
                } else {
                    deadline_after(now, period - nanos(into_period))
                }
            }
        }
    }
}

/// `n` nanoseconds, for an `n` below some `Duration`'s nanosecond count.
fn nanos(n: u128) -> Duration {
    const PER_SECOND: u128 = 1_000_000_000;
    let seconds = u64::try_from(n / PER_SECOND).expect("less than a Duration's seconds");
    Duration::new(seconds, (n % PER_SECOND) as u32)
}

/// Ticks on a fixed schedule; made by [`interval`] or [`interval_at`].
///
/// Cancel-safe: dropping a `tick()` future loses no tick, the next call
/// returns it.
///
/// ```
/// use std::time::Duration;
/// use weft_runtime::time;
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let start = time::now();
///     let mut heartbeat = time::interval(Duration::from_secs(10));
///     heartbeat.tick().await;
///     time::sleep(Duration::from_secs(4)).await;
///     // Something happened: the next beat is one full period from now.
///     heartbeat.reset();
///     assert_eq!(heartbeat.tick().await, start + Duration::from_secs(14));
/// });
/// ```
#[derive(Debug)]
pub struct Interval {
    /// Its deadline is the next tick's scheduled instant.
    sleep: Sleep,
    period: Duration,
    missed_tick_behavior: MissedTickBehavior,
}

impl Interval {
    /// Waits for the next tick and returns the instant it was scheduled for
    /// (earlier than now when the caller is late).
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick: the building block of [`Interval::tick`],
    /// for hand-written futures.
    ///
    /// # Panics
    ///
    /// Outside a weft runtime.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        ready!(Pin::new(&mut self.sleep).poll(cx));
        let scheduled = self.sleep.deadline();
        let next = self
            .missed_tick_behavior
            .next_tick(scheduled, now(), self.period);
        self.sleep.reset(next);
        Poll::Ready(scheduled)
    }

    /// Starts the schedule over: the next tick is one period from now.
    pub fn reset(&mut self) {
        self.reset_at(deadline_after(now(), self.period));
    }

    /// Starts the schedule over: the next tick is at `instant`, then every
    /// period after it.
    pub fn reset_at(&mut self, instant: Instant) {
        self.sleep.reset(instant);
    }

    /// The time between two ticks.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// What happens after missed ticks.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed_tick_behavior
    }

    /// Changes what happens after missed ticks, from the next tick on.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed_tick_behavior = behavior;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_tick_follows_each_behavior() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let next = |behavior: MissedTickBehavior, now| behavior.next_tick(t0 + ms(10), now, ms(10));
        for behavior in [
            MissedTickBehavior::Burst,
            MissedTickBehavior::Delay,
            MissedTickBehavior::Skip,
        ] {
            // On time, late, or exactly one period late: nothing was missed.
            assert_eq!(next(behavior, t0 + ms(10)), t0 + ms(20));
            assert_eq!(next(behavior, t0 + ms(17)), t0 + ms(20));
            assert_eq!(next(behavior, t0 + ms(20)), t0 + ms(20));
        }
        let late = t0 + ms(35);
        assert_eq!(next(MissedTickBehavior::Burst, late), t0 + ms(20));
        assert_eq!(next(MissedTickBehavior::Delay, late), t0 + ms(45));
        assert_eq!(next(MissedTickBehavior::Skip, late), t0 + ms(40));
        // Skip to a grid point that is due right now.
        assert_eq!(next(MissedTickBehavior::Skip, t0 + ms(40)), t0 + ms(40));
    }

    #[test]
    fn nanos_splits_seconds() {
        assert_eq!(nanos(2_500_000_001), Duration::new(2, 500_000_001));
    }
}
