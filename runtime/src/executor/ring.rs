//! A first-in first-out ring of small copyable values: the run queue's
//! storage.
//!
//! The run queue pushes one entry per wake and pops one per poll, so these
//! two are on every task switch. A ring whose capacity is a power of two
//! finds a slot with a mask instead of the compare-and-subtract a ring of
//! any capacity needs, and writes an entry in one store:
//!
//! ```text
//!   slots: [ . . c d e . . . ]        capacity 8 (a power of two, or 0)
//!                ▲     ▲
//!              head    head + len  (both taken & (capacity - 1))
//!   push_back: slots[(head + len) & mask] = value; len += 1
//!   pop_front: value = slots[head]; head = (head + 1) & mask; len -= 1
//! ```
//!
//! A push onto a full ring first doubles it, copying the entries to the
//! front of the new slots in queue order. The ring never shrinks: a
//! runtime's queue grows to the largest burst of ready tasks it has seen,
//! like the `VecDeque` it replaces.
//!
//! Slots outside the queued span still hold values (stale entries, or
//! copies of the value whose push grew the ring), so every slot is always
//! initialised and the ring needs no `unsafe`.

/// A growable FIFO ring buffer of `T`; see the module docs.
#[derive(Debug)]
pub(crate) struct Ring<T> {
    /// Its length is 0 or a power of two.
    slots: Box<[T]>,
    /// The slot of the front entry (below the capacity, or 0).
    head: usize,
    len: usize,
}

impl<T: Copy> Ring<T> {
    /// An empty ring; it allocates on its first push.
    pub(crate) fn new() -> Self {
        Self {
            slots: Box::default(),
            head: 0,
            len: 0,
        }
    }

    #[cfg(any(feature = "sim", test))]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Queues `value` at the back.
    #[inline]
    pub(crate) fn push_back(&mut self, value: T) {
        // `>=` rather than `==`: past it the compiler knows `len` is below
        // the capacity, so the masked index needs no bounds check.
        if self.len >= self.slots.len() {
            return self.grow_and_push(value);
        }
        let slot = self.slot(self.len);
        self.slots[slot] = value;
        self.len += 1;
    }

    /// The front value, left in place.
    #[inline]
    pub(crate) fn front(&self) -> Option<T> {
        (self.len != 0).then(|| self.slots[self.head])
    }

    /// Takes the front value.
    #[inline]
    pub(crate) fn pop_front(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        let value = self.slots[self.head];
        self.head = self.slot(1);
        self.len -= 1;
        Some(value)
    }

    /// The `index`-th value from the front (for a seeded choice of the next
    /// task).
    ///
    /// # Panics
    ///
    /// When `index` is not below [`Ring::len`].
    #[cfg(any(feature = "sim", test))]
    pub(crate) fn get(&self, index: usize) -> T {
        assert!(index < self.len, "ring index {index} out of {}", self.len);
        self.slots[self.slot(index)]
    }

    /// Takes out the `index`-th value from the front; the values behind it
    /// move up one place, keeping their order.
    ///
    /// # Panics
    ///
    /// When `index` is not below [`Ring::len`].
    #[cfg(any(feature = "sim", test))]
    pub(crate) fn remove(&mut self, index: usize) -> T {
        let value = self.get(index);
        for i in index..self.len - 1 {
            let (to, from) = (self.slot(i), self.slot(i + 1));
            self.slots[to] = self.slots[from];
        }
        self.len -= 1;
        value
    }

    /// Forgets every value (the slots stay allocated).
    pub(crate) fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }

    /// Where the `index`-th value from the front lives. The capacity is 0
    /// only while the ring is empty, and then no caller asks.
    #[inline]
    fn slot(&self, index: usize) -> usize {
        (self.head + index) & (self.slots.len() - 1)
    }

    /// Doubles the capacity of a full ring (or gives an empty one its
    /// first slots), moving the values to the front in queue order, then
    /// queues `value`. Out of line, so that the common push keeps nothing
    /// in registers across a call.
    #[cold]
    #[inline(never)]
    fn grow_and_push(&mut self, value: T) {
        let capacity = (self.slots.len() * 2).max(8);
        // Every slot must hold a value: the new ones start as `value`.
        let mut slots = vec![value; capacity].into_boxed_slice();
        for (i, slot) in slots.iter_mut().take(self.len).enumerate() {
            *slot = self.slots[self.slot(i)];
        }
        self.slots = slots;
        self.head = 0;
        self.len += 1;
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::collections::VecDeque;

    use super::Ring;

    /// Drives a ring and a `VecDeque` with the same pushes and pops.
    fn check_against_vec_deque(ops: impl IntoIterator<Item = Option<u32>>) {
        let mut ring = Ring::new();
        let mut model = VecDeque::new();
        for op in ops {
            match op {
                Some(value) => {
                    ring.push_back(value);
                    model.push_back(value);
                }
                None => assert_eq!(ring.pop_front(), model.pop_front()),
            }
            assert_eq!(ring.len(), model.len());
            assert_eq!(ring.is_empty(), model.is_empty());
        }
        while let Some(value) = model.pop_front() {
            assert_eq!(ring.pop_front(), Some(value));
        }
        assert_eq!(ring.pop_front(), None);
    }

    #[test]
    fn an_empty_ring_pops_nothing() {
        let mut ring = Ring::<u32>::new();
        assert!(ring.is_empty());
        assert_eq!(ring.pop_front(), None);
    }

    #[test]
    fn values_come_out_in_the_order_they_went_in_across_growth() {
        check_against_vec_deque((0..100).map(Some));
    }

    #[test]
    fn a_ring_that_wrapped_grows_in_queue_order() {
        // Pop a few so the head moves, refill past the capacity: the
        // queued span wraps around the end of the slots when it grows.
        let ops = (0..6)
            .map(Some)
            .chain([None, None, None, None])
            .chain((6..30).map(Some))
            .chain((0..10).map(|_| None))
            .chain((30..60).map(Some));
        check_against_vec_deque(ops);
    }

    #[test]
    fn remove_keeps_the_order_of_the_rest() {
        let mut ring = Ring::new();
        for value in 0..8 {
            ring.push_back(value);
        }
        // Wrap the span: the head moves to slot 3, the back into slot 2.
        for _ in 0..3 {
            ring.pop_front();
        }
        for value in 8..11 {
            ring.push_back(value);
        }
        assert_eq!(ring.remove(2), 5);
        assert_eq!(ring.get(0), 3);
        let rest: Vec<u32> = std::iter::from_fn(|| ring.pop_front()).collect();
        assert_eq!(rest, [3, 4, 6, 7, 8, 9, 10]);
    }

    #[test]
    fn clear_empties_the_ring() {
        let mut ring = Ring::new();
        ring.push_back(1);
        ring.push_back(2);
        ring.clear();
        assert!(ring.is_empty());
        assert_eq!(ring.pop_front(), None);
        ring.push_back(3);
        assert_eq!(ring.pop_front(), Some(3));
    }
}
