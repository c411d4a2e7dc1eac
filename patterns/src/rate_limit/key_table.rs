//! [`KeyTable`]: the keyed limiter's map from key to limiter, bounded, with
//! idle keys swept out a few per call by a clock hand.
//!
//! # Algorithm
//!
//! Keys live in a `HashMap` (std's randomly seeded SipHash, so an attacker
//! cannot pick keys that collide) and, each exactly once, in a ring that a
//! *clock hand* walks — the CLOCK approximation of least-recently-used that
//! page caches use:
//!
//! ```text
//!   ring (hand at the front)          each key: its value + a "referenced" bit
//!   ┌────┬────┬────┬────┬────┐
//!   │ k3 │ k7 │ k1 │ k9 │ k4 │ ◀── new keys join at the back
//!   └────┴────┴────┴────┴────┘
//!     ▲ the hand inspects the front key and
//!       referenced → clear the bit, send it to the back (a second chance)
//!       idle       → evict it
//!       otherwise  → send it to the back
//! ```
//!
//! Every lookup marks its key referenced and then moves the hand
//! [`SWEEP_PER_CALL`] steps, so eviction costs O(1) per call, never a scan
//! of the table, and a key left idle is evicted within about two turns of
//! the hand.
//!
//! A key is *idle* when nothing holds its value but the table (no request
//! is using or waiting on it; the `Arc`'s count says so, and new holders
//! are only made under the table's lock) and the caller's predicate agrees
//! (for limiters: the policy is at rest). Keys that are not idle are never
//! evicted, whatever the pressure.
//!
//! # The cap
//!
//! The table holds at most `max_keys` keys. A new key arriving at the cap
//! moves the hand up to [`SCAN_WHEN_FULL`] steps, evicting the first idle
//! key it meets (referenced or not); if none of those is idle the new key is
//! refused and the table is unchanged. Those steps rotate the ring, so
//! successive refusals inspect successive keys: an idle key anywhere is
//! found within `max_keys / SCAN_WHEN_FULL` arrivals.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::mem;
use std::sync::Arc;

/// Steps of the clock hand on every lookup.
pub(crate) const SWEEP_PER_CALL: usize = 2;
/// Steps of the clock hand, at most, to make room for a new key at the cap.
pub(crate) const SCAN_WHEN_FULL: usize = 8;

/// A bounded map from keys to shared values with incremental eviction of
/// idle entries; see the [module docs](self).
pub(crate) struct KeyTable<K, V> {
    slots: HashMap<K, Slot<V>>,
    /// Every key of `slots` exactly once; the hand is at the front.
    ring: VecDeque<K>,
    max_keys: usize,
    /// Keys evicted so far.
    evicted: u64,
    /// New keys refused at the cap so far.
    refused: u64,
}

struct Slot<V> {
    value: Arc<V>,
    /// Looked up since the hand last passed.
    referenced: bool,
}

impl<K: Hash + Eq + Clone, V> KeyTable<K, V> {
    pub(crate) fn new(max_keys: usize) -> Self {
        Self {
            slots: HashMap::new(),
            ring: VecDeque::new(),
            max_keys,
            evicted: 0,
            refused: 0,
        }
    }

    /// The value for `key`, made with `make` if the key is new; `None` if it
    /// is new and there is no room (see [the cap](self#the-cap)). Either way
    /// the hand then sweeps a little, with `is_idle` deciding which values
    /// may go.
    pub(crate) fn get_or_insert(
        &mut self,
        key: &K,
        make: impl FnOnce() -> V,
        is_idle: impl Fn(&V) -> bool,
    ) -> Option<Arc<V>> {
        let value = match self.slots.get_mut(key) {
            Some(slot) => {
                slot.referenced = true;
                Arc::clone(&slot.value)
            }
            None => {
                if self.slots.len() >= self.max_keys && !self.make_room(&is_idle) {
                    self.refused += 1;
                    return None;
                }
                let value = Arc::new(make());
                let slot = Slot {
                    value: Arc::clone(&value),
                    referenced: true,
                };
                self.slots.insert(key.clone(), slot);
                self.ring.push_back(key.clone());
                value
            }
        };
        // `value` is held here, so the sweep cannot evict the key just used.
        for _ in 0..SWEEP_PER_CALL {
            self.step(true, &is_idle);
        }
        Some(value)
    }

    /// Evicts every idle key now, in one pass over the table: O(number of
    /// keys). Returns how many went.
    pub(crate) fn evict_all_idle(&mut self, is_idle: impl Fn(&V) -> bool) -> usize {
        let before = self.slots.len();
        self.slots.retain(|_, slot| !is_evictable(slot, &is_idle));
        let slots = &self.slots;
        self.ring.retain(|key| slots.contains_key(key));
        let evicted = before - self.slots.len();
        self.evicted += evicted as u64;
        evicted
    }

    pub(crate) fn contains_key(&self, key: &K) -> bool {
        self.slots.contains_key(key)
    }

    /// Moves the hand until it evicts an idle key, at most
    /// [`SCAN_WHEN_FULL`] steps, ignoring second chances.
    fn make_room(&mut self, is_idle: &impl Fn(&V) -> bool) -> bool {
        (0..SCAN_WHEN_FULL).any(|_| self.step(false, is_idle))
    }

    /// One step of the hand; true if it evicted the key it inspected.
    fn step(&mut self, second_chance: bool, is_idle: &impl Fn(&V) -> bool) -> bool {
        let Some(key) = self.ring.pop_front() else {
            return false;
        };
        let slot = self
            .slots
            .get_mut(&key)
            .expect("the ring and the map hold the same keys");
        let spared = second_chance && mem::take(&mut slot.referenced);
        if !spared && is_evictable(slot, is_idle) {
            self.slots.remove(&key);
            self.evicted += 1;
            true
        } else {
            self.ring.push_back(key);
            false
        }
    }
}

impl<K, V> KeyTable<K, V> {
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    pub(crate) fn max_keys(&self) -> usize {
        self.max_keys
    }

    pub(crate) fn evicted(&self) -> u64 {
        self.evicted
    }

    pub(crate) fn refused(&self) -> u64 {
        self.refused
    }
}

/// Nobody but the table holds the value, and the predicate calls it idle.
fn is_evictable<V>(slot: &Slot<V>, is_idle: &impl Fn(&V) -> bool) -> bool {
    Arc::strong_count(&slot.value) == 1 && is_idle(&slot.value)
}
