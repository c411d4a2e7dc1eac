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
//! (100 000 sleeping tasks hold 100 000 entries). It takes 24 bytes on
//! 64-bit targets, the slab's vacant/occupied tag included:
//!
//! ```text
//!   tick u64 (8) │ waker Option<StoredWaker> (8) │ prev (4) │ next (4)
//! ```
//!
//! The waker is kept in one word (`executor/stored_waker.rs`: a task's own
//! waker as its task pointer, any other waker boxed) and handed back as a
//! `Waker` when it fires.
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

use crate::executor::stored_waker::StoredWaker;

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
    waker: Option<StoredWaker>,
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
    pub(crate) fn insert(&mut self, tick: u64, waker: &Waker) -> TimerKey {
        let entry = self.entries.vacant_entry();
        let node = Node::entry(entry.key());
        entry.insert(Entry {
            tick,
            waker: Some(StoredWaker::new(waker)),
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
    pub(crate) fn set_waker(&mut self, key: TimerKey, waker: &Waker) -> Option<StoredWaker> {
        let slot = &mut self.entries[key.0.key()].waker;
        match slot {
            Some(current) if current.will_wake(waker) => None,
            _ => slot.replace(StoredWaker::new(waker)),
        }
    }

    /// Whether the timer has fired (and was not rescheduled since): it is
    /// then in no list.
    pub(crate) fn has_fired(&self, key: TimerKey) -> bool {
        self.entries[key.0.key()].links.next == key.0
    }

    /// Cancels the timer (if it has not fired) and frees its slab slot.
    /// Returns its waker, for the caller to drop outside any borrow.
    pub(crate) fn remove(&mut self, key: TimerKey) -> Option<StoredWaker> {
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
                fired.extend(entry.waker.take().map(StoredWaker::into_waker));
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
mod tests;
