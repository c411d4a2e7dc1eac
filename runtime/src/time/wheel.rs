//! A hierarchical timing wheel: where every timer of a runtime waits.
//!
//! Time is counted in *ticks* of one millisecond since the runtime started
//! (the clock, in `clock.rs`, turns instants into ticks). A timer is an
//! *entry*: the tick it is due at and the waker to wake then. The wheel has
//! six *levels* of 64 *slots*. A slot of level `L` is `64^L` ticks wide, so
//! one turn of level `L` spans `64^(L+1)` ticks:
//!
//! ```text
//!  level  slot width   one turn    slots: 64 lists of entries, plus a u64 bitmap
//!    0      1 ms        64 ms      [ 0][ 1][ 2] ... [63]   bit i of `occupied`
//!    1     64 ms       4.1 s       [ 0][ 1][ 2] ... [63]   is set while slot i
//!    2    4.1 s        4.4 min     [ 0][ 1][ 2] ... [63]   holds an entry
//!    3    4.4 min      4.7 h       [ 0][ 1][ 2] ... [63]
//!    4    4.7 h       12.4 days    [ 0][ 1][ 2] ... [63]
//!    5   12.4 days     2.2 years   [ 0][ 1][ 2] ... [63]
//!  overflow: one list for timers beyond the top level's current turn
//! ```
//!
//! # Where a timer goes
//!
//! Write the timer's tick and `elapsed` (the tick the wheel has been
//! advanced to) as base-64 numbers: one digit per level. The timer goes on
//! the level of the highest digit in which the two differ, into the slot
//! named by the timer's own digit there:
//!
//! ```text
//!                 level:  5   4   3   2   1   0
//!   elapsed  (digits)  [  0 | 0 | 0 | 1 | 10|  5 ]
//!   deadline (digits)  [  0 | 0 | 0 | 1 | 12| 40 ]
//!                                         ^^ highest differing digit:
//!                                            level 1, slot 12
//! ```
//!
//! So every entry on level `L` agrees with `elapsed` on all digits above `L`
//! and is ahead of it on digit `L`: its slot lies ahead of the current
//! position within the *current* turn of that level. Slots never wrap
//! around, the start tick of a slot is known exactly, and the first occupied
//! slot of a level is `occupied.trailing_zeros()`. Every entry of level 0
//! is due before any entry of level 1, and so on up, so the next thing to
//! do is in the first occupied slot of the lowest non-empty level.
//!
//! A tick that already passed is clamped to `elapsed`: it lands in level
//! 0's current slot and fires at the next advance.
//!
//! # Advancing and cascading
//!
//! `advance(now)` repeatedly takes the earliest occupied slot, as long as
//! its start tick is `<= now`, moves `elapsed` to that start and empties the
//! slot. On level 0 every entry of the slot is due: it fires. On a higher
//! level the slot covers a range of ticks; each entry is placed again by the
//! rule above. Since `elapsed` now agrees with it on one more digit, it
//! lands on a lower level (or fires, if it is due right at the slot's
//! start). This is the *cascade*:
//!
//! ```text
//!   elapsed reaches 4096, the start of level 2's slot 1 (ticks 4096..=8191)
//!   level 2 slot 1: [4100, 5000, 8000]
//!         ├─ 4100: differs from 4096 in digit 0 only  → level 0, slot 4
//!         ├─ 5000: differs in digit 1 (5000 = 64*78+8) → level 1, slot 14
//!         └─ 8000: differs in digit 1                  → level 1, slot 61
//! ```
//!
//! An entry cascades at most once per level, so over its life a timer costs
//! O(levels) however far away it was.
//!
//! Timers that differ from `elapsed` above the top digit (about 2.2 years
//! away or more) wait in the *overflow* list, which remembers a lower bound
//! of their ticks. When the wheel reaches the turn of the top level that
//! holds that bound, the whole list is placed again: the ones now in range
//! go into the levels, the rest back into the list (with an exact bound).
//!
//! # Rounding: never early
//!
//! The clock rounds a deadline *up* to the next whole tick, and counts a
//! tick as passed only once the clock has *fully* reached it (rounding
//! `now` down). A timer therefore fires only when `now >= deadline`. It is
//! late by less than one tick from rounding, plus however long the event
//! loop takes to come round (its poll timeout is rounded up to whole
//! milliseconds too, so it does not wake before the tick either).
//!
//! # Memory
//!
//! Entries live in a `slab::Slab`. Each list is circular and doubly linked
//! through a *head* node of its own (one per slot, one for the overflow),
//! and links are node numbers, not pointers:
//!
//! ```text
//!   head(level 1, slot 12) ⇄ entry 7 ⇄ entry 3 ⇄ entry 9 ⇄ (back to the head)
//!   empty list: the head links to itself     unlinked entry: links to itself
//! ```
//!
//! Linking at the tail and unlinking touch only the node and its two
//! neighbours: O(1), no `unsafe`, and no need for an entry to remember which
//! list it is in: when unlinking leaves a node whose two neighbours are the
//! same node, that node is the list's head and the list is now empty, and the
//! head's number tells which slot's occupancy bit to clear. Cancelling removes
//! the entry from the slab at once and its slot is reused by the next insert.
//! The slab's storage keeps its high-water mark (it does not shrink): memory
//! is bounded by the peak number of timers alive at the same time, never by
//! how many were ever created.
//!
//! Every sleeping task owns one entry, so its size is paid once per sleeper
//! (100 000 sleeping tasks hold 100 000 entries). It takes 32 bytes on
//! 64-bit targets, the slab's vacant/occupied tag included:
//!
//! ```text
//!   tick u64 (8) │ waker Option<Waker> (16) │ prev (4) │ next (4)
//! ```
//!
//! Node numbers are `NonZeroU32`s: four bytes, and the zero they never take
//! is where the slab marks a vacant slot, so the tag costs no extra word.
//!
//! An entry that fired leaves its slot's list but stays in the slab until its
//! owner (a `Sleep`) removes it, so a key never points at a reused slot.
//!
//! # Cost
//!
//! | operation                     | cost                                   |
//! |-------------------------------|----------------------------------------|
//! | insert, cancel, reschedule    | O(1)                                   |
//! | next expiration (lower bound) | O(levels): one bitmap look per level   |
//! | exact earliest tick           | O(entries in the earliest slot)        |
//! | advance                       | O(levels + slots visited + entries moved or fired) |
//!
//! Timers due at the same tick fire in the order they were inserted: slot
//! lists are first-in first-out and a cascade keeps their order.

use std::iter;
use std::num::NonZeroU32;
use std::task::Waker;

use slab::Slab;

/// log2 of the number of slots per level.
const SLOT_BITS: u32 = 6;
/// Slots per level: one per bit of the occupancy bitmap.
const SLOTS: usize = 1 << SLOT_BITS;
/// Levels of slots; timers beyond the top level's turn wait in the overflow list.
const LEVELS: usize = 6;
/// Ticks spanned by one turn of the top level: 64^6 = 2^36 (about 2.2 years).
const TOP_TURN_BITS: u32 = SLOT_BITS * LEVELS as u32;
/// One list per slot of every level, and the overflow list.
const LISTS: usize = LEVELS * SLOTS + 1;

/// Names one timer in the wheel; valid until [`Wheel::remove`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimerKey(Node);

/// A node of the lists: a list's head (numbers `1..=LISTS`) or an entry
/// (`LISTS + 1 + slab key`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Node(NonZeroU32);

impl Node {
    fn head(location: Location) -> Self {
        let list = match location {
            Location::Slot { level, slot } => level * SLOTS + slot,
            Location::Overflow => LEVELS * SLOTS,
        };
        Self::number(list)
    }

    /// # Panics
    ///
    /// Beyond about 4.29 billion live timers (over 128 GiB of entries).
    fn entry(key: usize) -> Self {
        Self::number(LISTS + key)
    }

    /// The node numbered `index + 1`.
    fn number(index: usize) -> Self {
        u32::try_from(index + 1)
            .ok()
            .and_then(NonZeroU32::new)
            .map(Node)
            .expect("more than 4 294 966 910 timers alive at once")
    }

    /// `0..LISTS` for a head, `LISTS..` for an entry.
    fn index(self) -> usize {
        // `u32` to `usize` is lossless on the targets mio supports.
        (self.0.get() - 1) as usize
    }

    /// The list this node is the head of, if it is a head.
    fn as_head(self) -> Option<Location> {
        match self.index() {
            list if list < LEVELS * SLOTS => Some(Location::Slot {
                level: list / SLOTS,
                slot: list % SLOTS,
            }),
            list if list < LISTS => Some(Location::Overflow),
            _ => None,
        }
    }

    /// The entry's slab key; `self` is an entry.
    fn key(self) -> usize {
        self.index() - LISTS
    }
}

/// A list: a slot of a level, or the overflow list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Location {
    Slot { level: usize, slot: usize },
    Overflow,
}

/// A node's neighbours in its circular list; a node that is in no list (an
/// empty list's head, an entry that fired) is its own neighbour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Links {
    prev: Node,
    next: Node,
}

impl Links {
    fn alone(node: Node) -> Self {
        Links {
            prev: node,
            next: node,
        }
    }
}

struct Entry {
    /// The tick the timer is due at (clamped to `elapsed` when it was placed).
    tick: u64,
    /// Taken when the timer fires.
    waker: Option<Waker>,
    /// Alone once fired: unlinked, waiting for its owner to remove it.
    links: Links,
}

/// The timers of one runtime, by due tick.
pub(crate) struct Wheel {
    entries: Slab<Entry>,
    /// The lists' heads, by `Node::head`'s numbering.
    heads: [Links; LISTS],
    /// Per level, bit `i` is set while slot `i`'s list is not empty.
    occupied: [u64; LEVELS],
    /// No entry of the overflow list is due before this tick. Cancelling
    /// may leave it lower than the true minimum, which only costs an early
    /// re-placing.
    overflow_bound: u64,
    /// The tick the wheel was last advanced to: everything due at or before
    /// it has fired, and a timer placed since with an earlier tick is clamped
    /// to it.
    elapsed: u64,
    /// Entries linked into a list: registered, not fired, not cancelled.
    linked: usize,
}

/// The level a timer due at `tick` belongs on, seen from `elapsed`, or
/// `None` for the overflow list. `tick >= elapsed`.
fn level_for(elapsed: u64, tick: u64) -> Option<usize> {
    // Setting the low digit's bits makes a timer due right at `elapsed`
    // (no differing digit at all) count as level 0.
    let differing = (elapsed ^ tick) | (SLOTS as u64 - 1);
    let highest_bit = u64::BITS - 1 - differing.leading_zeros();
    let level = (highest_bit / SLOT_BITS) as usize;
    (level < LEVELS).then_some(level)
}

/// The digit of `tick` at `level`: its slot there.
fn slot_for(tick: u64, level: usize) -> usize {
    ((tick >> (SLOT_BITS * level as u32)) as usize) & (SLOTS - 1)
}

/// The first tick of `slot` on `level`, in the turn `elapsed` is in.
fn slot_start(elapsed: u64, level: usize, slot: usize) -> u64 {
    let slot_width_bits = SLOT_BITS * level as u32;
    let turn_bits = slot_width_bits + SLOT_BITS;
    let turn_start = elapsed & !((1u64 << turn_bits) - 1);
    turn_start | ((slot as u64) << slot_width_bits)
}

impl Wheel {
    pub(crate) fn new() -> Self {
        Self {
            entries: Slab::new(),
            heads: std::array::from_fn(|index| Links::alone(Node::number(index))),
            occupied: [0; LEVELS],
            overflow_bound: u64::MAX,
            elapsed: 0,
            linked: 0,
        }
    }

    /// Timers registered and neither fired nor cancelled.
    pub(crate) fn live(&self) -> usize {
        self.linked
    }

    /// Registers a timer due at `tick`.
    pub(crate) fn insert(&mut self, tick: u64, waker: Waker) -> TimerKey {
        let entry = self.entries.vacant_entry();
        let node = Node::entry(entry.key());
        entry.insert(Entry {
            tick,
            waker: Some(waker),
            links: Links::alone(node),
        });
        self.link(node, tick);
        TimerKey(node)
    }

    /// Moves a timer, fired or not, to `tick`; it keeps its waker, if any.
    pub(crate) fn reschedule(&mut self, key: TimerKey, tick: u64) {
        self.unlink(key.0);
        self.link(key.0, tick);
    }

    /// Makes `waker` the one to wake; returns the waker it replaces, for the
    /// caller to drop once it no longer borrows the wheel.
    pub(crate) fn set_waker(&mut self, key: TimerKey, waker: &Waker) -> Option<Waker> {
        let slot = &mut self.entries[key.0.key()].waker;
        match slot {
            Some(current) if current.will_wake(waker) => None,
            _ => slot.replace(waker.clone()),
        }
    }

    /// Cancels the timer (if it has not fired) and frees its slab slot.
    /// Returns its waker, for the caller to drop outside any borrow.
    pub(crate) fn remove(&mut self, key: TimerKey) -> Option<Waker> {
        self.unlink(key.0);
        self.entries.remove(key.0.key()).waker
    }

    /// A tick at or before which the earliest timer is due: exact for a
    /// timer within level 0's turn, otherwise the start of the slot holding
    /// it. `None` when no timer is live. O(levels).
    pub(crate) fn next_expiration(&self) -> Option<u64> {
        self.next_slot().map(|(_, start)| start)
    }

    /// The exact tick of the earliest timer: scans the earliest slot when it
    /// is wider than one tick.
    pub(crate) fn earliest_tick(&self) -> Option<u64> {
        let (location, start) = self.next_slot()?;
        match location {
            Location::Slot { level: 0, .. } => Some(start),
            _ => self
                .entries_in(location)
                .map(|node| self.entries[node.key()].tick)
                .min(),
        }
    }

    /// Fires every timer due at or before `now`, in tick order: their wakers
    /// go to `fired`. Returns how many timers fired (a fired timer has no
    /// waker when it was rescheduled after an earlier firing and not polled
    /// since). A `now` behind the wheel does nothing.
    pub(crate) fn advance(&mut self, now: u64, fired: &mut Vec<Waker>) -> usize {
        if now < self.elapsed {
            return 0;
        }
        let mut count = 0;
        while let Some((location, start)) = self.next_slot() {
            if start > now {
                break;
            }
            self.elapsed = start;
            count += self.empty_slot(location, fired);
        }
        self.elapsed = now;
        count
    }

    /// The earliest non-empty list and the tick it must be looked at.
    fn next_slot(&self) -> Option<(Location, u64)> {
        for (level, &occupied) in self.occupied.iter().enumerate() {
            if occupied != 0 {
                let slot = occupied.trailing_zeros() as usize;
                let start = slot_start(self.elapsed, level, slot);
                return Some((Location::Slot { level, slot }, start));
            }
        }
        let overflow = Node::head(Location::Overflow);
        (self.links(overflow).next != overflow).then(|| {
            let turn_start = self.overflow_bound & !((1u64 << TOP_TURN_BITS) - 1);
            (Location::Overflow, turn_start)
        })
    }

    /// Unlinks every entry of the list at `location`, which is due to be
    /// looked at now (`elapsed` is its start): fires the due ones and places
    /// the others again, lower down.
    fn empty_slot(&mut self, location: Location, fired: &mut Vec<Waker>) -> usize {
        let head = Node::head(location);
        // Detach the whole chain first: entries placed again may go back
        // into this very list (the overflow). The chain's last entry still
        // links forward to the head, which ends the walk.
        let first = self.links(head).next;
        *self.links_mut(head) = Links::alone(head);
        match location {
            Location::Slot { level, slot } => self.occupied[level] &= !(1u64 << slot),
            Location::Overflow => self.overflow_bound = u64::MAX,
        }
        let mut count = 0;
        let mut cursor = first;
        while cursor != head {
            let entry = &mut self.entries[cursor.key()];
            let next = entry.links.next;
            entry.links = Links::alone(cursor);
            self.linked -= 1;
            if entry.tick <= self.elapsed {
                fired.extend(entry.waker.take());
                count += 1;
            } else {
                let tick = entry.tick;
                self.link(cursor, tick);
            }
            cursor = next;
        }
        count
    }

    /// Links the (unlinked) entry `node` at the tail of the list for `tick`.
    fn link(&mut self, node: Node, tick: u64) {
        let tick = tick.max(self.elapsed);
        let location = match level_for(self.elapsed, tick) {
            Some(level) => {
                let slot = slot_for(tick, level);
                self.occupied[level] |= 1u64 << slot;
                Location::Slot { level, slot }
            }
            None => {
                self.overflow_bound = self.overflow_bound.min(tick);
                Location::Overflow
            }
        };
        let head = Node::head(location);
        let tail = self.links(head).prev;
        let entry = &mut self.entries[node.key()];
        entry.tick = tick;
        entry.links = Links {
            prev: tail,
            next: head,
        };
        self.links_mut(tail).next = node;
        self.links_mut(head).prev = node;
        self.linked += 1;
    }

    /// Takes the entry `node` out of its list, if it is in one.
    fn unlink(&mut self, node: Node) {
        let Links { prev, next } = self.links(node);
        if next == node {
            return;
        }
        self.links_mut(prev).next = next;
        self.links_mut(next).prev = prev;
        *self.links_mut(node) = Links::alone(node);
        self.linked -= 1;
        // Neighbours that are one node: the head of a list left empty.
        if prev == next {
            if let Some(Location::Slot { level, slot }) = prev.as_head() {
                self.occupied[level] &= !(1u64 << slot);
            }
        }
    }

    fn links(&self, node: Node) -> Links {
        match node.as_head() {
            Some(_) => self.heads[node.index()],
            None => self.entries[node.key()].links,
        }
    }

    fn links_mut(&mut self, node: Node) -> &mut Links {
        match node.as_head() {
            Some(_) => &mut self.heads[node.index()],
            None => &mut self.entries[node.key()].links,
        }
    }

    /// The entries of the list at `location`, head to tail.
    fn entries_in(&self, location: Location) -> impl Iterator<Item = Node> + '_ {
        let head = Node::head(location);
        iter::successors(Some(self.links(head).next), |&node| {
            Some(self.links(node).next)
        })
        .take_while(move |&node| node != head)
    }
}

#[cfg(test)]
mod tests {
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
            self.wheel.insert(tick, waker)
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
        let key = h.wheel.insert(5, first.clone());
        assert!(h.wheel.set_waker(key, &first).is_none());
        let second = h.waker(2);
        assert!(h.wheel.set_waker(key, &second).is_some());
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
    fn an_entry_takes_32_bytes_in_the_slab_too() {
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
        assert_eq!(std::mem::size_of::<Entry>(), 32);
        assert_eq!(std::mem::size_of_val(&slots[0]), 32);
    }

    #[test]
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
                .map(|_| wheel.insert(rng.below(1 << 38), waker.clone()))
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
}
