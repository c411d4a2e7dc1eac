//! A task's id, and what run queues hold.
//!
//! A spawned task is one heap allocation (see `task_block.rs`); its
//! thread-safe part is a small header with a reference count and the wake
//! flags. Run queues hold a [`TaskRef`]: the task's slot in the runtime's
//! slab and the low half of its id, two `u32`s. Queuing a task therefore
//! touches no reference count, and a wake that arrives after the task ended
//! (its slot maybe reused by another task) is recognised by the id and
//! ignored.
//!
//! Eight bytes rather than sixteen, because a run queue can hold every task
//! at once: 100 000 tasks spawned in a row are 100 000 entries. Two tasks
//! that share a slot and the low 32 bits of their ids are 2^32 spawns
//! apart; should a stale entry ever meet such a task, the wake flags still
//! decide (see `wake_flags.rs`): the entry polls (or drops) that task only
//! if a wake (or an abort) of its own is pending, as the task's own entry
//! would, and that entry then finds nothing left to do. So the check saves
//! work, and correctness never rests on it.

use std::fmt;
use std::num::NonZeroU64;

/// A task's id, unique within its runtime and never reused.
///
/// ```
/// weft_runtime::run(async {
///     let a = weft_runtime::spawn(async {});
///     let b = weft_runtime::spawn(async {});
///     assert_ne!(a.id(), b.id());
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(pub(crate) NonZeroU64);

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The slab key of `block_on`'s own future, which is not stored in the
/// slab; spawned tasks' keys stay below it.
pub(crate) const MAIN_KEY: u32 = u32::MAX;

/// What a run queue holds: which slot to poll, and which task must be in it
/// (by the low half of its id: see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TaskRef {
    key: u32,
    id_low: u32,
}

impl TaskRef {
    pub(crate) fn new(key: u32, id: TaskId) -> Self {
        Self {
            key,
            // Truncation intended: the low half is what the entry keeps.
            id_low: id.0.get() as u32,
        }
    }

    /// The task's slot in the runtime's slab, or [`MAIN_KEY`].
    pub(crate) fn key(self) -> u32 {
        self.key
    }

    /// Whether the task `id` is (as far as 32 bits tell) the one this entry
    /// was queued for.
    pub(crate) fn is_for(self, id: TaskId) -> bool {
        self.id_low == id.0.get() as u32
    }

    /// The low 32 bits of the task's id: its id for any run of fewer than
    /// 2^32 tasks (trace events name tasks by it).
    #[cfg(feature = "sim")]
    pub(crate) fn id_bits(self) -> u64 {
        u64::from(self.id_low)
    }

    /// The entry as one number: slot and id bits, which tell apart every
    /// task alive at the same time (a seeded chooser keys tasks by it).
    #[cfg(feature = "sim")]
    pub(crate) fn packed(self) -> u64 {
        (u64::from(self.key) << 32) | u64::from(self.id_low)
    }
}
