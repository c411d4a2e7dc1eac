//! The wheel's unit tests: placement, cascading, order, cancellation, and
//! random operations checked against a simple model.

use super::*;
use std::sync::{Arc, Mutex};
use std::task::Wake;

/// Records, in a shared log, the id of each timer whose waker is woken.
struct Recorder {
    id: u64,
    log: Arc<Mutex<Vec<u64>>>,
}

impl Wake for Recorder {
    fn wake(self: Arc<Self>) {
        self.log.lock().unwrap().push(self.id);
    }
}

/// A wheel with a log of fired timers; a timer's id is chosen by the test
/// (usually its tick, so the log shows the firing order).
struct Harness {
    wheel: Wheel,
    log: Arc<Mutex<Vec<u64>>>,
}

impl Harness {
    fn new() -> Self {
        Self {
            wheel: Wheel::new(),
            log: Arc::default(),
        }
    }

    fn waker(&self, id: u64) -> Waker {
        Waker::from(Arc::new(Recorder {
            id,
            log: self.log.clone(),
        }))
    }

    fn insert(&mut self, tick: u64, id: u64) -> TimerKey {
        let waker = self.waker(id);
        self.wheel.insert(tick, &waker)
    }

    /// Advances to `now`; returns the ids fired, in firing order.
    fn advance(&mut self, now: u64) -> Vec<u64> {
        let mut fired = Vec::new();
        let count = self.wheel.advance(now, &mut fired);
        assert_eq!(count, fired.len(), "every timer here has a waker");
        fired.into_iter().for_each(Waker::wake);
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

/// A deterministic pseudo-random sequence (Knuth's MMIX LCG), so the
/// randomised tests give the same run every time.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

#[test]
fn placement_follows_the_highest_differing_digit() {
    assert_eq!(level_for(0, 0), Some(0));
    assert_eq!(level_for(0, 63), Some(0));
    assert_eq!(level_for(0, 64), Some(1));
    assert_eq!(level_for(0, 4095), Some(1));
    assert_eq!(level_for(0, 4096), Some(2));
    assert_eq!(level_for(0, (1 << 36) - 1), Some(5));
    assert_eq!(level_for(0, 1 << 36), None);
    // Close in time but across a digit boundary: level 1, not 0.
    assert_eq!(level_for(63, 64), Some(1));
    assert_eq!(slot_for(5000, 1), 14);
    assert_eq!(slot_start(4096, 1, 14), 4096 + 14 * 64);
    assert_eq!(slot_start(70, 0, 9), 73);
}

#[test]
fn fires_only_once_the_tick_is_reached() {
    let mut h = Harness::new();
    h.insert(10, 10);
    assert_eq!(h.advance(9), Vec::<u64>::new());
    assert_eq!(h.wheel.live(), 1);
    assert_eq!(h.advance(10), vec![10]);
    assert_eq!(h.wheel.live(), 0);
    assert_eq!(h.advance(1000), Vec::<u64>::new());
}

#[test]
fn fires_in_deadline_order_across_levels_in_one_advance() {
    let mut h = Harness::new();
    let ticks = [
        5_000_000_000,
        70_000,
        3,
        4_200,
        64,
        0,
        63,
        300_000_000,
        4_095,
    ];
    for tick in ticks {
        h.insert(tick, tick);
    }
    let mut expected = ticks.to_vec();
    expected.sort_unstable();
    assert_eq!(h.advance(u64::MAX >> 1), expected);
    assert_eq!(h.wheel.live(), 0);
}

#[test]
fn cascades_from_higher_levels_fire_at_the_exact_tick() {
    let mut h = Harness::new();
    for tick in [4100, 5000, 8000, 4096] {
        h.insert(tick, tick);
    }
    // Level 2's slot 1 starts at 4096: one timer is due right there, the
    // others cascade down and wait for their own ticks.
    assert_eq!(h.wheel.next_expiration(), Some(4096));
    assert_eq!(h.advance(4096), vec![4096]);
    assert_eq!(h.wheel.next_expiration(), Some(4100));
    assert_eq!(h.advance(4999), vec![4100]);
    assert_eq!(h.advance(5000), vec![5000]);
    assert_eq!(h.advance(7999), Vec::<u64>::new());
    assert_eq!(h.advance(8000), vec![8000]);
}

#[test]
fn same_tick_fires_in_insertion_order_even_after_cascading() {
    let mut h = Harness::new();
    for id in 0..5 {
        h.insert(100_000, id);
    }
    // Moving close to the deadline cascades the first five down; the
    // next five are inserted directly into the lower level they reached.
    assert_eq!(h.advance(99_990), Vec::<u64>::new());
    for id in 5..10 {
        h.insert(100_000, id);
    }
    assert_eq!(h.advance(100_000), (0..10).collect::<Vec<_>>());
}

#[test]
fn past_and_present_deadlines_fire_at_the_next_advance() {
    let mut h = Harness::new();
    h.advance(1_000);
    h.insert(1_000, 1);
    h.insert(3, 2);
    h.insert(0, 3);
    assert_eq!(h.wheel.next_expiration(), Some(1_000));
    assert_eq!(h.wheel.earliest_tick(), Some(1_000));
    // Advancing to the same instant fires them: they are due.
    assert_eq!(h.advance(1_000), vec![1, 2, 3]);
}

#[test]
fn far_future_timers_wait_in_overflow_and_cascade_exactly() {
    let mut h = Harness::new();
    let ten_years = 10 * 365 * 24 * 3_600_000;
    let deadlines = [ten_years, ten_years + 1, u64::MAX, 1 << 36, 2 << 36];
    for tick in deadlines {
        h.insert(tick, tick);
    }
    assert_eq!(h.wheel.earliest_tick(), Some(1 << 36));
    assert_eq!(h.advance((1 << 36) - 1), Vec::<u64>::new());
    assert_eq!(h.advance(1 << 36), vec![1 << 36]);
    assert_eq!(h.wheel.earliest_tick(), Some(2 << 36));
    assert_eq!(h.advance(ten_years - 1), vec![2 << 36]);
    assert_eq!(h.advance(ten_years), vec![ten_years]);
    assert_eq!(h.advance(ten_years + 1), vec![ten_years + 1]);
    assert_eq!(h.wheel.earliest_tick(), Some(u64::MAX));
    assert_eq!(h.advance(u64::MAX), vec![u64::MAX]);
    assert_eq!(h.wheel.live(), 0);
}

#[test]
fn cancelled_overflow_timer_leaves_only_a_harmless_early_look() {
    let mut h = Harness::new();
    let near = h.insert(3 << 36, 1);
    h.insert(9 << 36, 2);
    h.wheel.remove(near);
    // The bound still says 3 << 36; looking there re-places the list and
    // makes the bound exact again.
    assert_eq!(h.wheel.next_expiration(), Some(3 << 36));
    assert_eq!(h.wheel.earliest_tick(), Some(9 << 36));
    assert_eq!(h.advance(3 << 36), Vec::<u64>::new());
    assert_eq!(h.wheel.next_expiration(), Some(9 << 36));
    assert_eq!(h.advance(9 << 36), vec![2]);
}

#[test]
fn next_expiration_is_a_lower_bound_and_earliest_tick_is_exact() {
    let mut h = Harness::new();
    assert_eq!(h.wheel.next_expiration(), None);
    assert_eq!(h.wheel.earliest_tick(), None);
    h.insert(5_000, 1);
    h.insert(4_500, 2);
    // Both sit in level 2's slot 1 (ticks 4096..8191).
    assert_eq!(h.wheel.next_expiration(), Some(4_096));
    assert_eq!(h.wheel.earliest_tick(), Some(4_500));
    let near = h.insert(40, 3);
    assert_eq!(h.wheel.next_expiration(), Some(40));
    assert_eq!(h.wheel.earliest_tick(), Some(40));
    h.wheel.remove(near);
    assert_eq!(h.wheel.next_expiration(), Some(4_096));
    // Each cascade narrows the bound: 4500 drops to level 1's slot
    // 4480..=4543, then to level 0, where the answer is exact.
    assert_eq!(h.advance(4_096), Vec::<u64>::new());
    assert_eq!(h.wheel.next_expiration(), Some(4_480));
    assert_eq!(h.advance(4_480), Vec::<u64>::new());
    assert_eq!(h.wheel.next_expiration(), Some(4_500));
}

#[test]
fn cancel_unlinks_from_any_position_and_frees_the_slot() {
    let mut h = Harness::new();
    let keys: Vec<_> = (0..5).map(|id| h.insert(20, id)).collect();
    // Middle, head, tail: each unlink must keep the list intact.
    for index in [2, 0, 4] {
        assert!(h.wheel.remove(keys[index]).is_some());
    }
    assert_eq!(h.wheel.live(), 2);
    assert_eq!(h.wheel.entries.len(), 2);
    assert_eq!(h.advance(20), vec![1, 3]);
    for index in [1, 3] {
        // Fired entries wait for their owner; removing them frees them.
        assert!(h.wheel.remove(keys[index]).is_none());
    }
    assert_eq!(h.wheel.entries.len(), 0);
    assert_eq!(h.wheel.next_expiration(), None);
}

#[test]
fn reschedule_moves_a_live_or_fired_timer() {
    let mut h = Harness::new();
    let key = h.insert(10, 7);
    h.wheel.reschedule(key, 100_000);
    assert_eq!(h.advance(10), Vec::<u64>::new());
    assert_eq!(h.wheel.earliest_tick(), Some(100_000));
    h.wheel.reschedule(key, 50);
    assert_eq!(h.advance(50), vec![7]);

    // Fired: it has no waker until its owner gives it one.
    h.wheel.reschedule(key, 60);
    assert_eq!(h.wheel.live(), 1);
    let mut fired = Vec::new();
    assert_eq!(h.wheel.advance(60, &mut fired), 1);
    assert!(fired.is_empty());
    h.wheel.reschedule(key, 70);
    let waker = h.waker(8);
    assert!(h.wheel.set_waker(key, &waker).is_none());
    assert_eq!(h.advance(70), vec![8]);
}

#[test]
fn set_waker_keeps_an_equivalent_waker_and_replaces_another() {
    let mut h = Harness::new();
    let first = h.waker(1);
    let key = h.wheel.insert(5, &first);
    // The rule: the wheel keeps its waker exactly when `will_wake` says the
    // new one is equivalent, and hands the old one back otherwise. Whether a
    // clone compares equal is `will_wake`'s call, and std makes it only a
    // best effort (clones usually do, under miri they need not), so the
    // test asks `will_wake` rather than assuming its answer.
    if let Some(old) = h.wheel.set_waker(key, &first) {
        assert!(!old.will_wake(&first), "an equivalent waker was replaced");
    }
    let second = h.waker(2);
    let old = h.wheel.set_waker(key, &second);
    assert!(old.is_some(), "another task's waker must replace it");
    assert_eq!(h.advance(5), vec![2]);
}

#[test]
fn random_deadlines_fire_in_order_never_early_never_missed() {
    let mut rng = Lcg(0x5eed);
    let mut h = Harness::new();
    let mut now = 0;
    let mut last_fired = 0;
    let mut pending = 0usize;
    for _ in 0..200 {
        for _ in 0..50 {
            // Mostly near, some far, a few beyond the top level.
            let delay = match rng.below(10) {
                0..=5 => rng.below(200),
                6..=8 => rng.below(20_000_000),
                _ => rng.below(1 << 40),
            };
            h.insert(now + delay, now + delay);
            pending += 1;
        }
        now += rng.below(5_000_000);
        let fired = h.advance(now);
        for &tick in &fired {
            assert!(tick <= now, "fired early: due {tick}, now {now}");
            assert!(
                tick >= last_fired,
                "out of order: {tick} after {last_fired}"
            );
            last_fired = tick;
        }
        pending -= fired.len();
        assert_eq!(h.wheel.live(), pending);
        // Nothing due was left behind.
        if let Some(next) = h.wheel.earliest_tick() {
            assert!(next > now);
        }
    }
    let fired = h.advance(u64::MAX);
    assert_eq!(fired.len(), pending);
    assert!(fired.windows(2).all(|pair| pair[0] <= pair[1]));
}

#[test]
fn random_operations_match_a_simple_model() {
    let mut rng = Lcg(42);
    let mut h = Harness::new();
    let mut now = 0;
    // (id, key, due tick) of every live timer; ids count up.
    let mut model: Vec<(u64, TimerKey, u64)> = Vec::new();
    for id in 0..10_000u64 {
        match rng.below(8) {
            0..=3 => {
                let scale = rng.below(40);
                let tick = now + rng.below(1 << scale);
                model.push((id, h.insert(tick, id), tick));
            }
            4 | 5 if !model.is_empty() => {
                let index = rng.below(model.len() as u64) as usize;
                let (_, key, _) = model.swap_remove(index);
                assert!(h.wheel.remove(key).is_some());
            }
            6 if !model.is_empty() => {
                let index = rng.below(model.len() as u64) as usize;
                // Sometimes into the past: then it is due at once.
                let tick = (now + rng.below(1 << 30)).saturating_sub(1 << 29);
                h.wheel.reschedule(model[index].1, tick);
                model[index].2 = tick.max(now);
            }
            _ => {
                let scale = rng.below(32);
                now += rng.below(1 << scale);
                let fired = h.advance(now);
                let tick_of = |id: &u64| model.iter().find(|t| t.0 == *id).unwrap().2;
                let fired_ticks: Vec<u64> = fired.iter().map(tick_of).collect();
                assert!(fired_ticks.windows(2).all(|pair| pair[0] <= pair[1]));
                let mut due: Vec<u64> = model
                    .iter()
                    .filter(|&&(_, _, tick)| tick <= now)
                    .map(|&(id, _, _)| id)
                    .collect();
                let mut fired_sorted = fired;
                fired_sorted.sort_unstable();
                due.sort_unstable();
                assert_eq!(fired_sorted, due);
                model.retain(|&(_, key, tick)| {
                    if tick <= now {
                        assert!(h.wheel.remove(key).is_none(), "a fired timer has no waker");
                    }
                    tick > now
                });
            }
        }
        assert_eq!(h.wheel.live(), model.len());
        let earliest = model.iter().map(|&(_, _, tick)| tick).min();
        assert_eq!(h.wheel.earliest_tick(), earliest);
        assert!(h.wheel.next_expiration() <= earliest);
    }
}

#[test]
#[cfg(target_pointer_width = "64")]
fn an_entry_takes_24_bytes_in_the_slab_too() {
    /// The shape of a slot of `slab::Slab` (the crate keeps it private).
    enum SlabSlot<T> {
        Vacant(usize),
        Occupied(T),
    }
    let node = Node::entry(0);
    let slots = [
        SlabSlot::Vacant(1),
        SlabSlot::Occupied(Entry {
            tick: 0,
            waker: None,
            links: Links::alone(node),
        }),
    ];
    assert!(matches!(slots[1], SlabSlot::Occupied(_)));
    assert!(matches!(slots[0], SlabSlot::Vacant(1)));
    assert_eq!(std::mem::size_of::<Entry>(), 24);
    assert_eq!(std::mem::size_of_val(&slots[0]), 24);
}

#[test]
#[cfg_attr(miri, ignore = "a million inserts and cancels: hours under miri")]
fn a_million_timers_reuse_the_peak_number_of_slots() {
    const PEAK: usize = 10_000;
    const ROUNDS: usize = 100;
    let mut rng = Lcg(7);
    let mut wheel = Wheel::new();
    // Never woken: every timer is cancelled.
    let waker = Harness::new().waker(0);
    let mut capacity_after_first_round = None;
    for _ in 0..ROUNDS {
        let mut keys: Vec<TimerKey> = (0..PEAK)
            .map(|_| wheel.insert(rng.below(1 << 38), &waker))
            .collect();
        assert_eq!(wheel.live(), PEAK);
        // A freed slot is reused before the slab grows, so no key ever
        // reaches past the peak number of live timers.
        assert!(keys.iter().all(|key| key.0.key() < PEAK));
        // Cancel in a scrambled order.
        while !keys.is_empty() {
            let index = rng.below(keys.len() as u64) as usize;
            wheel.remove(keys.swap_remove(index));
        }
        assert_eq!(wheel.live(), 0);
        assert_eq!(wheel.entries.len(), 0);
        let capacity = wheel.entries.capacity();
        assert_eq!(
            *capacity_after_first_round.get_or_insert(capacity),
            capacity
        );
    }
    assert!(wheel.entries.capacity() < 2 * PEAK);
    assert_eq!(wheel.next_expiration(), None);
}
