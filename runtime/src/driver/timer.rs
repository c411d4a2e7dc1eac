//! The timer driver: one runtime's clock and timing wheel, as the event loop
//! and the timer futures see them.
//!
//! The event loop (`scheduler/core.rs`) uses it in three places:
//!
//! ```text
//!   every turn ── fire_due() ─────────── wake every timer with deadline <= now
//!   park ──────── next_deadline() ────── how long epoll may sleep (real clock)
//!   park, paused  advance_to_next() ──── jump the clock to the earliest timer
//! ```
//!
//! and `Sleep` registers, reschedules and cancels its entry through it. The
//! driver belongs to one runtime on one thread and is shared through an
//! `Rc`, so its state sits in `Cell`/`RefCell`.
//!
//! A `Sleep` is `Send`, though: it may be dropped (or polled next) where its
//! runtime is not current, on another thread or after `block_on` returned.
//! It cannot touch the wheel from there, so it posts its key to the
//! driver's [`RemoteCancels`], the one piece shared across threads, and the
//! driver frees those entries before it next looks at the wheel:
//!
//! ```text
//!   Sleep dropped off its runtime ── push key ──▶ RemoteCancels (Mutex<Vec>)
//!   fire_due, next_deadline, advance_to_next, live_timers
//!                                  ── flag set? drain it, cancel each key
//! ```
//!
//! The entry stays in the wheel until then, so its key is not reused while
//! the cancellation is in flight; if the runtime sleeps meanwhile, it wakes
//! at the entry's deadline at the latest and drops it without firing it.
//! A waker runs arbitrary code
//! (it may cancel or register timers), so no waker is woken or dropped while
//! the wheel is borrowed: the wheel hands them out and the driver wakes or
//! drops them after the borrow ends.
//!
//! Instants become ticks through the clock (deadlines rounded up, the
//! present rounded down: see `clock.rs`), so a timer never fires before its
//! deadline.

use std::cell::{Cell, RefCell};
use std::mem;
use std::sync::Arc;
use std::task::Waker;
use std::time::Instant;

use super::clock::{Clock, PackedInstant};
use super::wheel::{TimerKey, Wheel};
use crate::executor::facade::atomic::{AtomicBool, Ordering};
use crate::executor::facade::Mutex;
use crate::executor::prefetch::prefetch;

/// How many wakes ahead `fire_due` asks for a woken task's header: a wake
/// takes a few dozen instructions, a miss to memory some hundred cycles.
const WAKE_PREFETCH_DISTANCE: usize = 4;

/// A runtime's clock and timers. Single-threaded: owned by one runtime,
/// shared through `Rc`.
pub(crate) struct TimeDriver {
    clock: Clock,
    /// The real clock as `fire_due` last read it: what a `Sleep`'s first
    /// poll compares its deadline with, instead of reading the clock again.
    observed: Cell<PackedInstant>,
    wheel: RefCell<Wheel>,
    fired_total: Cell<u64>,
    /// The wakers of one `fire_due`, kept between calls so that firing does
    /// not allocate once the buffer has grown to the largest batch.
    due: Cell<Vec<Waker>>,
    /// Where timers registered here are cancelled from outside the runtime.
    remote: Arc<RemoteCancels>,
}

/// The timers a runtime must cancel on behalf of `Sleep`s dropped where it
/// is not current. `Send + Sync`; a `Sleep`'s registration holds it, which
/// both names the runtime it is registered with and reaches it from anywhere.
#[derive(Default)]
pub(crate) struct RemoteCancels {
    /// Set, under the lock, while `keys` is not empty: the owner checks it
    /// without locking at every turn.
    pending: AtomicBool,
    keys: Mutex<Vec<TimerKey>>,
}

impl RemoteCancels {
    /// Asks the owning driver to cancel `key` at its next turn.
    pub(crate) fn push(&self, key: TimerKey) {
        let mut keys = self.keys.lock();
        keys.push(key);
        self.pending.store(true, Ordering::Release);
    }
}

impl TimeDriver {
    /// A driver whose clock is real, or paused (standing still until the
    /// runtime jumps it) with `start_paused`.
    pub(crate) fn new(start_paused: bool) -> Self {
        let clock = Clock::new(start_paused);
        Self {
            observed: Cell::new(PackedInstant::pack(clock.now())),
            clock,
            wheel: RefCell::new(Wheel::new()),
            fired_total: Cell::new(0),
            due: Cell::new(Vec::new()),
            remote: Arc::default(),
        }
    }

    /// The handle through which a timer registered here is cancelled from
    /// anywhere; pointer-equal to this driver's alone.
    pub(crate) fn remote_cancels(&self) -> &Arc<RemoteCancels> {
        &self.remote
    }

    /// Cancels the timers posted to [`RemoteCancels`] since the last call.
    fn cancel_remote(&self) {
        if !self.remote.pending.load(Ordering::Acquire) {
            return;
        }
        let keys = {
            let mut keys = self.remote.keys.lock();
            self.remote.pending.store(false, Ordering::Relaxed);
            mem::take(&mut *keys)
        };
        keys.into_iter().for_each(|key| self.cancel(key));
    }

    /// The runtime's clock: real, or paused (it then stands still between
    /// jumps). Monotonic.
    pub(crate) fn now(&self) -> Instant {
        self.clock.now()
    }

    /// An instant the clock has certainly reached, without reading a real
    /// clock: for a paused clock its exact position (reading it costs no
    /// system call), for a real one the instant `fire_due` last read, which
    /// may lag behind the present by up to one turn of the event loop.
    /// What it says has passed has passed; what it says is still ahead may
    /// have passed meanwhile, and the wheel then fires it at its next
    /// advance.
    pub(crate) fn observed_now(&self) -> PackedInstant {
        if self.clock.is_paused() {
            PackedInstant::pack(self.clock.now())
        } else {
            self.observed.get()
        }
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.clock.is_paused()
    }

    /// Wakes every timer whose deadline has passed (deadline <= now), in
    /// deadline order; returns how many fired.
    pub(crate) fn fire_due(&self) -> usize {
        self.cancel_remote();
        let now = self.clock.now();
        self.observed.set(PackedInstant::pack(now));
        let now = self.clock.tick_reached_by(now);
        let mut due = self.due.take();
        let fired = self.wheel.borrow_mut().advance(now, &mut due);
        self.fired_total.set(self.fired_total.get() + fired as u64);
        let mut wakers = due.drain(..);
        while let Some(waker) = wakers.next() {
            // Fired timers belong to tasks in no particular order: fetch
            // the header a later wake will touch while this one runs.
            if let Some(ahead) = wakers.as_slice().get(WAKE_PREFETCH_DISTANCE) {
                prefetch(ahead.data());
            }
            waker.wake();
        }
        drop(wakers);
        self.due.set(due);
        fired
    }

    /// When the earliest live timer must be looked at, if any: its deadline
    /// (rounded up to the tick) when it is less than 64 ms away, otherwise
    /// the start of the wheel slot holding it, an earlier instant at which
    /// the wheel moves it closer and the answer gets exact. Waking at such an
    /// instant fires nothing early; it only costs one more turn of the loop.
    /// `None` when no timer is live (or the only ones are too far away for
    /// `Instant` to express).
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.cancel_remote();
        let tick = self.wheel.borrow().next_expiration()?;
        self.clock.instant_of(tick)
    }

    /// Paused clock only: jumps the clock forward to the earliest timer's
    /// deadline (rounded up to the tick), so that the next `fire_due` fires
    /// it. Returns `false`, leaving the clock alone, when there is no timer
    /// (or the clock is real).
    pub(crate) fn advance_to_next(&self) -> bool {
        if !self.clock.is_paused() {
            return false;
        }
        self.cancel_remote();
        let Some(tick) = self.wheel.borrow().earliest_tick() else {
            return false;
        };
        let Some(instant) = self.clock.instant_of(tick) else {
            return false;
        };
        self.clock.advance_to(instant);
        true
    }

    /// Timers registered and neither fired nor cancelled.
    pub(crate) fn live_timers(&self) -> usize {
        self.cancel_remote();
        self.wheel.borrow().live()
    }

    /// Timers fired since the runtime started.
    pub(crate) fn fired_total(&self) -> u64 {
        self.fired_total.get()
    }

    /// Registers a timer that wakes `waker` once `deadline` has passed.
    pub(crate) fn register(&self, deadline: PackedInstant, waker: &Waker) -> TimerKey {
        let tick = self.clock.tick_for_deadline(deadline);
        self.wheel.borrow_mut().insert(tick, waker)
    }

    /// Moves a registered timer (fired or not) to `deadline`, and makes
    /// `waker` the one it wakes.
    pub(crate) fn reschedule(&self, key: TimerKey, deadline: PackedInstant, waker: &Waker) {
        let tick = self.clock.tick_for_deadline(deadline);
        let replaced = {
            let mut wheel = self.wheel.borrow_mut();
            wheel.reschedule(key, tick);
            wheel.set_waker(key, waker)
        };
        drop(replaced);
    }

    /// Makes `waker` the one the timer wakes (a no-op for the same waker).
    pub(crate) fn set_waker(&self, key: TimerKey, waker: &Waker) {
        let replaced = self.wheel.borrow_mut().set_waker(key, waker);
        drop(replaced);
    }

    /// If the timer has fired (and was not moved since), frees its entry
    /// and returns `true`: its deadline has passed, as the wheel fires
    /// nothing early. Otherwise leaves it alone.
    pub(crate) fn remove_if_fired(&self, key: TimerKey) -> bool {
        let waker = {
            let mut wheel = self.wheel.borrow_mut();
            if !wheel.has_fired(key) {
                return false;
            }
            wheel.remove(key)
        };
        drop(waker);
        true
    }

    /// Cancels the timer, if it has not fired, and frees its entry.
    pub(crate) fn cancel(&self, key: TimerKey) {
        let waker = self.wheel.borrow_mut().remove(key);
        drop(waker);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;
    use std::time::Duration;

    fn pack(instant: Instant) -> PackedInstant {
        PackedInstant::pack(instant)
    }

    #[derive(Default)]
    struct CountWakes(AtomicUsize);

    impl Wake for CountWakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counting_waker() -> (Arc<CountWakes>, Waker) {
        let count = Arc::new(CountWakes::default());
        (count.clone(), Waker::from(count))
    }

    #[test]
    fn paused_clock_jumps_exactly_to_each_deadline() {
        let driver = TimeDriver::new(true);
        let start = driver.now();
        let (count, waker) = counting_waker();
        let deadlines = [
            Duration::from_secs(30),
            Duration::from_millis(1),
            Duration::from_secs(3600),
            Duration::from_micros(1500),
        ];
        let keys: Vec<_> = deadlines
            .iter()
            .map(|d| driver.register(pack(start + *d), &waker))
            .collect();
        assert_eq!(driver.live_timers(), 4);
        // 1.5 ms rounds up to the 2 ms tick; the others are whole ticks.
        let expected = [1, 2, 30_000, 3_600_000].map(Duration::from_millis);
        for (fired, offset) in expected.into_iter().enumerate() {
            assert!(driver.advance_to_next());
            assert_eq!(driver.now(), start + offset);
            assert_eq!(driver.fire_due(), 1);
            assert_eq!(count.0.load(Ordering::SeqCst), fired + 1);
        }
        assert!(!driver.advance_to_next());
        assert_eq!(driver.next_deadline(), None);
        assert_eq!(driver.live_timers(), 0);
        assert_eq!(driver.fired_total(), 4);
        keys.into_iter().for_each(|key| driver.cancel(key));
    }

    #[test]
    fn nothing_fires_before_its_deadline() {
        let driver = TimeDriver::new(true);
        let start = driver.now();
        let (count, waker) = counting_waker();
        let key = driver.register(pack(start + Duration::from_micros(2_500)), &waker);
        assert_eq!(driver.fire_due(), 0);
        driver
            .clock
            .advance_to(start + Duration::from_micros(2_999));
        assert_eq!(driver.fire_due(), 0);
        driver.clock.advance_to(start + Duration::from_millis(3));
        assert_eq!(driver.fire_due(), 1);
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        driver.cancel(key);
    }

    #[test]
    fn only_a_fired_timer_is_removed_as_fired() {
        let driver = TimeDriver::new(true);
        let start = driver.now();
        let (_, waker) = counting_waker();
        let key = driver.register(pack(start + Duration::from_millis(3)), &waker);
        assert!(!driver.remove_if_fired(key));
        assert_eq!(driver.live_timers(), 1);
        assert!(driver.advance_to_next());
        assert_eq!(
            driver.observed_now(),
            pack(start + Duration::from_millis(3))
        );
        assert_eq!(driver.fire_due(), 1);
        assert!(driver.remove_if_fired(key));
        assert_eq!(driver.live_timers(), 0);
    }

    #[test]
    fn a_real_clock_is_observed_when_timers_are_fired() {
        let driver = TimeDriver::new(false);
        let before = driver.observed_now();
        std::thread::sleep(Duration::from_millis(2));
        // Not read again until the next `fire_due`...
        assert_eq!(driver.observed_now(), before);
        driver.fire_due();
        // ...which reads it.
        let observed = driver.observed_now().unpack();
        assert!(observed >= before.unpack() + Duration::from_millis(2));
        assert!(observed <= driver.now());
    }

    #[test]
    fn next_deadline_reports_the_slot_then_the_exact_tick() {
        let driver = TimeDriver::new(true);
        let start = driver.now();
        let (_, waker) = counting_waker();
        let key = driver.register(pack(start + Duration::from_millis(5_000)), &waker);
        // 5000 ms sits in level 2's slot 4096..8191: wake there first.
        assert_eq!(
            driver.next_deadline(),
            Some(start + Duration::from_millis(4_096))
        );
        driver
            .clock
            .advance_to(start + Duration::from_millis(4_096));
        assert_eq!(driver.fire_due(), 0);
        driver
            .clock
            .advance_to(start + Duration::from_millis(4_992));
        assert_eq!(driver.fire_due(), 0);
        assert_eq!(
            driver.next_deadline(),
            Some(start + Duration::from_millis(5_000))
        );
        driver.cancel(key);
        assert_eq!(driver.next_deadline(), None);
    }

    #[test]
    fn reschedule_and_cancel_keep_the_counts_right() {
        let driver = TimeDriver::new(true);
        let start = driver.now();
        let (count, waker) = counting_waker();
        let key = driver.register(pack(start + Duration::from_secs(1)), &waker);
        driver.reschedule(key, pack(start + Duration::from_secs(2)), &waker);
        assert_eq!(driver.live_timers(), 1);
        assert!(driver.advance_to_next());
        assert_eq!(driver.now(), start + Duration::from_secs(2));
        assert_eq!(driver.fire_due(), 1);
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        driver.cancel(key);
        assert_eq!(driver.live_timers(), 0);
    }

    thread_local! {
        /// What `Reenter` works on: the driver, and a timer to cancel.
        static REENTER: RefCell<Option<(Rc<TimeDriver>, TimerKey)>> = const { RefCell::new(None) };
    }

    /// A waker that, when woken, cancels one timer and registers another on
    /// the same driver, as a task woken by a timer may do. (A waker must be
    /// `Send`, an `Rc` is not: the driver is reached through a thread-local.)
    struct Reenter;

    impl Wake for Reenter {
        fn wake(self: Arc<Self>) {
            let (driver, victim) = REENTER.with(|cell| cell.borrow_mut().take()).unwrap();
            driver.cancel(victim);
            let later = driver.now() + Duration::from_secs(1);
            driver.register(pack(later), &Waker::from(self));
        }
    }

    #[test]
    fn a_woken_waker_may_use_the_driver() {
        let driver = Rc::new(TimeDriver::new(true));
        let start = driver.now();
        let (count, counting) = counting_waker();
        let victim = driver.register(pack(start + Duration::from_secs(9)), &counting);
        REENTER.with(|cell| *cell.borrow_mut() = Some((driver.clone(), victim)));
        driver.register(
            pack(start + Duration::from_secs(1)),
            &Waker::from(Arc::new(Reenter)),
        );
        assert!(driver.advance_to_next());
        // Would panic with "already borrowed" if wakers ran inside the borrow.
        assert_eq!(driver.fire_due(), 1);
        // The victim is gone; the timer registered from inside `wake` is live.
        assert_eq!(driver.live_timers(), 1);
        assert!(driver.advance_to_next());
        assert_eq!(driver.now(), start + Duration::from_secs(2));
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
    }
}
