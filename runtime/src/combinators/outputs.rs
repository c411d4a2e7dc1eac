//! `InOrder`: outputs that arrive in completion order, handed back in input
//! order.
//!
//! [`FutureSet`](super::future_set::FutureSet) reports each finished future
//! with its index. `join_all`, `try_join_all` and `TaskGroup::join` file the
//! output under that index and, once every future is done, return them as a
//! `Vec` in the order the futures were given (or spawned).

/// Outputs filed by index; a gap means that future has not finished yet.
pub(crate) struct InOrder<T> {
    slots: Vec<Option<T>>,
}

impl<T> InOrder<T> {
    /// Room for `len` outputs; more are made as higher indices arrive.
    pub(crate) fn with_len(len: usize) -> Self {
        InOrder {
            slots: std::iter::repeat_with(|| None).take(len).collect(),
        }
    }

    /// Files the output of future number `index`.
    pub(crate) fn insert(&mut self, index: usize, output: T) {
        if index >= self.slots.len() {
            self.slots.resize_with(index + 1, || None);
        }
        self.slots[index] = Some(output);
    }

    /// Every output, in index order, leaving `self` empty.
    ///
    /// # Panics
    ///
    /// If an index below the highest one has no output: the caller asked
    /// before every future finished, which is a bug in this module.
    pub(crate) fn take_all(&mut self) -> Vec<T> {
        std::mem::take(&mut self.slots)
            .into_iter()
            .map(|output| output.expect("every future finished before its outputs were taken"))
            .collect()
    }
}
